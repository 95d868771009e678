// A small QR code encoder (ISO/IEC 18004, byte mode, error correction level M, versions 1–10) for visitor passes and dynamic door codes.

/** A QR symbol: `size` × `size` modules, `dark[row][col]`. */
export interface QrMatrix {
  size: number
  version: number
  mask: number
  dark: boolean[][]
}

/** Level M per version 1–10: EC codewords per block, and the blocks as [count, data codewords]. */
const LEVEL_M: readonly { ec: number; blocks: readonly [number, number][] }[] = [
  { ec: 10, blocks: [[1, 16]] },
  { ec: 16, blocks: [[1, 28]] },
  { ec: 26, blocks: [[1, 44]] },
  { ec: 18, blocks: [[2, 32]] },
  { ec: 24, blocks: [[2, 43]] },
  { ec: 16, blocks: [[4, 27]] },
  { ec: 18, blocks: [[4, 31]] },
  { ec: 22, blocks: [[2, 38], [2, 39]] },
  { ec: 22, blocks: [[3, 36], [2, 37]] },
  { ec: 26, blocks: [[4, 43], [1, 44]] },
]

/** Centres of the alignment patterns per version (none for version 1). */
const ALIGNMENT: readonly (readonly number[])[] = [
  [],
  [6, 18],
  [6, 22],
  [6, 26],
  [6, 30],
  [6, 34],
  [6, 22, 38],
  [6, 24, 42],
  [6, 26, 46],
  [6, 28, 50],
]

export const MAX_VERSION = LEVEL_M.length

// ---------------------------------------------------------------------------------------------
// GF(256) with the polynomial x^8 + x^4 + x^3 + x^2 + 1, and Reed–Solomon remainders

const EXP = new Uint8Array(512)
const LOG = new Uint8Array(256)
{
  let x = 1
  for (let i = 0; i < 255; i++) {
    EXP[i] = x
    LOG[x] = i
    x <<= 1
    if (x & 0x100) x ^= 0x11d
  }
  for (let i = 255; i < 512; i++) EXP[i] = EXP[i - 255]
}

function gfMul(a: number, b: number): number {
  return a === 0 || b === 0 ? 0 : EXP[LOG[a] + LOG[b]]
}

/** The generator polynomial of degree `n` (coefficients, highest power first, leading 1 left out). */
function generator(n: number): number[] {
  let poly = [1]
  for (let i = 0; i < n; i++) {
    const next = new Array<number>(poly.length + 1).fill(0)
    for (let j = 0; j < poly.length; j++) {
      next[j] ^= poly[j]
      next[j + 1] ^= gfMul(poly[j], EXP[i])
    }
    poly = next
  }
  return poly.slice(1)
}

/** The `n` error-correction codewords of `data` (the remainder of data·x^n divided by the generator). */
export function reedSolomon(data: readonly number[], n: number): number[] {
  const gen = generator(n)
  const rem = new Array<number>(n).fill(0)
  for (const byte of data) {
    const factor = byte ^ (rem.shift() as number)
    rem.push(0)
    for (let i = 0; i < n; i++) rem[i] ^= gfMul(gen[i], factor)
  }
  return rem
}

// ---------------------------------------------------------------------------------------------
// Data codewords

function utf8(text: string): number[] {
  return [...new TextEncoder().encode(text)]
}

function dataCapacity(version: number): number {
  return LEVEL_M[version - 1].blocks.reduce((sum, [count, data]) => sum + count * data, 0)
}

function countBits(version: number): number {
  return version < 10 ? 8 : 16
}

/** The smallest version whose level-M capacity holds `bytes` bytes, or null when none up to 10 does. */
export function versionFor(bytes: number): number | null {
  for (let v = 1; v <= MAX_VERSION; v++) {
    if (4 + countBits(v) + bytes * 8 <= dataCapacity(v) * 8) return v
  }
  return null
}

/** The data codewords: byte mode, the count, the bytes, the terminator and padding. */
export function dataCodewords(bytes: readonly number[], version: number): number[] {
  const bits: number[] = []
  const put = (value: number, length: number) => {
    for (let i = length - 1; i >= 0; i--) bits.push((value >>> i) & 1)
  }
  const capacity = dataCapacity(version) * 8
  put(0b0100, 4)
  put(bytes.length, countBits(version))
  for (const b of bytes) put(b, 8)
  put(0, Math.min(4, capacity - bits.length))
  while (bits.length % 8 !== 0) bits.push(0)
  const out: number[] = []
  for (let i = 0; i < bits.length; i += 8) out.push(bits.slice(i, i + 8).reduce((acc, bit) => (acc << 1) | bit, 0))
  for (let pad = 0xec; out.length < capacity / 8; pad ^= 0xec ^ 0x11) out.push(pad)
  return out
}

/** Data and EC codewords split into blocks and interleaved, as they are placed. */
export function interleave(data: readonly number[], version: number): number[] {
  const { ec, blocks } = LEVEL_M[version - 1]
  const dataBlocks: number[][] = []
  let offset = 0
  for (const [count, size] of blocks) {
    for (let i = 0; i < count; i++) {
      dataBlocks.push(data.slice(offset, offset + size))
      offset += size
    }
  }
  const ecBlocks = dataBlocks.map((block) => reedSolomon(block, ec))
  const out: number[] = []
  const longest = Math.max(...dataBlocks.map((b) => b.length))
  for (let i = 0; i < longest; i++) for (const block of dataBlocks) if (i < block.length) out.push(block[i])
  for (let i = 0; i < ec; i++) for (const block of ecBlocks) out.push(block[i])
  return out
}

// ---------------------------------------------------------------------------------------------
// The matrix

/** BCH remainder of `value` shifted by the generator's degree. */
function bch(value: number, generatorPoly: number, degree: number): number {
  let rem = value << degree
  for (let bit = 31 - Math.clz32(rem); bit >= degree; bit--) {
    if ((rem >>> bit) & 1) rem ^= generatorPoly << (bit - degree)
  }
  return rem
}

/** The 15 format bits of level M with `mask`. */
export function formatBits(mask: number): number {
  const data = (0b00 << 3) | mask
  return ((data << 10) | bch(data, 0b10100110111, 10)) ^ 0b101010000010010
}

/** The 18 version bits (versions 7 and up). */
export function versionBits(version: number): number {
  return (version << 12) | bch(version, 0b1111100100101, 12)
}

const MASKS: readonly ((r: number, c: number) => boolean)[] = [
  (r, c) => (r + c) % 2 === 0,
  (r) => r % 2 === 0,
  (_r, c) => c % 3 === 0,
  (r, c) => (r + c) % 3 === 0,
  (r, c) => (Math.floor(r / 2) + Math.floor(c / 3)) % 2 === 0,
  (r, c) => ((r * c) % 2) + ((r * c) % 3) === 0,
  (r, c) => (((r * c) % 2) + ((r * c) % 3)) % 2 === 0,
  (r, c) => (((r + c) % 2) + ((r * c) % 3)) % 2 === 0,
]

class Grid {
  readonly dark: boolean[][]
  readonly fixed: boolean[][]

  constructor(readonly size: number) {
    this.dark = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
    this.fixed = Array.from({ length: size }, () => new Array<boolean>(size).fill(false))
  }

  set(row: number, col: number, dark: boolean): void {
    if (row < 0 || col < 0 || row >= this.size || col >= this.size) return
    this.dark[row][col] = dark
    this.fixed[row][col] = true
  }
}

function drawFunctionPatterns(g: Grid, version: number): void {
  const n = g.size
  // Finders with their separators.
  for (const [r0, c0] of [
    [0, 0],
    [0, n - 7],
    [n - 7, 0],
  ]) {
    for (let dr = -1; dr <= 7; dr++) {
      for (let dc = -1; dc <= 7; dc++) {
        const ring = Math.max(Math.abs(dr - 3), Math.abs(dc - 3))
        g.set(r0 + dr, c0 + dc, ring !== 2 && ring !== 4)
      }
    }
  }
  // Timing patterns.
  for (let i = 8; i < n - 8; i++) {
    g.set(6, i, i % 2 === 0)
    g.set(i, 6, i % 2 === 0)
  }
  // Alignment patterns, except where they would overlap a finder.
  const centres = ALIGNMENT[version - 1]
  for (const r of centres) {
    for (const c of centres) {
      if ((r === 6 && c === 6) || (r === 6 && c === n - 7) || (r === n - 7 && c === 6)) continue
      for (let dr = -2; dr <= 2; dr++) {
        for (let dc = -2; dc <= 2; dc++) g.set(r + dr, c + dc, Math.max(Math.abs(dr), Math.abs(dc)) !== 1)
      }
    }
  }
  // Reserve the format areas (written once the mask is chosen) and the dark module.
  drawFormat(g, 0)
  g.set(n - 8, 8, true)
  if (version >= 7) {
    const bits = versionBits(version)
    for (let i = 0; i < 18; i++) {
      const bit = ((bits >>> i) & 1) === 1
      const a = n - 11 + (i % 3)
      const b = Math.floor(i / 3)
      g.set(a, b, bit)
      g.set(b, a, bit)
    }
  }
}

function drawFormat(g: Grid, mask: number): void {
  const n = g.size
  const bits = formatBits(mask)
  const bit = (i: number) => ((bits >>> i) & 1) === 1
  // Around the top-left finder.
  for (let i = 0; i <= 5; i++) g.set(i, 8, bit(i))
  g.set(7, 8, bit(6))
  g.set(8, 8, bit(7))
  g.set(8, 7, bit(8))
  for (let i = 9; i < 15; i++) g.set(8, 14 - i, bit(i))
  // Split between the other two finders.
  for (let i = 0; i < 8; i++) g.set(8, n - 1 - i, bit(i))
  for (let i = 8; i < 15; i++) g.set(n - 15 + i, 8, bit(i))
}

/** Places the codewords' bits in the zigzag order, upward and downward in column pairs, right to left. */
function placeData(g: Grid, codewords: readonly number[]): void {
  const n = g.size
  let index = 0
  const total = codewords.length * 8
  for (let right = n - 1; right >= 1; right -= 2) {
    if (right === 6) right = 5
    const upward = ((n - 1 - right) >> 1) % 2 === 0
    for (let step = 0; step < n; step++) {
      const row = upward ? n - 1 - step : step
      for (const col of [right, right - 1]) {
        if (g.fixed[row][col]) continue
        const dark = index < total && ((codewords[index >> 3] >>> (7 - (index & 7))) & 1) === 1
        g.dark[row][col] = dark
        index++
      }
    }
  }
}

function applyMask(g: Grid, mask: number): boolean[][] {
  const test = MASKS[mask]
  return g.dark.map((row, r) => row.map((d, c) => (g.fixed[r][c] ? d : d !== test(r, c))))
}

/** The standard's penalty score of a finished matrix (lower is better). */
export function penalty(m: readonly (readonly boolean[])[]): number {
  const n = m.length
  let score = 0
  const lines: boolean[][] = []
  for (let i = 0; i < n; i++) {
    lines.push([...m[i]])
    lines.push(m.map((row) => row[i]))
  }
  const finderLike = [true, false, true, true, true, false, true]
  for (const line of lines) {
    let run = 1
    for (let i = 1; i <= n; i++) {
      if (i < n && line[i] === line[i - 1]) {
        run++
      } else {
        if (run >= 5) score += 3 + (run - 5)
        run = 1
      }
    }
    for (let i = 0; i + 7 <= n; i++) {
      if (!finderLike.every((v, k) => line[i + k] === v)) continue
      const lightBefore = [1, 2, 3, 4].every((k) => i - k < 0 || !line[i - k])
      const lightAfter = [0, 1, 2, 3].every((k) => i + 7 + k >= n || !line[i + 7 + k])
      if (lightBefore || lightAfter) score += 40
    }
  }
  for (let r = 0; r + 1 < n; r++) {
    for (let c = 0; c + 1 < n; c++) {
      const d = m[r][c]
      if (m[r][c + 1] === d && m[r + 1][c] === d && m[r + 1][c + 1] === d) score += 3
    }
  }
  const darkCount = m.reduce((sum, row) => sum + row.filter(Boolean).length, 0)
  score += Math.floor(Math.abs((darkCount * 100) / (n * n) - 50) / 5) * 10
  return score
}

/**
 * Encodes `text` (as UTF-8 bytes) into a QR symbol at level M, the smallest version that fits,
 * the mask with the lowest penalty. Throws when the text is longer than version 10 holds (213 bytes).
 */
export function encodeQr(text: string): QrMatrix {
  const bytes = utf8(text)
  const version = versionFor(bytes.length)
  if (version === null) throw new RangeError(`a QR code of version ≤ ${MAX_VERSION} holds at most 213 bytes, not ${bytes.length}`)
  const codewords = interleave(dataCodewords(bytes, version), version)
  const size = version * 4 + 17
  const grid = new Grid(size)
  drawFunctionPatterns(grid, version)
  placeData(grid, codewords)
  let best: QrMatrix | null = null
  let bestScore = Infinity
  for (let mask = 0; mask < MASKS.length; mask++) {
    drawFormat(grid, mask)
    const dark = applyMask(grid, mask)
    const score = penalty(dark)
    if (score < bestScore) {
      bestScore = score
      best = { size, version, mask, dark }
    }
  }
  return best as QrMatrix
}

/** An SVG path (`M x y h1 v1 h-1 z` per dark module) of the symbol, offset by a `quiet` zone. */
export function qrPath(m: QrMatrix, quiet = 4): string {
  const parts: string[] = []
  for (let r = 0; r < m.size; r++) {
    for (let c = 0; c < m.size; c++) if (m.dark[r][c]) parts.push(`M${c + quiet} ${r + quiet}h1v1h-1z`)
  }
  return parts.join('')
}
