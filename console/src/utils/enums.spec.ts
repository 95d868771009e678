// Unit tests of the enum label maps: every value labelled in both languages, Chinese labels as specified.
import { describe, expect, it } from 'vitest'
import zhCN from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { ENUM_GROUPS, enumLabel, type EnumGroup, type MessageTree } from './enums'

const zh = zhCN.enums as unknown as MessageTree
const english = en.enums as unknown as MessageTree

describe('enum labels', () => {
  it('label every value of every group in zh-CN and en, and nothing else', () => {
    for (const [group, values] of Object.entries(ENUM_GROUPS) as [EnumGroup, readonly string[]][]) {
      for (const table of [zh, english]) {
        const labels = table[group] as Record<string, string>
        expect(labels, group).toBeTypeOf('object')
        expect(Object.keys(labels).sort(), group).toEqual([...values].sort())
        for (const value of values) expect(labels[value], `${group}.${value}`).toBeTruthy()
      }
    }
  })

  it('use the Chinese names of the specification', () => {
    expect(enumLabel(zh, 'category', 'open_video_only')).toBe('开放式仅视频')
    expect(enumLabel(zh, 'category', 'open_closable')).toBe('开放式可封闭')
    expect(enumLabel(zh, 'propertyType', 'commercial')).toBe('商品房')
    expect(enumLabel(zh, 'houseUse', 'rented')).toBe('出租')
    expect(enumLabel(zh, 'populationType', 'floating')).toBe('流动')
    expect(enumLabel(zh, 'houseRole', 'staff')).toBe('工作人员')
    expect(enumLabel(zh, 'deviceKind', 'barrier_gate')).toBe('道闸车牌识别')
    expect(enumLabel(zh, 'role', 'community_police')).toBe('社区民警')
    expect(enumLabel(zh, 'role', 'big_data_centre')).toBe('大数据中心')
    expect(enumLabel(english, 'role', 'auditor')).toBe('Auditor')
  })

  it('show unknown values as sent and empty ones as a dash', () => {
    expect(enumLabel(zh, 'deviceKind', 'drone')).toBe('drone')
    expect(enumLabel(zh, 'plateColor', null)).toBe('—')
    expect(enumLabel(zh, 'plateColor', '')).toBe('—')
  })
})
