// Unit tests of the access pages' helpers: outcome and booth-status tag colours, reason labels, the refusal note's check.
import { describe, expect, it } from 'vitest'
import zhCN from '@/i18n/zh-CN'
import en from '@/i18n/en'
import { BOOTH_STATUS_TAG, boothStatusTagType, isValidDenyMessage, outcomeTagType } from './access'
import { ACCESS_REASONS, BOOTH_CALL_STATUSES, enumLabel, type MessageTree } from './enums'

const zh = zhCN.enums as unknown as MessageTree
const english = en.enums as unknown as MessageTree

describe('outcome tags', () => {
  it('are green for open, red for deny, grey otherwise', () => {
    expect(outcomeTagType('open')).toBe('success')
    expect(outcomeTagType('deny')).toBe('danger')
    expect(outcomeTagType('maybe')).toBe('info')
    expect(outcomeTagType(null)).toBe('info')
  })
})

describe('booth status tags', () => {
  it('colour every status, ringing standing out', () => {
    expect(Object.keys(BOOTH_STATUS_TAG).sort()).toEqual([...BOOTH_CALL_STATUSES].sort())
    expect(boothStatusTagType('ringing')).toBe('warning')
    expect(boothStatusTagType('accepted')).toBe('success')
    expect(boothStatusTagType('denied')).toBe('danger')
    expect(boothStatusTagType('timed_out')).toBe('info')
    expect(boothStatusTagType('abandoned')).toBe('info')
  })
  it('fall back to grey for an unknown or missing status', () => {
    expect(boothStatusTagType('escalated')).toBe('info')
    expect(boothStatusTagType(undefined)).toBe('info')
    expect(boothStatusTagType('')).toBe('info')
  })
})

describe('access reason labels', () => {
  it('cover every reason code of the server', () => {
    expect([...ACCESS_REASONS].sort()).toEqual(
      [
        'resident',
        'tenant_lease',
        'staff',
        'visitor_pass',
        'unknown_credential',
        'credential_invalid',
        'no_face_consent',
        'not_authorised_here',
        'lease_not_started',
        'lease_ended',
        'deny_listed',
        'not_an_access_point',
        'resident_vehicle',
        'temporary_parking',
        'parking_settled',
        'fee_due',
        'no_parking_session',
        'booth_accepted',
        'booth_denied',
        'booth_unanswered',
        'outside_schedule',
        'monthly_pass',
        'entry_check_denied',
        'entry_check_warned',
        'entry_check_unavailable',
      ].sort(),
    )
  })
  it('translate codes in both languages', () => {
    expect(enumLabel(zh, 'accessReason', 'fee_due')).toBe('停车费未缴')
    expect(enumLabel(zh, 'accessReason', 'not_authorised_here')).toBe('无此门通行权限')
    expect(enumLabel(zh, 'accessReason', 'booth_unanswered')).toBe('岗亭呼叫无人接听')
    expect(enumLabel(english, 'accessReason', 'lease_ended')).toBe('Lease ended')
    expect(enumLabel(english, 'accessReason', 'monthly_pass')).toBe('Monthly pass')
    expect(enumLabel(zh, 'accessOutcome', 'deny')).toBe('拒绝')
    expect(enumLabel(zh, 'credentialKind', 'card')).toBe('门禁卡')
    expect(enumLabel(zh, 'boothCallStatus', 'ringing')).toBe('呼叫中')
  })
  it('show an unknown code as sent', () => {
    expect(enumLabel(zh, 'accessReason', 'curfew')).toBe('curfew')
    expect(enumLabel(english, 'accessReason', 'curfew')).toBe('curfew')
    expect(enumLabel(zh, 'accessReason', null)).toBe('—')
  })
})

describe('refusal note', () => {
  it('may be empty or up to 64 characters, counted as the server does', () => {
    expect(isValidDenyMessage('')).toBe(true)
    expect(isValidDenyMessage('   ')).toBe(true)
    expect(isValidDenyMessage(undefined)).toBe(true)
    expect(isValidDenyMessage('住户不在家')).toBe(true)
    expect(isValidDenyMessage('访'.repeat(64))).toBe(true)
    expect(isValidDenyMessage(` ${'访'.repeat(64)} `)).toBe(true)
    expect(isValidDenyMessage('访'.repeat(65))).toBe(false)
    // 64 emoji are 128 UTF-16 units but 64 characters to the server
    expect(isValidDenyMessage('🚗'.repeat(64))).toBe(true)
    expect(isValidDenyMessage('🚗'.repeat(65))).toBe(false)
  })
  it('may not hold control characters', () => {
    expect(isValidDenyMessage('a\u0007b')).toBe(false)
    expect(isValidDenyMessage('line\nbreak')).toBe(false)
  })
})
