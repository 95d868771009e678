// Unit tests of the alarm centre's rules as shown: allowed steps per state, the acknowledgement timer, durations, warning steps, and the site plan's layout.
import { describe, expect, it } from 'vitest'
import { alarmActions, alarmOpen, formatDuration, slaState, warningActions } from './alarms'
import { planLayout } from './sitePlan'
import type { Building, Device, Place } from '@/api/types'

describe('alarm rules', () => {
  it('offer the steps the lifecycle allows', () => {
    expect(alarmActions('new')).toEqual(['acknowledge', 'dispatch', 'resolve', 'mark_false'])
    expect(alarmActions('acknowledged')).toEqual(['dispatch', 'resolve', 'mark_false'])
    expect(alarmActions('dispatched')).toEqual(['resolve', 'mark_false'])
    expect(alarmActions('resolved')).toEqual([])
    expect(alarmActions('false_alarm')).toEqual([])
    expect(alarmOpen('dispatched')).toBe(true)
    expect(alarmOpen('resolved')).toBe(false)
  })

  it('time the acknowledgement against the deadline of its severity', () => {
    const raised = '2026-11-24T12:00:00Z'
    const t0 = Date.parse(raised)
    const alarm = { severity: 'critical', raised_at: raised, acknowledged_at: null }
    expect(slaState(alarm, t0 + 20_000)).toEqual({ kind: 'running', leftMs: 40_000 })
    expect(slaState(alarm, t0 + 90_000)).toEqual({ kind: 'overdue', overMs: 30_000 })
    expect(slaState({ ...alarm, severity: 'minor' }, t0 + 90_000)).toEqual({ kind: 'running', leftMs: 1_710_000 })
    expect(slaState({ ...alarm, acknowledged_at: '2026-11-24T12:00:59Z' }, t0 + 1e9)).toEqual({ kind: 'met' })
    expect(slaState({ ...alarm, acknowledged_at: '2026-11-24T12:01:01Z' }, t0)).toEqual({ kind: 'late' })
    // The API's deadline (the deployment's own SLA) wins over the default.
    const due = { ...alarm, ack_due_at: '2026-11-24T12:02:00Z' }
    expect(slaState(due, t0 + 90_000)).toEqual({ kind: 'running', leftMs: 30_000 })
    expect(slaState({ ...due, acknowledged_at: '2026-11-24T12:01:30Z' }, t0)).toEqual({ kind: 'met' })
  })

  it('formats durations', () => {
    expect(formatDuration(9_000)).toBe('0:09')
    expect(formatDuration(309_000)).toBe('5:09')
    expect(formatDuration(3_909_000)).toBe('1:05:09')
    expect(formatDuration(-5)).toBe('0:00')
  })

  it('offer the warning steps its state allows', () => {
    expect(warningActions('to_confirm')).toEqual(['confirm', 'reject'])
    expect(warningActions('open')).toEqual(['close'])
    expect(warningActions('confirmed')).toEqual(['close'])
    expect(warningActions('closed')).toEqual([])
  })
})

describe('site plan layout', () => {
  const device = (id: number, extra: Partial<Device>): Device => ({
    id,
    code: String(id),
    name: `d${id}`,
    kind: 'video_camera',
    protocol: 'gb28181',
    community_id: 1,
    place_id: null,
    x: null,
    y: null,
    install_date: null,
    contractor: null,
    online: false,
    ...extra,
  })
  const place: Place = { id: 7, kind: 'pedestrian_entrance', name: '南门', x: 200, y: 295 }
  const building: Building = { id: 1, community_id: 1, number: '1', name: '', floors: 6, x: 50, y: 60 }

  it('places devices by their coordinates, else round their place, and counts the rest', () => {
    const layout = planLayout(400, 300, [building], [place], [
      device(1, { x: 10, y: 20, online: true }),
      device(2, { place_id: 7 }),
      device(3, { place_id: 7, online: true }),
      device(4, {}),
      device(5, { x: 900, y: -4 }),
    ])
    expect(layout.unit).toBe(10)
    expect(layout.buildings.map((b) => [b.x, b.y])).toEqual([[50, 60]])
    expect(layout.devices.map((d) => d.id)).toEqual([1, 2, 3, 5])
    expect(layout.devices[1]).toMatchObject({ x: 210, y: 295 })
    expect(layout.devices[2].x).toBeCloseTo(205)
    expect(layout.devices[2].y).toBeCloseTo(300)
    expect(layout.devices[3]).toMatchObject({ x: 400, y: 0 })
    expect(layout.unplaced).toBe(1)
    expect(layout.online).toBe(2)
  })
})
