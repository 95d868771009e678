// Pure rules of the alarm centre as the console shows them: which steps a state allows, the acknowledgement deadline and its timer, tag colours.
import type { TagType } from './access'

/** The steps an alarm in `state` allows (anfang-domain `AlarmState::apply`); closed alarms allow none. */
export function alarmActions(state: string): ('acknowledge' | 'dispatch' | 'resolve' | 'mark_false')[] {
  switch (state) {
    case 'new':
      return ['acknowledge', 'dispatch', 'resolve', 'mark_false']
    case 'acknowledged':
      return ['dispatch', 'resolve', 'mark_false']
    case 'dispatched':
      return ['resolve', 'mark_false']
    default:
      return []
  }
}

/** Whether the alarm is still open (not resolved, not a false alarm). */
export function alarmOpen(state: string): boolean {
  return state === 'new' || state === 'acknowledged' || state === 'dispatched'
}

/**
 * The platform's default acknowledgement deadlines (`AlarmSla::default`): critical 1 min, major
 * 5 min, minor 30 min — used only where an alarm comes without the API's `ack_due_at`.
 */
export const ACK_WITHIN_MS: Readonly<Record<string, number>> = {
  critical: 60_000,
  major: 300_000,
  minor: 1_800_000,
}

/** Who is told at each escalation level (`AlarmSla::default`'s chain). */
export const ESCALATION_CHAIN: readonly string[] = ['guard', 'property_manager', 'community_police']

/** How an alarm stands against its acknowledgement deadline at `now` (ms). */
export type SlaState =
  | { kind: 'running'; leftMs: number }
  | { kind: 'overdue'; overMs: number }
  | { kind: 'met' }
  | { kind: 'late' }

export function slaState(
  alarm: {
    severity: string
    raised_at: string
    acknowledged_at: string | null
    closed_at?: string | null
    /** The deadline under the deployment's own SLA, as the API reports it. */
    ack_due_at?: string | null
  },
  now: number,
): SlaState {
  const raised = Date.parse(alarm.raised_at)
  const due = alarm.ack_due_at ? Date.parse(alarm.ack_due_at) : raised + (ACK_WITHIN_MS[alarm.severity] ?? ACK_WITHIN_MS.minor)
  const answered = alarm.acknowledged_at ?? alarm.closed_at ?? null
  if (answered) return Date.parse(answered) <= due ? { kind: 'met' } : { kind: 'late' }
  const left = due - now
  return left >= 0 ? { kind: 'running', leftMs: left } : { kind: 'overdue', overMs: -left }
}

/** A duration as `1:05:09`, `5:09` or `0:09` (hours only when needed). */
export function formatDuration(ms: number): string {
  const total = Math.max(0, Math.floor(ms / 1000))
  const h = Math.floor(total / 3600)
  const m = Math.floor((total % 3600) / 60)
  const s = total % 60
  const two = (n: number) => String(n).padStart(2, '0')
  return h > 0 ? `${h}:${two(m)}:${two(s)}` : `${m}:${two(s)}`
}

export function severityTagType(severity: string): TagType {
  if (severity === 'critical') return 'danger'
  if (severity === 'major') return 'warning'
  return 'info'
}

export function alarmStateTagType(state: string): TagType {
  switch (state) {
    case 'new':
      return 'danger'
    case 'acknowledged':
      return 'warning'
    case 'dispatched':
      return 'primary'
    case 'resolved':
      return 'success'
    default:
      return 'info'
  }
}

/** Tag colour of a warning state: waiting ones stand out. */
export function warningStateTagType(state: string): TagType {
  switch (state) {
    case 'to_confirm':
      return 'danger'
    case 'open':
      return 'warning'
    case 'confirmed':
      return 'primary'
    case 'closed':
      return 'success'
    default:
      return 'info'
  }
}

/** The steps a warning in `state` allows (anfang-domain `WarningState::apply`). */
export function warningActions(state: string): ('confirm' | 'reject' | 'close')[] {
  if (state === 'to_confirm') return ['confirm', 'reject']
  if (state === 'open' || state === 'confirmed') return ['close']
  return []
}
