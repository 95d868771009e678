// End-to-end test of the console in a real browser: spawns `anfang demo` on a free port, then drives Debian's
// Chromium through playwright-core (no Playwright browser download) as the district admin, a community police
// officer, a property manager (access records, booth calls, a new person, the live feed, the alarm centre) and a
// resident on a phone-sized screen. Run from console/: `ANFANG_BIN=../target/debug/anfang npm run e2e`.
// Env: ANFANG_BIN (the server binary, default ../target/debug/anfang), CHROMIUM (default /usr/bin/chromium),
// E2E_ARTIFACTS (a folder for screenshots; none are taken when unset).
import { after, before, describe, test } from 'node:test'
import assert from 'node:assert/strict'
import { spawn } from 'node:child_process'
import { createHmac } from 'node:crypto'
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
// the demo enrols faces after start and its face terminals see a passer-by every 12 s
const FACE_TIMEOUT_MS = 90_000

const PM_USER = 'pm-370323001001001'
/** The property manager's community (the demo's first). */
const PM_COMMUNITY = '370323001001001'
/** The resident the test makes (by the API, as the admin) in a house of the manager's community. */
const RESIDENT_USER = 'resident-e2e'
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
  // The viewport only: the pictures stay small enough to keep in the repository.
  await page.screenshot({ path: join(ARTIFACTS, `${name}.png`) })
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

/** Calls the API from the page with the signed-in user's token (what the console itself may read). */
function pageApi(page, path, init = {}) {
  return page.evaluate(
    async ({ p, i }) => {
      const res = await fetch(`/api/v1${p}`, {
        ...i,
        headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${localStorage.getItem('anfang.token')}` },
      })
      const text = await res.text()
      return { status: res.status, body: text ? JSON.parse(text) : null }
    },
    { p: path, i: init },
  )
}

/** Logs in through the API from the test process (not the browser) and returns a caller of the API. */
async function apiAs(baseUrl, username, password) {
  const login = await fetch(new URL('api/v1/auth/login', baseUrl), {
    method: 'POST',
    headers: { 'Content-Type': 'application/json' },
    body: JSON.stringify({ username, password }),
  })
  assert.equal(login.status, 200, `API login of ${username}`)
  const { token } = await login.json()
  return async (method, path, body) => {
    const res = await fetch(new URL(`api/v1${path}`, baseUrl), {
      method,
      headers: { 'Content-Type': 'application/json', Authorization: `Bearer ${token}` },
      body: body === undefined ? undefined : JSON.stringify(body),
    })
    const text = await res.text()
    return { status: res.status, body: text ? JSON.parse(text) : null }
  }
}

/**
 * Posts one device-protocol message as an HTTP-push device (its code and secret), signed as a real device signs
 * (hex HMAC-SHA256 of "<timestamp_ms>\n<body>"); returns the HTTP status and the ack.
 */
async function devicePush(baseUrl, device, type, body) {
  const message = JSON.stringify({
    v: 1,
    id: `e2e-${type}-${Date.now()}-${Math.floor(Math.random() * 1e6)}`,
    type,
    at: new Date().toISOString(),
    device: device.code,
    body,
  })
  const ts = Date.now()
  const signature = createHmac('sha256', device.secret).update(`${ts}\n${message}`).digest('hex')
  const res = await fetch(new URL('api/v1/device-push/events', baseUrl), {
    method: 'POST',
    headers: {
      'Content-Type': 'application/json',
      'X-Anfang-Device': device.code,
      'X-Anfang-Timestamp': String(ts),
      'X-Anfang-Signature': signature,
    },
    body: message,
  })
  const text = await res.text()
  return { status: res.status, body: text ? JSON.parse(text) : null }
}

/**
 * A picture as a booth camera or card reader would send it: drawn on a canvas in the page (a silhouette and a
 * caption) and encoded there as a real JPEG; returns the base64 data.
 */
function drawnJpeg(page, caption, background) {
  return page.evaluate(
    ({ caption, background }) => {
      const canvas = document.createElement('canvas')
      canvas.width = 240
      canvas.height = 300
      const g = canvas.getContext('2d')
      g.fillStyle = background
      g.fillRect(0, 0, 240, 300)
      g.fillStyle = '#5b6b7c'
      g.beginPath()
      g.arc(120, 110, 52, 0, Math.PI * 2)
      g.fill()
      g.beginPath()
      g.ellipse(120, 270, 95, 80, 0, Math.PI, 0)
      g.fill()
      g.fillStyle = '#1f2d3d'
      g.font = '20px sans-serif'
      g.textAlign = 'center'
      g.fillText(caption, 120, 30)
      return canvas.toDataURL('image/jpeg', 0.85).split(',')[1]
    },
    { caption, background },
  )
}

/** A valid 18-character resident ID number (GB 11643 check character) in the demo's region. */
function residentId(seq, born = '19900101') {
  const first17 = `370323${born}${String(seq % 1000).padStart(3, '0')}`
  const weights = [7, 9, 10, 5, 8, 4, 2, 1, 6, 3, 7, 9, 10, 5, 8, 4, 2]
  const sum = [...first17].reduce((acc, d, i) => acc + Number(d) * weights[i], 0)
  return first17 + '10X98765432'[sum % 11]
}

/** Picks `text` in the open Element Plus select dropdown. */
async function pickOption(page, text) {
  await page.locator('.el-select-dropdown__item:visible', { hasText: text }).first().click()
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

  /** Set up through the API before the browser starts: ids the test navigates to, and the resident's login. */
  const fixture = {
    pmCommunityId: 0,
    otherCommunityId: 0,
    houseId: 0,
    /** The house as a visitor names it at the booth: building-unit-house. */
    houseRef: '',
    residentPassword: '',
    allCommunities: 0,
    /** A smart booth the admin registers (HTTP push) in the manager's community: its code and secret. */
    booth: { code: '', secret: '', id: 0 },
    /** An adult of the resident's household (made by the admin), and a person of another community. */
    memberId: 0,
    memberName: '',
    otherPersonId: 0,
  }

  before(async () => {
    server = await startServer()
    const admin = await apiAs(server.url, 'admin', server.passwords.admin)
    const pm = await apiAs(server.url, PM_USER, server.passwords[PM_USER])
    fixture.pmCommunityId = (await pm('GET', '/communities')).body.items.find((c) => c.code === PM_COMMUNITY).id
    const others = (await admin('GET', '/communities?page_size=5')).body.items
    fixture.otherCommunityId = others.find((c) => c.code !== PM_COMMUNITY).id
    fixture.houseId = (await admin('GET', `/houses?community_id=${fixture.pmCommunityId}&page_size=1`)).body.items[0].id
    const made = await admin('POST', '/users', {
      username: RESIDENT_USER,
      role: 'resident',
      scope: `house:${fixture.houseId}`,
      display_name: '住户（测试）',
    })
    assert.equal(made.status, 201, `resident user: ${JSON.stringify(made.body)}`)
    fixture.residentPassword = made.body.password
    fixture.memberName = `住户本人${Date.now() % 10000}`
    const member = await admin('POST', '/persons', {
      community_id: fixture.pmCommunityId,
      name: fixture.memberName,
      gender: 'female',
      id_type: 'resident_id',
      id_number: residentId(Date.now() % 1000, '19850505'),
      population_type: 'registered',
      house_id: fixture.houseId,
      role: 'owner',
    })
    assert.equal(member.status, 201, `household member: ${JSON.stringify(member.body)}`)
    fixture.memberId = member.body.id
    const stranger = await admin('POST', '/persons', {
      community_id: fixture.otherCommunityId,
      name: '他人（测试）',
      gender: 'male',
      id_type: 'resident_id',
      id_number: residentId(Date.now() % 1000, '19800808'),
      population_type: 'registered',
    })
    assert.equal(stranger.status, 201, `a person of another community: ${JSON.stringify(stranger.body)}`)
    fixture.otherPersonId = stranger.body.id
    const house = (await admin('GET', `/houses/${fixture.houseId}`)).body
    const buildings = (await admin('GET', `/buildings?community_id=${fixture.pmCommunityId}&page_size=100`)).body.items
    const units = (await admin('GET', `/units?community_id=${fixture.pmCommunityId}&page_size=100`)).body.items
    const building = buildings.find((b) => b.id === house.building_id)
    const unit = units.find((u) => u.id === house.unit_id)
    assert.ok(building && unit, `the house's building and unit: ${JSON.stringify(house)}`)
    fixture.houseRef = `${building.number}-${unit.number}-${house.number}`
    // A booth is commissioned as an installer would: registered by the admin, its secret shown once.
    const booth = await admin('POST', '/devices', {
      code: `3703230100132099${String(Date.now() % 10000).padStart(4, '0')}`,
      name: '东门智能岗亭（测试）',
      kind: 'smart_booth',
      protocol: 'http_push',
      community_id: fixture.pmCommunityId,
    })
    assert.equal(booth.status, 201, `booth: ${JSON.stringify(booth.body)}`)
    fixture.booth = { code: booth.body.device.code, secret: booth.body.secret, id: booth.body.device.id }
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
    // The cards show the list totals the API reports (the demo's size changes as it grows).
    const totals = {}
    for (const key of ['communities', 'houses', 'persons', 'devices']) {
      const res = await pageApi(page, `/${key}?page_size=1`)
      assert.equal(res.status, 200, `/${key}`)
      totals[key] = res.body.total
      if (key === 'communities') fixture.allCommunities = res.body.total
      assert.ok(totals[key] > 0, `the demo has ${key}`)
      const count = page.getByTestId(`overview-count-${key}`)
      await until(`${key} count = ${totals[key]}`, async () => compact(await count.textContent()) === String(totals[key]))
    }
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

    // Acceptance by project: one bar per status present, with the API's counts.
    const acceptances = await chartOption('chart-acceptances')
    const statuses = ['none', 'open', 'accepted', 'rejected'].filter((k) => summary.acceptances[k] !== undefined)
    assert.deepEqual(acceptances.series[0].data, statuses.map((k) => summary.acceptances[k]))
    assert.ok(statuses.length > 0, 'the demo district has projects')
    // Awards: projects and amounts (yuan) per status.
    const awards = await chartOption('chart-awards')
    const awardKeys = ['computed', 'approved', 'paid']
    assert.deepEqual(awards.series[0].data, awardKeys.map((k) => summary.awards[k]?.projects ?? 0))
    assert.deepEqual(awards.series[1].data, awardKeys.map((k) => (summary.awards[k]?.amount_fen ?? 0) / 100))
    // Live figures (devices online, today's alarms) move while the demo runs: the chart must equal what the API
    // answers for the same moment, so a mismatch reloads the page and reads both again.
    const settled = (what, read) =>
      until(
        what,
        async () => {
          const [chart, expected] = await read()
          if (JSON.stringify(chart) === JSON.stringify(expected)) return true
          await page.reload()
          return null
        },
        60_000,
      )
    await settled('devices online as the API counts them', async () => {
      const option = await chartOption('chart-online')
      const s = await api(`/programme/summary?district=${district}`)
      return [option.series[0].data.map((d) => d.value), [s.online, s.total.installed - s.online]]
    })
    await settled("today's alarms handled within the SLA as the API counts them", async () => {
      const option = await chartOption('chart-alarms')
      const a = await api('/alarms/stats')
      return [option.series[0].data.map((d) => d.value), [a.within_sla, a.breached_sla, a.total - a.within_sla - a.breached_sla]]
    })
    // The district admin is no police officer: no key-person panel, and the API refuses the hits.
    assert.equal(await page.getByTestId('programme-key-persons').count(), 0)
    assert.equal(await page.getByTestId('programme-kpi-keyPersonHits').count(), 0)
    const refused = await pageApi(page, '/watch-hits')
    assert.equal(refused.status, 403)
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

  test('the site plan shows buildings, places and devices coloured by online state', async () => {
    await page.goto(new URL(`communities/${fixture.pmCommunityId}`, server.url).href)
    const plan = page.getByTestId('community-site-plan')
    await plan.waitFor()
    const community = (await pageApi(page, `/communities/${fixture.pmCommunityId}`)).body
    const devices = (await pageApi(page, `/devices?community_id=${fixture.pmCommunityId}&page_size=200`)).body.items
    const placeIds = new Set(community.places.map((p) => p.id))
    const drawable = devices.filter((d) => (d.x !== null && d.y !== null) || placeIds.has(d.place_id))
    assert.ok(drawable.length > 0, 'the demo community has devices on its plan')
    const dots = () =>
      plan.locator('[data-testid^="site-plan-device-"]').evaluateAll((els) =>
        els.map((el) => ({ id: Number(el.getAttribute('data-device-id')), online: el.getAttribute('data-testid').endsWith('online'), fill: el.getAttribute('fill') })),
      )
    const drawn = await until('devices drawn', async () => {
      const d = await dots()
      return d.length === drawable.length ? d : null
    })
    assert.deepEqual(drawn.map((d) => d.id).sort((a, b) => a - b), drawable.map((d) => d.id).sort((a, b) => a - b))
    for (const d of drawn) assert.equal(d.fill, d.online ? '#18a058' : '#d03050', `device ${d.id} coloured by its state`)
    assert.equal(await plan.getByTestId('site-plan-place').count(), community.places.length)
    assert.ok((await plan.getByTestId('site-plan-building').count()) > 0, 'buildings on the plan')
    await page.getByTestId('community-site-plan').scrollIntoViewIfNeeded()
    await screenshot(page, 'community-site-plan')
  })

  test('a community police officer logs in', async () => {
    await logout(page)
    await login(page, POLICE_USER, server.passwords[POLICE_USER])
    assert.equal(compact(await page.getByTestId('header-role').textContent()), '社区民警')
    // the street's communities only: the card shows the officer's list total, fewer than the district's
    const street = (await pageApi(page, '/communities?page_size=1')).body.total
    const communities = await until('communities count', async () => {
      const t = compact(await page.getByTestId('overview-count-communities').textContent())
      return /^\d+$/.test(t) ? Number(t) : null
    })
    assert.equal(communities, street)
    assert.ok(communities > 0 && communities < fixture.allCommunities, `communities in the street: ${communities}`)
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

  test('the police officer sees the watch-list and search by image', async () => {
    const menu = page.getByTestId('app-menu')
    for (const key of ['watchlist', 'face-search', 'warnings', 'alarms', 'live']) {
      assert.equal(await menu.getByTestId(`menu-${key}`).count(), 1, `menu-${key} for police`)
    }
    await openMenu(page, 'watchlist')
    const entries = (await pageApi(page, '/watch-entries?status=active&page_size=50')).body
    const rows = await until('watch-list rows', () =>
      tableRows(page, 'watchlist-entries-table').then((r) => (r.length === Math.min(entries.total, 20) ? r : null)),
    )
    if (entries.total > 0) assert.ok(rows.some((cells) => cells.includes(entries.items[0].title)), 'the first entry is listed')
    await screenshot(page, 'watchlist-police')
    await openMenu(page, 'face-search')
    await page.getByTestId('face-search-upload').waitFor()
    await tableRows(page, 'strangers-table')
    await screenshot(page, 'face-search-police')
  })

  test('the police officer reads and saves a community\'s warning thresholds', async () => {
    await openMenu(page, 'warnings')
    await tableRows(page, 'warnings-table')
    await page.getByTestId('warning-rules-community').click()
    await pickOption(page, '翡翠山景小区')
    const save = page.getByTestId('warning-rules-save')
    await save.waitFor()
    const days = page.getByTestId('warning-rule-tenant-days').locator('input')
    await days.fill('21')
    await save.click()
    await until('thresholds saved', async () => {
      const rules = (await pageApi(page, `/communities/${fixture.pmCommunityId}/warning-rules`)).body
      return rules.tenant.days === 21
    })
    await screenshot(page, 'warnings-police')
  })

  test('the police officer\'s dashboard shows the key-person hits the API returns', async () => {
    await openMenu(page, 'programme')
    const panel = page.getByTestId('programme-key-persons')
    await panel.waitFor({ timeout: UI_TIMEOUT_MS })
    await until('key-person hits as the API has them', async () => {
      const option = await page.getByTestId('chart-hits').evaluate((el) => el.__chart?.getOption()?.series?.[0]?.data ?? null)
      const hits = (await pageApi(page, '/watch-hits?page_size=200')).body
      const expected = ['to_confirm', 'confirmed', 'rejected'].map((st) => hits.items.filter((h) => h.state === st).length)
      const kpi = compact(await page.getByTestId('programme-kpi-keyPersonHits').textContent())
      if (JSON.stringify(option) === JSON.stringify(expected) && kpi.endsWith(String(hits.total))) return true
      await page.reload()
      return null
    }, 60_000)
    await page.waitForLoadState('networkidle')
    await screenshot(page, 'programme-dashboard-police')
    await page.getByTestId('programme-kpi-keyPersonHits').click()
    await page.waitForURL(/\/watchlist\?tab=hits/)
    await page.getByTestId('watchlist-hits-table').waitFor({ timeout: UI_TIMEOUT_MS })
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

  test('a visitor calls from the smart booth: the call rings with their details and pictures, the manager accepts and the gate opens', async () => {
    await openMenu(page, 'booth-calls')
    // ringing calls only by default
    const rows = await tableRows(page, 'booth-calls-table')
    for (const cells of rows) assert.ok(cells.some((c) => compact(c) === '呼叫中'), `a ringing call: ${JSON.stringify(cells)}`)
    const count = page.getByTestId('booth-calls-ringing-count')
    await until('the ringing count', async () => /^待接听\d+$/.test(compact(await count.textContent())))

    // The visitor presses the call key: the booth sends their card's details and photo and its camera's picture.
    const visitor = `赵访客${Date.now() % 10000}`
    const [cardPhoto, snapshot] = [
      await drawnJpeg(page, '身份证照片', '#f5f0e6'),
      await drawnJpeg(page, '岗亭抓拍', '#dde8f0'),
    ]
    const pushed = await devicePush(server.url, fixture.booth, 'booth_call', {
      house_ref: fixture.houseRef,
      visitor: {
        name: visitor,
        id_number: residentId(Date.now() % 1000),
        card_photo: { format: 'jpeg', data: cardPhoto },
        snapshot: { format: 'jpeg', data: snapshot },
      },
    })
    assert.equal(pushed.status, 200, `booth_call pushed: ${JSON.stringify(pushed.body)}`)
    const call = await until('the call in the API', async () => {
      const res = await pageApi(page, '/booth-calls?kind=ringing&page_size=50')
      return res.body.items.find((c) => c.visitor_name === visitor) ?? null
    })
    assert.equal(call.house_id, fixture.houseId, 'the house the visitor named is resolved')
    assert.ok(call.has_card_photo && call.has_snapshot, 'both pictures are kept')

    // It rings on screen: the panel shows the newest ringing call (a simulated visitor could ring just after).
    const panel = page.getByTestId('booth-call-ringing')
    await until('the call rings on screen', async () =>
      compact(await panel.getByTestId('booth-call-ringing-visitor').textContent()) === visitor,
    )
    assert.equal(compact(await panel.getByTestId('booth-call-ringing-house').textContent()), fixture.houseRef)
    assert.ok(compact(await panel.textContent()).includes('翡翠山景小区'), 'the community is named')
    for (const which of ['booth-call-ringing-card-photo', 'booth-call-ringing-snapshot']) {
      await until(`${which} shown`, async () => {
        const size = await panel
          .getByTestId(which)
          .locator('img')
          .evaluate((img) => (img.complete ? img.naturalWidth : 0))
          .catch(() => 0)
        return size === 240
      })
    }
    await page.waitForTimeout(300) // the picture's fade-in
    await screenshot(page, '07-booth-call-ringing-pm')

    const stillOurs = compact(await panel.getByTestId('booth-call-ringing-visitor').textContent()) === visitor
    await (stillOurs ? panel.getByTestId('booth-call-ringing-accept') : page.getByTestId(`booth-call-accept-${call.id}`)).click()
    // The outcome through the API: the call answered by the manager...
    const answered = await until('the call accepted', async () => {
      const res = await pageApi(page, '/booth-calls?page_size=50')
      const c = res.body.items.find((x) => x.id === call.id)
      return c && c.status !== 'ringing' ? c : null
    })
    assert.equal(answered.status, 'accepted')
    assert.equal(answered.answered_by, `user:${PM_USER}`)
    assert.ok(answered.answered_at, 'answered at a time')
    // ...the booth hears "open" with its next ack, as an HTTP-push device does...
    const heard = await devicePush(server.url, fixture.booth, 'heartbeat', { firmware: 'e2e 1.0', library_version: 0 })
    assert.equal(heard.status, 200)
    assert.equal(heard.body?.command?.action, 'open', `the gate command: ${JSON.stringify(heard.body)}`)
    // ...and the opening is an access record of the booth.
    const record = await until('the access record of the call', async () => {
      const res = await pageApi(page, `/access-records?device_id=${fixture.booth.id}&page_size=20`)
      return res.body.items.find((r) => r.outcome === 'open') ?? null
    })
    assert.equal(record.community_id, fixture.pmCommunityId)
    await until('the panel stops ringing for it', async () =>
      (await panel.count()) === 0 ||
      compact(await panel.getByTestId('booth-call-ringing-visitor').textContent()) !== visitor,
    )
    await page.getByTestId('booth-calls-filter-status').click()
    await pickOption(page, '已放行')
    const done = await until('the accepted call listed', () =>
      tableRows(page, 'booth-calls-table').then((r) => r.find((cells) => cells.includes(visitor)) ?? null),
    )
    assert.ok(done.some((c) => compact(c) === '已放行'), `accepted in ${JSON.stringify(done)}`)
    await screenshot(page, '07-booth-calls-pm')
  })

  test('the property manager creates a person through the form', async () => {
    await openMenu(page, 'persons')
    await page.getByTestId('person-create').click()
    const dialog = page.getByTestId('person-create-dialog')
    await dialog.getByTestId('person-input-name').waitFor()
    const stamp = Date.now() % 100000
    const name = `测试居民${stamp}`
    const idNumber = residentId(stamp)
    await dialog.getByTestId('person-input-community').click()
    await pickOption(page, '翡翠山景小区')
    await dialog.getByTestId('person-input-name').fill(name)
    await dialog.getByTestId('person-input-id_number').fill(idNumber)
    await dialog.getByTestId('person-input-phone').fill('13800138000')
    await page.getByTestId('person-create-submit').click()
    await dialog.waitFor({ state: 'hidden' })
    const found = await until('the new person through the API', async () => {
      const res = await pageApi(page, `/persons?q=${encodeURIComponent(name)}`)
      return res.body.items.find((p) => p.name === name) ?? null
    })
    assert.equal(found.id_number.slice(-4), idNumber.slice(-4))
    // the new person opens in the detail drawer
    const drawer = page.getByTestId('person-detail-drawer')
    await until('the drawer names the new person', async () => compact(await drawer.textContent()).includes(name))
    await page.keyboard.press('Escape')
    await drawer.waitFor({ state: 'hidden' })
    await page.getByTestId('persons-filter-q').fill(name)
    await page.getByTestId('persons-search').click()
    const rows = await until('the new person listed', () =>
      tableRows(page, 'persons-table').then((r) => (r.length === 1 && r[0].includes(name) ? r : null)),
    )
    assert.ok(rows[0].some((c) => MASKED_ID.test(c)), `masked ID in ${JSON.stringify(rows[0])}`)
    await screenshot(page, 'person-created-pm')
  })

  test('simulated door decisions appear in the live view', async () => {
    await openMenu(page, 'live')
    await until('the live feed is open', async () => compact(await page.getByTestId('live-status').textContent()) === '实时推送中')
    const items = page.getByTestId('live-access-item')
    await until('an access event', async () => (await items.count()) > 0, ACCESS_TIMEOUT_MS)
    const outcome = compact(await items.first().getByTestId('live-access-outcome').textContent())
    assert.ok(['通行', '拒绝'].includes(outcome), `outcome ${outcome}`)
    assert.ok(compact(await items.first().textContent()).includes('翡翠山景小区'), 'the manager\'s community only')
    // the stored record brings the person's name (cards of registered residents)
    await until('a person named in the feed', async () => (await page.getByTestId('live-access-person').count()) > 0, ACCESS_TIMEOUT_MS)
    await screenshot(page, 'live-view-pm')
  })

  test('a simulated face event appears in the live feed', async () => {
    await openMenu(page, 'live')
    // a face terminal recognised an enrolled resident (1:N against its synced library) and sent the snapshot
    const faces = page.locator('[data-testid="live-access-item"][data-credential="face"]')
    await until('a face event', async () => (await faces.count()) > 0, FACE_TIMEOUT_MS)
    const item = faces.first()
    assert.equal(compact(await item.getByTestId('live-access-face').textContent()), '人脸')
    const recordId = Number(await item.getAttribute('data-record-id'))
    const deviceId = Number(await item.getAttribute('data-device-id'))
    const outcome = await item.getAttribute('data-outcome')
    assert.ok(recordId > 0 && deviceId > 0, `record ${recordId} at device ${deviceId}`)
    // the snapshot is fetched through the audited access-record endpoint
    await until('the snapshot shown', async () =>
      item.getByTestId('live-access-snapshot').locator('img').evaluate((img) => img.complete && img.naturalWidth > 0).catch(() => false),
    )
    // the API holds the same record: a face, the decision shown, a known person and the snapshot
    const record = await until('the face record in the API', async () => {
      const res = await pageApi(page, `/access-records?device_id=${deviceId}&page_size=100`)
      return res.body.items.find((r) => r.id === recordId) ?? null
    })
    assert.equal(record.credential_kind, 'face')
    assert.equal(record.outcome, outcome)
    assert.equal(record.has_snapshot, true)
    assert.ok(record.person_id, 'a recognised resident')
    assert.equal(record.community_id, fixture.pmCommunityId, 'the manager\'s community')
    await until('the person named in the feed', async () =>
      compact(await item.getByTestId('live-access-person').textContent().catch(() => '')) === compact(record.person_name),
    )
    await screenshot(page, 'live-face-pm')
  })

  test('the property manager acknowledges an alarm in the alarm centre', async () => {
    await openMenu(page, 'alarms')
    await page.getByTestId('alarms-stats').waitFor()
    // the demo raises offline alarms at start and its sensors raise more; wait for one still new
    const alarm = await until(
      'a new alarm',
      async () => {
        const res = await pageApi(page, '/alarms?state=new&page_size=1')
        return res.body.items[0] ?? null
      },
      ACCESS_TIMEOUT_MS,
    )
    await page.getByTestId('alarms-refresh').click()
    const ack = page.getByTestId(`alarm-acknowledge-${alarm.id}`)
    await ack.waitFor()
    const row = page.getByTestId('alarms-table').locator('tr', { has: ack })
    assert.match(compact(await row.getByTestId('alarm-sla').textContent()), /^(剩余|超时)/, 'the deadline timer')
    await ack.click()
    const dialog = page.getByTestId('alarm-action-dialog')
    await dialog.getByTestId('alarm-action-note').fill('已到现场查看（端到端测试）')
    await dialog.getByTestId('alarm-action-submit').click()
    await dialog.waitFor({ state: 'hidden' })
    const detail = await until('acknowledged in the API', async () => {
      const res = await pageApi(page, `/alarms/${alarm.id}`)
      return res.body.alarm.state === 'acknowledged' ? res.body : null
    })
    assert.equal(detail.alarm.acknowledged_by, `user:${PM_USER}`)
    assert.ok(detail.actions.some((a) => a.action === 'acknowledge' && a.note === '已到现场查看（端到端测试）'), 'the note is kept')
    await until('the row shows 已确认', async () => {
      await ack.waitFor({ state: 'detached', timeout: 100 }).catch(() => {})
      return (await page.getByTestId(`alarm-acknowledge-${alarm.id}`).count()) === 0
    })
    const stats = (await pageApi(page, '/alarms/stats')).body
    await until('the stats card', async () =>
      compact(await page.getByTestId('alarms-stat-total').textContent()).endsWith(String(stats.total)),
    )
    await screenshot(page, 'alarm-centre-pm')
    await page.getByTestId(`alarm-open-${alarm.id}`).click()
    await page.getByTestId('alarm-history').waitFor()
    await until('the history', async () => compact(await page.getByTestId('alarm-history').textContent()).includes('已到现场查看'))
    await page.waitForTimeout(500) // the drawer's sliding in
    await screenshot(page, 'alarm-detail-pm')
    await page.keyboard.press('Escape')
  })

  test('the property manager opens the patrol report and the early warnings', async () => {
    await openMenu(page, 'patrol')
    await tableRows(page, 'patrol-routes-table')
    await screenshot(page, 'patrol-pm')
    await openMenu(page, 'warnings')
    await tableRows(page, 'warnings-table')
    const kinds = (await pageApi(page, '/warnings?page_size=100')).body.items.map((w) => w.kind)
    assert.ok(kinds.every((k) => k === 'vehicle_overstay' || k === 'tailgating'), `property warnings only: ${kinds}`)
    await screenshot(page, 'warnings-pm')
  })

  test('a vehicle\'s plate trajectory lists the gate reads the API returns and draws them on the site plan', async () => {
    const community = fixture.pmCommunityId
    // The demo's gates read plates as cars come and go: take a car that has passed, a registered one if any.
    const sessions = await until('a car through the gates', async () => {
      const items = (await pageApi(page, `/parking-sessions?community_id=${community}&page_size=100`)).body.items
      return items.length ? items : null
    }, 90_000)
    // The plates with the most gate reads (an entry, and an exit when the car left) come first.
    const reads = new Map()
    for (const s of sessions) reads.set(s.plate, (reads.get(s.plate) ?? 0) + (s.exited_at ? 2 : 1))
    const plates = [...reads.entries()].sort((a, b) => b[1] - a[1]).map(([p]) => p)
    let plate = plates[0]
    let fromList = false
    for (const p of plates.slice(0, 10)) {
      const found = (await pageApi(page, `/vehicles?community_id=${community}&plate_number=${encodeURIComponent(p)}`)).body
      if (found.items.length) {
        plate = p
        fromList = true
        break
      }
    }
    if (fromList) {
      // Opened from the vehicle list, as a manager would.
      await openMenu(page, 'vehicles')
      await page.getByTestId('vehicles-filter-plate_number').fill(plate)
      await page.getByTestId('vehicles-search').click()
      await until('the vehicle listed', async () => (await tableRows(page, 'vehicles-table')).length === 1)
      await page.getByTestId('vehicle-trajectory').first().click()
    } else {
      await page.goto(new URL(`trajectory?community_id=${community}&plate=${encodeURIComponent(plate)}`, server.url).href)
    }
    await page.waitForURL(/\/trajectory\?/)
    await page.getByTestId('trajectory-table').waitFor({ timeout: UI_TIMEOUT_MS })
    // Cars keep coming: the page must show what the API answers for the same moment.
    const shown = await until('the points the API returns', async () => {
      const api = (await pageApi(page, `/trajectory?community_id=${community}&plate=${encodeURIComponent(plate)}`)).body
      const rows = await tableRows(page, 'trajectory-table')
      const stops = await page
        .getByTestId('site-plan-stop')
        .evaluateAll((els) => els.map((el) => Number(el.getAttribute('data-device-id'))))
      if (rows.length === api.points.length) return { api, rows, stops }
      await page.reload()
      await page.getByTestId('trajectory-table').waitFor({ timeout: UI_TIMEOUT_MS })
      return null
    }, 60_000)
    assert.ok(shown.api.points.length > 0, `plate ${plate} was seen`)
    const labels = { gate_in: '车辆驶入', gate_out: '车辆驶出', capture: '车辆抓拍', access: '门禁通行' }
    for (const [i, p] of shown.api.points.entries()) assert.equal(shown.rows[i][2], labels[p.source], `point ${i + 1}`)
    const times = shown.api.points.map((p) => Date.parse(p.at))
    assert.deepEqual(times, [...times].sort((a, b) => a - b), 'oldest first')
    // The path runs through the devices in the API's order (those placed on the plan).
    const devices = (await pageApi(page, `/devices?community_id=${community}&page_size=200`)).body.items
    const cplan = (await pageApi(page, `/communities/${community}`)).body
    const placeIds = new Set((cplan.places ?? []).map((p) => p.id))
    const drawable = new Set(devices.filter((d) => (d.x !== null && d.y !== null) || placeIds.has(d.place_id)).map((d) => d.id))
    assert.deepEqual(shown.stops, shown.api.points.map((p) => p.device_id).filter((id) => drawable.has(id)))
    assert.ok(shown.stops.length > 0, 'the path is drawn on the plan')
    await screenshot(page, 'trajectory-plate-pm')
  })

  test('a property manager cannot open another community nor the police pages', async () => {
    const menu = page.getByTestId('app-menu')
    for (const key of ['watchlist', 'face-search']) assert.equal(await menu.getByTestId(`menu-${key}`).count(), 0, key)
    assert.equal((await pageApi(page, `/communities/${fixture.otherCommunityId}`)).status, 404)
    assert.equal((await pageApi(page, '/watch-entries')).status, 403)
    await page.goto(new URL(`communities/${fixture.otherCommunityId}`, server.url).href)
    await page.getByTestId('community-detail').waitFor()
    await until('the load failure', async () => compact(await page.getByTestId('community-detail').textContent()).includes('加载失败'))
    assert.equal(await page.getByTestId('community-info').count(), 0, 'no facts of the other community')
    await page.goto(new URL('watchlist', server.url).href)
    await page.waitForURL(/\/overview$/)
  })

  test('a resident on a phone invites a visitor and gets the QR pass', async () => {
    await logout(page)
    await page.setViewportSize({ width: 390, height: 844 })
    await page.getByTestId('login-submit').waitFor()
    await submitLogin(page, RESIDENT_USER, fixture.residentPassword)
    await page.waitForURL(/\/my-home$/)
    await page.getByTestId('resident-page').waitFor()
    await until('the house', async () => compact(await page.getByTestId('resident-house').textContent()).includes('翡翠山景小区'))
    assert.ok((await page.getByTestId('resident-member').count()) > 0, 'the household is listed')
    await page.getByTestId('resident-qr-show').click()
    await page.getByTestId('resident-qr-code').waitFor()
    await page.getByTestId('resident-visitor-name').fill('王访客')
    await page.getByTestId('resident-invite-submit').click()
    const dialog = page.getByTestId('resident-pass-dialog')
    await dialog.getByTestId('resident-pass-qr').waitFor()
    const payload = await dialog.getByTestId('resident-pass-text').inputValue()
    assert.match(payload, /^AVP1\./, `pass payload ${payload}`)
    const modules = await dialog.getByTestId('resident-pass-qr').locator('path').getAttribute('d')
    assert.ok(modules && modules.length > 100, 'the QR code is drawn')
    await page.waitForTimeout(500) // the dialog's opening animation
    const passes = (await pageApi(page, '/visitors')).body.items
    assert.ok(passes.some((p) => p.name === '王访客' && p.house_id === fixture.houseId), 'the pass is for the house')
    await screenshot(page, 'resident-visitor-pass')
    await page.keyboard.press('Escape')
    await dialog.waitFor({ state: 'hidden' })
    await page.evaluate(() => window.scrollTo(0, 0))
    await screenshot(page, 'resident-home')
    await page.setViewportSize({ width: 1440, height: 900 })
  })

  test('a resident on a phone gives and withdraws face consent and draws a PIN, for their household only', async () => {
    await page.setViewportSize({ width: 375, height: 812 })
    const ways = page.getByTestId('resident-ways')
    await ways.scrollIntoViewIfNeeded()
    // the household's access records are on the page too
    await page.getByTestId('resident-records').waitFor({ state: 'attached' })
    await ways.getByTestId('resident-ways-member').click()
    await pickOption(page, fixture.memberName)
    const give = ways.getByTestId('resident-consent-give')
    await give.waitFor()
    assert.equal(await page.getByTestId('resident-gap').count(), 0, 'the resident may manage their own ways in')
    await give.click()
    await ways.getByTestId('resident-consent-active').waitFor()
    const consents = (await pageApi(page, `/persons/${fixture.memberId}/consents`)).body
    const active = consents.filter((c) => !c.revoked_at)
    assert.equal(active.length, 1, `one active consent: ${JSON.stringify(consents)}`)
    assert.equal(active[0].recorded_by, `user:${RESIDENT_USER}`)
    assert.equal(active[0].given_by, 'self')

    await ways.getByTestId('resident-pin-draw').click()
    const digits = compact(await ways.getByTestId('resident-pin-digits').textContent({ timeout: UI_TIMEOUT_MS }))
    assert.match(digits, /^\d{6}$/, `a six-digit PIN: ${digits}`)
    const credentials = (await pageApi(page, `/persons/${fixture.memberId}/credentials`)).body
    assert.equal(credentials.filter((c) => c.kind === 'pin' && !c.revoked_at).length, 1, 'one PIN')
    assert.ok(!JSON.stringify(credentials).includes(digits), 'the digits are not listed again')
    assert.equal(await ways.getByTestId('resident-credential').count(), 1, 'the PIN is listed')
    await ways.scrollIntoViewIfNeeded()
    await screenshot(page, 'resident-ways-in')

    await ways.getByTestId('resident-consent-withdraw').click()
    await page.locator('.resident-withdraw-box .el-button--primary').click()
    await ways.getByTestId('resident-consent-none').waitFor()
    const after = (await pageApi(page, `/persons/${fixture.memberId}/consents`)).body
    assert.ok(after.every((c) => c.revoked_at), `withdrawn: ${JSON.stringify(after)}`)
    assert.equal((await pageApi(page, `/persons/${fixture.memberId}/face`)).status, 404, 'no face photo outlives the consent')

    // Nobody else's: a person of another community is not found.
    for (const path of ['consents', 'credentials']) {
      assert.equal((await pageApi(page, `/persons/${fixture.otherPersonId}/${path}`)).status, 404, path)
    }
    const foreign = await pageApi(page, `/persons/${fixture.otherPersonId}/consents`, {
      method: 'POST',
      body: JSON.stringify({ given_by: 'self' }),
    })
    assert.equal(foreign.status, 404)
    assert.equal((await pageApi(page, `/persons/${fixture.otherPersonId}/pin`, { method: 'POST' })).status, 404)
    await page.setViewportSize({ width: 1440, height: 900 })
  })

  test('no uncaught errors in the page', () => {
    assert.deepEqual(pageErrors.map(String), [])
  })
})

// ---------------------------------------------------------------------------------------------------------------
// Live video: a GB/T 28181 camera of the manager's community, played in the browser

describe('Live video of a GB/T 28181 camera in Chromium', { timeout: 300_000 }, () => {
  /** @type {Awaited<ReturnType<typeof startServer>> | undefined} */
  let server
  /** @type {import('playwright-core').Browser | undefined} */
  let browser
  /** @type {import('playwright-core').Page} */
  let page
  const pageErrors = []
  const killOnExit = () => server?.proc.kill('SIGKILL')
  process.once('exit', killOnExit)

  before(async () => {
    server = await startServer()
    browser = await chromium.launch({
      executablePath: CHROMIUM,
      headless: true,
      args: ['--no-sandbox', '--disable-gpu', '--no-first-run', '--disable-background-networking', '--disable-component-update', '--disable-sync', '--autoplay-policy=no-user-gesture-required'],
    })
    const context = await browser.newContext({ baseURL: server.url, locale: 'zh-CN', viewport: { width: 1440, height: 900 } })
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

  test('the property manager opens 实时视频 on a camera whose NVR registered, and the video plays', async () => {
    const pm = await apiAs(server.url, PM_USER, server.passwords[PM_USER])
    const community = (await pm('GET', '/communities')).body.items.find((c) => c.code === PM_COMMUNITY)
    // The demo's NVRs register over SIP within its first 20 s; their cameras then show online.
    const cameras = new Set(
      (await pm('GET', `/devices?community_id=${community.id}&kind=video_camera&page_size=100`)).body.items
        .filter((d) => d.protocol === 'gb28181')
        .map((d) => d.code),
    )
    const online = await until(
      'a camera of the community online over GB/T 28181',
      async () => {
        const items = (await pm('GET', `/communities/${community.id}/video`)).body.items
        const codes = items.filter((d) => d.online && cameras.has(d.code)).map((d) => d.code)
        return codes.length > 0 ? new Set(codes) : null
      },
      90_000,
    )

    await page.goto(server.url)
    await login(page, PM_USER, server.passwords[PM_USER])
    await openMenu(page, 'devices')
    await page.getByTestId('devices-filter-kind').click()
    await pickOption(page, '视频摄像机')
    await page.getByTestId('devices-search').click()
    const rows = await until('cameras listed', async () => {
      const r = await tableRows(page, 'devices-table')
      return r.length > 0 && r.every((cells) => cells.some((c) => cameras.has(c))) ? r : null
    })
    const index = rows.findIndex((cells) => cells.some((c) => online.has(c)))
    assert.ok(index >= 0, `an online camera on the first page: ${JSON.stringify(rows.map((r) => r[0]))}`)
    const row = page.getByTestId('devices-table').locator('.el-table__body-wrapper tbody tr.el-table__row').nth(index)
    await row.getByTestId('device-live').click()

    const status = page.getByTestId('live-status')
    await until('the player playing', async () => (await status.getAttribute('data-status')) === 'playing', 30_000)
    assert.match(compact(await status.textContent()), /video\/mp4;codecs="avc1\./)
    const video = page.getByTestId('live-video')
    const sample = () =>
      video.evaluate((v) => ({
        time: v.currentTime,
        buffered: v.buffered.length ? v.buffered.end(v.buffered.length - 1) - v.buffered.start(0) : 0,
        width: v.videoWidth,
        error: v.error ? v.error.code : null,
      }))
    const first = await until('the video to start', async () => {
      const s = await sample()
      return s.time > 0 && s.buffered > 0 ? s : null
    }, 30_000)
    await page.waitForTimeout(3_000)
    const later = await sample()
    assert.equal(later.error, null, 'no media error')
    assert.ok(later.time > first.time + 1, `currentTime advances: ${first.time} → ${later.time}`)
    assert.ok(later.buffered > first.buffered, `buffered grows: ${first.buffered} → ${later.buffered}`)
    assert.equal(later.width, 640, 'the test pattern is 640 pixels wide')
    await screenshot(page, 'live-video')

    // Closing the dialog leaves the stream.
    await page.keyboard.press('Escape')
    await video.waitFor({ state: 'hidden' })
    assert.deepEqual(pageErrors.map(String), [])
  })
})
