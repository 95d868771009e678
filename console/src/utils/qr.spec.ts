// Unit tests of the QR encoder: Reed–Solomon against the standard's worked example, format and version bits, and the symbol's fixed patterns.
import { describe, expect, it } from 'vitest'
import { dataCodewords, encodeQr, formatBits, interleave, qrPath, reedSolomon, versionBits, versionFor } from './qr'

describe('QR encoder', () => {
  it('computes the error correction of the 1-M "HELLO WORLD" example', () => {
    const data = [32, 91, 11, 120, 209, 114, 220, 77, 67, 64, 236, 17, 236, 17, 236, 17]
    expect(reedSolomon(data, 10)).toEqual([196, 35, 39, 119, 235, 215, 231, 226, 93, 23])
  })

  it('writes the format and version information with their BCH codes', () => {
    expect(formatBits(0)).toBe(0b101010000010010)
    expect(formatBits(5)).toBe(0b100000011001110)
    expect(versionBits(7)).toBe(0x07c94)
    expect(versionBits(10)).toBe(0x0a4d3)
  })

  it('picks the smallest version at level M and pads with 0xEC 0x11', () => {
    expect(versionFor(14)).toBe(1)
    expect(versionFor(15)).toBe(2)
    expect(versionFor(64)).toBe(5)
    expect(versionFor(213)).toBe(10)
    expect(versionFor(214)).toBeNull()
    const cw = dataCodewords([0x41], 1)
    expect(cw).toHaveLength(16)
    expect(cw.slice(0, 3)).toEqual([0x40, 0x14, 0x10])
    expect(cw.slice(3, 6)).toEqual([0xec, 0x11, 0xec])
    // version 5 at M: two blocks of 43 data and 24 EC codewords, 134 in all
    expect(interleave(dataCodewords(new Array(60).fill(0x61), 5), 5)).toHaveLength(134)
  })

  it('draws the finder, timing and dark modules', () => {
    const m = encodeQr('AVP1.9QT1bkAqqn5yuCxg2Wt5wXo6')
    expect(m.version).toBe(3)
    expect(m.size).toBe(29)
    const ring = (r0: number, c0: number) =>
      [0, 1, 2, 3, 4, 5, 6].map((i) => [m.dark[r0][c0 + i], m.dark[r0 + i][c0], m.dark[r0 + 2][c0 + 2 + (i % 3)]])
    for (const [r, c] of [
      [0, 0],
      [0, m.size - 7],
      [m.size - 7, 0],
    ]) {
      expect(ring(r, c).flat().every(Boolean)).toBe(true)
      expect(m.dark[r + 1][c + 1]).toBe(false)
    }
    for (let i = 8; i < m.size - 8; i++) {
      expect(m.dark[6][i]).toBe(i % 2 === 0)
      expect(m.dark[i][6]).toBe(i % 2 === 0)
    }
    expect(m.dark[m.size - 8][8]).toBe(true)
    expect(qrPath(m)).toMatch(/^M4 4h1v1h-1z/)
  })

  it('encodes a dynamic door code (64 bytes) as version 5 and refuses what no version up to 10 holds', () => {
    const m = encodeQr('AQR1.1.1795523126970.jv4XYeYGZu3j8PJMpb9E2zffc7ZKTVyjZNmLyiSSyKw')
    expect([m.version, m.size]).toEqual([5, 37])
    expect(encodeQr('x'.repeat(200)).version).toBe(10)
    expect(() => encodeQr('x'.repeat(300))).toThrow(RangeError)
  })
})
