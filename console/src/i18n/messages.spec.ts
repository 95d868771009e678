// Unit tests of the message tables: same keys in both languages, and every key the source uses exists.
import { readdirSync, readFileSync, statSync } from 'node:fs'
import { join, dirname } from 'node:path'
import { fileURLToPath } from 'node:url'
import { describe, expect, it } from 'vitest'
import zhCN from './zh-CN'
import en from './en'

type Tree = { [key: string]: string | Tree }

function keys(tree: Tree, prefix = ''): string[] {
  return Object.entries(tree).flatMap(([k, v]) =>
    typeof v === 'string' ? [`${prefix}${k}`] : keys(v, `${prefix}${k}.`),
  )
}

function sourceFiles(dir: string): string[] {
  return readdirSync(dir).flatMap((name) => {
    const path = join(dir, name)
    if (statSync(path).isDirectory()) return sourceFiles(path)
    return /\.(vue|ts)$/.test(name) && !name.endsWith('.spec.ts') && !name.endsWith('.d.ts') ? [path] : []
  })
}

const srcDir = join(dirname(fileURLToPath(import.meta.url)), '..')

describe('messages', () => {
  it('have the same keys in zh-CN and en', () => {
    expect(keys(en as unknown as Tree).sort()).toEqual(keys(zhCN as unknown as Tree).sort())
  })

  it('contain no empty strings and no stray vue-i18n syntax', () => {
    for (const table of [zhCN, en]) {
      for (const key of keys(table as unknown as Tree)) {
        const value = key.split('.').reduce<unknown>((node, k) => (node as Tree)[k], table)
        expect(value, key).toBeTruthy()
        // `@` starts a linked message and `|` a plural form in vue-i18n: neither is meant here.
        expect(String(value), key).not.toMatch(/[@|]/)
      }
    }
  })

  it('define every literal key the source passes to t()', () => {
    const known = new Set(keys(zhCN as unknown as Tree))
    const missing: string[] = []
    for (const file of sourceFiles(srcDir)) {
      const text = readFileSync(file, 'utf8')
      for (const match of text.matchAll(/\bt\(\s*'([a-zA-Z_.]+)'/g)) {
        if (!known.has(match[1])) missing.push(`${file}: ${match[1]}`)
      }
      for (const match of text.matchAll(/\btitle: '([a-zA-Z_]+\.[a-zA-Z_.]+)'/g)) {
        if (!known.has(match[1])) missing.push(`${file}: ${match[1]}`)
      }
    }
    expect(missing).toEqual([])
  })
})
