// End-to-end test of the console in a real browser: spawns `anfang demo` on a free port, then drives Debian's
// Chromium through playwright-core (no Playwright browser download) as the district admin, a community police
// officer and a property manager (who also watches the access records and the booth calls). Run from console/: `ANFANG_BIN=../target/debug/anfang npm run e2e`.
// Env: ANFANG_BIN (the server binary, default ../target/debug/anfang), CHROMIUM (default /usr/bin/chromium),
// E2E_ARTIFACTS (a folder for screenshots; none are taken when unset).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { existsSync, mkdirSync, mkdtempSync, rmSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { dirname, join, resolve } from 'node:path'
import { fileURLToPath } from 'node:url'
import { chromium } from 'playwright-core'

const CONSOLE_DIR = resolve(dirname(fileURLToPath(import.meta.url)), '..')
const BIN = resolve(CONSOLE_DIR, process.env.ANFANG_BIN || '../target/debug/anfang')
const CHROMIUM = process.env.CHROMIUM || '/usr/bin/chromium'
const ARTIFACTS = process.env.E2E_ARTIFACTS ? resolve(process.env.E2E_ARTIFACTS) : null
const STARTUP_TIMEOUT_MS = 120_000
/** How long one expectation waits for the page (the debug server answers list calls in well under a second). */
const UI_TIMEOUT_MS = 15_000
/** How long to wait for the demo's simulated door terminals to produce access records (they present cards every few seconds). */
const ACCESS_TIMEOUT_MS = 60_000

const PM_USER = 'pm-370323001001001'
const POLICE_USER = 'police-370323001'
/** A masked ID number as the server sends it: region prefix, eight stars, last four. */
const MASKED_ID = /^\d{6}\*{8}[0-9Xx]{4}$/
/** A full 18-character resident ID number. */
const FULL_ID = /^\d{17}[0-9Xx]$/

// ---------------------------------------------------------------------------------------------------------------
// The server

/**
 * The server's environment: ours without ANFANG_BIN, since the server reads every `ANFANG_*` variable as
 * configuration and refuses to start on an unknown key (`unknown field: found \`bin\``).
 */
function serverEnv() {
  /** @type {NodeJS.ProcessEnv} */
  const env = { ...process.env, NO_COLOR: '1' }
  delete env.ANFANG_BIN
  return env
}

/**
 * Spawns `anfang demo` on port 0 in a fresh data dir and resolves once it printed its URL and the passwords.
 * @returns {Promise<{ proc: import('node:child_process').ChildProcess, dataDir: string, url: string,
 *   passwords: Record<string, string>, output: () => string }>}
 */
function startServer() {
  if (!existsSync(BIN)) {
    throw new Error(`server binary not found at ${BIN}: build it (cargo build -p anfang) or set ANFANG_BIN`)
  }
  const dataDir = mkdtempSync(join(tmpdir(), 'anfang-e2e-'))
  const proc = spawn(BIN, ['demo', '--data-dir', dataDir, '--listen', '127.0.0.1:0'], {
    cwd: dataDir,
    stdio: ['ignore', 'pipe', 'pipe'],
    env: serverEnv(),
  })
  let stdout = ''
  let stderr = ''
  const output = () => `--- stdout ---\n${stdout}\n--- stderr (last 4000 chars) ---\n${stderr.slice(-4000)}`

  return new Promise((resolvePromise, reject) => {
    const timer = setTimeout(() => {
      fail(new Error(`anfang demo did not print its URL and passwords within ${STARTUP_TIMEOUT_MS / 1000} s`))
    }, STARTUP_TIMEOUT_MS)

    function fail(err) {
      clearTimeout(timer)
      proc.kill('SIGKILL')
      rmSync(dataDir, { recursive: true, force: true })
      err.message += `\n${output()}`
      reject(err)
    }

    function parse() {
      const url = /Anfang demo at (http:\/\/\S+?)\/?\s/.exec(stdout)?.[1]
      const admin = /^admin password: (\S+)/m.exec(stdout)?.[1]
      const passwords = {}
      for (const m of stdout.matchAll(/^demo user (\S+) password: (\S+)/gm)) passwords[m[1]] = m[2]
      if (url && admin && passwords[PM_USER] && passwords[POLICE_USER]) {
        clearTimeout(timer)
        proc.stdout.removeListener('data', onStdout)
        // keep draining both pipes so the server never blocks on a full pipe
        proc.stdout.on('data', (chunk) => (stdout += chunk))
        resolvePromise({ proc, dataDir, url: `${url}/`, passwords: { admin, ...passwords }, output })
      }
    }

    function onStdout(chunk) {
      stdout += chunk
      parse()
    }

    proc.stdout.setEncoding('utf8')
    proc.stderr.setEncoding('utf8')
    proc.stdout.on('data', onStdout)
    proc.stderr.on('data', (chunk) => (stderr += chunk))
    proc.once('error', fail)
    proc.once('exit', (code, signal) => fail(new Error(`anfang demo exited early (code ${code}, signal ${signal})`)))
  })
}

/** Stops the server (SIGTERM, then SIGKILL after 5 s) and removes its data dir. */
async function stopServer(server) {
  if (!server) return
  const { proc, dataDir } = server
  proc.removeAllListeners('exit')
  if (proc.exitCode === null && proc.signalCode === null) {
    const exited = new Promise((r) => proc.once('exit', r))
    proc.kill('SIGTERM')
    const timer = setTimeout(() => proc.kill('SIGKILL'), 5_000)
    await exited
    clearTimeout(timer)
  }
  rmSync(dataDir, { recursive: true, force: true })
}

// ---------------------------------------------------------------------------------------------------------------
// Page helpers

/** Text content with all whitespace removed (Element Plus may space out two-character button labels). */
const compact = (s) => (s ?? '').replace(/\s+/g, '')

/** Waits until `fn()` (sync or async) returns a truthy value; returns it. */
async function until(what, fn, timeout = UI_TIMEOUT_MS) {
  const deadline = Date.now() + timeout
  let last
  for (;;) {
    try {
      last = await fn()
      if (last) return last
    } catch (e) {
      last = e
    }
    if (Date.now() > deadline) assert.fail(`timed out after ${timeout} ms waiting for ${what} (last: ${String(last)})`)
    await new Promise((r) => setTimeout(r, 100))
  }
}

/** The cell texts of the visible body rows of the el-table with this data-testid (an empty table gives []). */
async function tableRows(page, testid) {
  const table = page.getByTestId(testid)
  await table.waitFor({ state: 'visible', timeout: UI_TIMEOUT_MS })
  // wait for el-table's v-loading mask to go
  await until(`${testid} to finish loading`, async () => (await table.locator('.el-loading-mask').count()) === 0)
  return table.locator('.el-table__body-wrapper tbody tr.el-table__row').evaluateAll((rows) =>
    rows.map((tr) => [...tr.querySelectorAll('td')].map((td) => (td.textContent ?? '').trim())),
  )
}

async function screenshot(page, name) {
  if (!ARTIFACTS) return
  mkdirSync(ARTIFACTS, { recursive: true })
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`), fullPage: true })
}

/** Fills the login form and submits it (the page must show the login form). */
async function submitLogin(page, username, password) {
  await page.getByTestId('login-username').fill(username)
  await page.getByTestId('login-password').fill(password)
  await page.getByTestId('login-submit').click()
}

/** Logs in from the login page and waits for the overview. */
async function login(page, username, password) {
  await page.getByTestId('login-submit').waitFor({ timeout: UI_TIMEOUT_MS })
  await submitLogin(page, username, password)
  await page.waitForURL(/\/overview$/, { timeout: UI_TIMEOUT_MS })
  await page.getByTestId('overview').waitFor({ timeout: UI_TIMEOUT_MS })
  await until(`header user for ${username}`, async () => compact(await page.getByTestId('header-user').textContent()))
}

/** Logs out through the header button and waits for the login page. */
async function logout(page) {
  await page.getByTestId('logout').click()
  await page.waitForURL(/\/login/, { timeout: UI_TIMEOUT_MS })
  await page.getByTestId('login-submit').waitFor({ timeout: UI_TIMEOUT_MS })
  const token = await page.evaluate(() => localStorage.getItem('anfang.token'))
  assert.equal(token, null, 'logout leaves no token in localStorage')
}

/** Opens a menu entry and waits for its route. */
async function openMenu(page, key) {
  await page.getByTestId(`menu-${key}`).click()
  await page.waitForURL(new RegExp(`/${key}$`), { timeout: UI_TIMEOUT_MS })
}

// ---------------------------------------------------------------------------------------------------------------
// The test

describe('Anfang console in Chromium', { timeout: 300_000 }, () => {
  /** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
  let server
  /** @type {import('playwright-core').Browser | undefined} */
  let browser
  /** @type {import('playwright-core').Page} */
  let page
  const pageErrors = []

  // Whatever happens (a failed before, an interrupted run), the server does not outlive the test process.
  const killOnExit = () => server?.proc.kill('SIGKILL')
  process.once('exit', killOnExit)

  before(async () => {
    server = await startServer()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: [
        '--no-sandbox',
        '--disable-gpu',
        '--disable-quic',
        '--no-first-run',
        '--disable-background-networking',
        '--disable-component-update',
        '--disable-sync',
      ],
    })
    const context = await browser.newContext({
      baseURL: server.url,
      locale: 'zh-CN',
      viewport: { width: 1440, height: 900 },
    })
    context.setDefaultTimeout(UI_TIMEOUT_MS)
    page = await context.newPage()
    page.on('pageerror', (err) => pageErrors.push(err))
  })

  after(async () => {
    try {
      await browser?.close()
    } finally {
      await stopServer(server)
      process.removeListener('exit', killOnExit)
    }
  })

  test('the login page is shown in Chinese and rejects a wrong password', async () => {
    await page.goto(server.url)
    await page.waitForURL(/\/login/)
    await page.getByTestId('login-submit').waitFor()
    assert.equal(await page.evaluate(() => document.documentElement.lang), 'zh-CN')
    assert.equal(compact(await page.locator('.login-head h1').textContent()), '安防社区管理平台')
    assert.equal(compact(await page.getByTestId('login-submit').textContent()), '登录')
    assert.match(await page.title(), /安防社区管理平台/)
    await screenshot(page, '01-login')

    await submitLogin(page, 'admin', 'admin')
    const error = page.getByTestId('login-error')
    await error.waitFor()
    assert.ok(compact(await error.textContent()).length > 0, 'the login error has a text')
    assert.match(page.url(), /\/login/, 'a failed login stays on the login page')
    assert.equal(await page.getByTestId('login-password').inputValue(), '', 'the password field is cleared')
    assert.equal(await page.evaluate(() => localStorage.getItem('anfang.token')), null)
    await screenshot(page, '02-login-error')
  })

  test('the district admin sees the overview counts', async () => {
    await login(page, 'admin', server.passwords.admin)
    assert.equal(compact(await page.getByTestId('header-user').textContent()), '系统管理员')
    assert.equal(compact(await page.getByTestId('header-role').textContent()), '区级管理员')
    const communities = page.getByTestId('overview-count-communities')
    // Yiyuan's 16 annex communities and Zhangdian's 475 synthetic ones (the programme's second district)
    await until('communities count = 491', async () => compact(await communities.textContent()) === '491')
    for (const key of ['houses', 'persons', 'devices']) {
      const count = page.getByTestId(`overview-count-${key}`)
      const text = await until(`${key} count`, async () => {
        const t = compact(await count.textContent())
        return /^\d+$/.test(t) ? t : null
      })
      assert.ok(Number(text) > 0, `${key} count ${text} > 0`)
    }
    // the persons count is in the demo's ballpark (~4,500)
    const persons = Number(compact(await page.getByTestId('overview-count-persons').textContent()))
    assert.ok(persons > 3000 && persons < 6000, `persons count ${persons}`)
    await page.waitForLoadState('networkidle')
    await screenshot(page, 'overview')
  })

  test('the district admin sees masked ID numbers and cannot reveal them', async () => {
    await openMenu(page, 'persons')
    const rows = await until('persons rows', () => tableRows(page, 'persons-table').then((r) => (r.length ? r : null)))
    const ids = rows.map((cells) => cells.find((c) => c.includes('********')))
    assert.ok(ids.every(Boolean), `every row shows a masked ID number: ${JSON.stringify(rows[0])}`)
    for (const id of ids) assert.match(id, MASKED_ID)
    await screenshot(page, '03-persons-admin')

    await page.getByTestId('person-open').first().click()
    const drawer = page.getByTestId('person-detail-drawer')
    const idNumber = drawer.getByTestId('person-detail-id_number')
    await idNumber.waitFor()
    assert.match(compact(await idNumber.textContent()), MASKED_ID)
    assert.equal(await page.getByTestId('person-reveal').count(), 0, 'district_admin has no reveal button')
    await page.keyboard.press('Escape')
    await idNumber.waitFor({ state: 'hidden' })
  })

  test('the district dashboard charts show what the programme API returns', async () => {
    await openMenu(page, 'programme')
    /** The options of the chart with this data-testid, once it has data. */
    const chartOption = (testid) =>
      until(`${testid} drawn`, () =>
        page.getByTestId(testid).evaluate((el) => {
          const option = el.__chart?.getOption()
          return option && option.series?.length ? JSON.parse(JSON.stringify(option)) : null
        }),
      )
    const api = (path) =>
      page.evaluate(async (p) => {
        const res = await fetch(`/api/v1${p}`, { headers: { Authorization: `Bearer ${localStorage.getItem('anfang.token')}` } })
        if (!res.ok) throw new Error(`${p}: ${res.status}`)
        return res.json()
      }, path)
    // The dashboard opens on the first district the caller sees.
    const district = (await api('/programme/districts')).items[0].code
    await until(`district ${district} selected`, async () =>
      compact(await page.getByTestId('programme-district').textContent()).includes(district),
    )
    const summary = await api(`/programme/summary?district=${district}`)
    const progress = (await api(`/programme/progress?district=${district}`)).items
    assert.ok(summary.communities > 0, `the demo district ${district} has communities`)

    // Stages: one bar per stage present, in order, with the API's counts.
    const stages = await chartOption('chart-stages')
    const order = ['planned', 'designed', 'tendered', 'under_construction', 'self_checked', 'acceptance_requested', 'accepted', 'networked', 'none']
    const present = order.filter((s) => summary.by_stage[s] !== undefined)
    assert.deepEqual(stages.series[0].data, present.map((s) => summary.by_stage[s]))
    assert.equal(stages.series[0].data.reduce((a, b) => a + b, 0), summary.communities)

    // Coverage by year: the stated target, the reached rate and the sum of the parts of the district's rows.
    const coverage = await chartOption('chart-coverage')
    const built = progress.filter((r) => r.level === 'district' && r.segment === 'all' && r.metric === 'built')
    const years = coverage.xAxis[0].data
    assert.ok(years.length > 0, 'some target years')
    for (const [i, y] of years.entries()) {
      const row = built.find((r) => String(r.year) === y)
      if (!row) continue
      assert.equal(coverage.series[0].data[i], row.target_pct, `target ${y}`)
      assert.equal(coverage.series[1].data[i], row.reached_pct, `reached ${y}`)
      assert.equal(coverage.series[2].data[i], row.sum_of_parts_pct, `sum of the parts ${y}`)
    }

    // Devices: installed / networked / active per class.
    const devices = await chartOption('chart-devices')
    const classes = ['access', 'vehicle', 'capture', 'video', 'alarm', 'patrol', 'booth'].filter((c) => summary.devices[c])
    for (const [i, key] of ['installed', 'networked', 'active'].entries()) {
      assert.deepEqual(devices.series[i].data, classes.map((c) => summary.devices[c][key]), key)
    }
    // Categories: the pie's values add up to the district's communities.
    const categories = await chartOption('chart-categories')
    assert.equal(categories.series[0].data.reduce((a, d) => a + d.value, 0), summary.communities)
    const kpi = compact(await page.getByTestId('programme-kpi-communities').textContent())
    assert.ok(kpi.endsWith(String(summary.communities)), `communities KPI ${kpi}`)
    await page.waitForLoadState('networkidle')
    await screenshot(page, 'programme-dashboard')

    // The KPI links to the task table behind it, whose rows are the API's.
    await page.getByTestId('programme-kpi-communities').click()
    await page.waitForURL(/\/programme-tasks/)
    const rows = await until('task rows', () => tableRows(page, 'tasks-table').then((r) => (r.length ? r : null)))
    const tasks = (await api(`/programme/tasks?district=${district}`)).items
    assert.equal(
      compact(await page.getByTestId('tasks-count').textContent()),
      `显示${tasks.length}个，共${tasks.length}个`,
    )
    assert.equal(rows[0][1], tasks[0].community)
    await screenshot(page, 'programme-tasks')
  })

  test('a community police officer logs in', async () => {
    await logout(page)
    await login(page, POLICE_USER, server.passwords[POLICE_USER])
    assert.equal(compact(await page.getByTestId('header-role').textContent()), '社区民警')
    // the street's communities only: 10 of the demo's 16 lie in 历山街道
    const communities = await until('communities count', async () => {
      const t = compact(await page.getByTestId('overview-count-communities').textContent())
      return /^\d+$/.test(t) ? Number(t) : null
    })
    assert.ok(communities > 0 && communities < 16, `communities in the street: ${communities}`)
    await screenshot(page, 'overview-police')
  })

  // /auth/me answers scopes as { kind, target } (ScopeDto in openapi.json): the tag shows the kind and the code.
  test('the overview names the officer\'s scope (街道 370323001)', async () => {
    const scopes = compact(await page.getByTestId('overview-scopes').textContent())
    assert.match(scopes, /街道370323001/)
  })

  test('a community police officer reveals a full ID number', async () => {
    await openMenu(page, 'persons')
    const rows = await until('persons rows', () => tableRows(page, 'persons-table').then((r) => (r.length ? r : null)))
    for (const cells of rows) assert.ok(cells.some((c) => MASKED_ID.test(c)), `masked ID in ${JSON.stringify(cells)}`)

    await page.getByTestId('person-open').first().click()
    const idNumber = page.getByTestId('person-detail-id_number')
    await idNumber.waitFor()
    const masked = compact(await idNumber.textContent())
    assert.match(masked, MASKED_ID)

    await page.getByTestId('person-reveal').click()
    await page.getByTestId('person-reveal-note').waitFor()
    const full = await until('the full ID number', async () => {
      const t = compact(await idNumber.textContent())
      return FULL_ID.test(t) ? t : null
    })
    assert.equal(full.length, 18)
    assert.equal(full.slice(0, 6), masked.slice(0, 6), 'same region prefix')
    assert.equal(full.slice(-4), masked.slice(-4), 'same last four')
    assert.equal(await page.getByTestId('person-reveal').count(), 0, 'the reveal button gives way to the note')
    await screenshot(page, '04-person-revealed')
    await page.keyboard.press('Escape')
    await idNumber.waitFor({ state: 'hidden' })
  })

  test('a property manager sees only their own community', async () => {
    await logout(page)
    await login(page, PM_USER, server.passwords[PM_USER])
    assert.equal(compact(await page.getByTestId('header-role').textContent()), '物业经理')
    await until('communities count = 1', async () =>
      compact(await page.getByTestId('overview-count-communities').textContent()) === '1',
    )
    await openMenu(page, 'communities')
    const rows = await until('communities rows', () =>
      tableRows(page, 'communities-table').then((r) => (r.length ? r : null)),
    )
    assert.equal(rows.length, 1, `one community: ${JSON.stringify(rows)}`)
    assert.ok(rows[0].includes('370323001001001'), `code in ${JSON.stringify(rows[0])}`)
    assert.ok(rows[0].includes('翡翠山景小区'), `name in ${JSON.stringify(rows[0])}`)
    assert.match(compact(await page.getByTestId('communities-pagination').textContent()), /共1条/)
    await screenshot(page, '05-communities-pm')
  })

  test('the property manager sees access records arrive, outcomes as green or red tags', async () => {
    await openMenu(page, 'access-records')
    // no reload here: the page's 5 s auto-refresh brings the simulated terminals' records in; community names
    // show once the directory has loaded (`#id` until then)
    const rows = await until(
      'access records rows',
      () => tableRows(page, 'access-records-table').then((r) => (r.length && !r[0][1].startsWith('#') ? r : null)),
      ACCESS_TIMEOUT_MS,
    )
    assert.ok(rows.length >= 1, `access records: ${JSON.stringify(rows)}`)
    for (const cells of rows) {
      assert.match(cells[0], /^\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}$/, `local time in ${JSON.stringify(cells)}`)
      assert.equal(cells[1], '翡翠山景小区', `the manager's community in ${JSON.stringify(cells)}`)
    }
    const tags = page.getByTestId('access-records-table').getByTestId('access-record-outcome')
    const outcomes = await tags.evaluateAll((els) =>
      els.map((el) => ({ text: (el.textContent ?? '').replace(/\s+/g, ''), cls: el.className })),
    )
    assert.equal(outcomes.length, rows.length, 'one outcome tag per row')
    for (const { text, cls } of outcomes) {
      assert.ok(
        (text === '通行' && cls.includes('el-tag--success')) || (text === '拒绝' && cls.includes('el-tag--danger')),
        `outcome tag ${text} (${cls})`,
      )
    }
    const reasons = rows.map((cells) => cells[5])
    assert.ok(reasons.every((r) => r && !/^[a-z_]+$/.test(r)), `reasons are translated: ${JSON.stringify(reasons)}`)
    const autoRefresh = page.getByTestId('access-records-auto-refresh')
    assert.ok(await autoRefresh.evaluate((el) => el.classList.contains('is-checked')), 'auto-refresh is on by default')
    await screenshot(page, '06-access-records-pm')
  })

  test('the property manager opens the booth calls console', async () => {
    await openMenu(page, 'booth-calls')
    // ringing calls only by default; there may be none at this moment
    const rows = await tableRows(page, 'booth-calls-table')
    for (const cells of rows) assert.ok(cells.some((c) => compact(c) === '呼叫中'), `a ringing call: ${JSON.stringify(cells)}`)
    const count = page.getByTestId('booth-calls-ringing-count')
    await until('the ringing count', async () => /^待接听\d+$/.test(compact(await count.textContent())))
    await screenshot(page, '07-booth-calls-pm')
  })

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors.map(String), [])
  })
})
