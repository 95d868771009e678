// The district programme's API (/programme/…): the dashboard's figures, progress against the targets, the task
// table and its exports. Every figure is computed by the server from live data; the console only shows it.
import { request, requestBlob } from './http'

/** Installed, networked (data arrived and, where the police get it, acknowledged) and active devices. */
export interface Tally {
  installed: number
  networked: number
  active: number
  networked_pct: number | null
  active_pct: number | null
}

export interface ProgrammeWindow {
  since: string
  until: string
  police_door_records: boolean
  police_captures: boolean
}

export interface ProgressRow {
  level: 'district' | 'street'
  code: string
  name: string
  year: number
  segment: string
  segment_label: string
  metric: 'built' | 'networked'
  target_pct: number | null
  target_from: string | null
  sum_of_parts_pct: number | null
  communities: number
  planned: number
  reached: number
  reached_pct: number | null
  short_of_target: number | null
  covered_now: number | null
}

export interface ProgrammeSummary {
  district_code: string
  window: ProgrammeWindow
  communities: number
  by_category: Record<string, number>
  by_stage: Record<string, number>
  kit_complete: number
  covered: number
  devices: Record<string, Tally>
  total: Tally
  progress: ProgressRow[]
  /** Devices heard from within the last two minutes. */
  online: number
  /** Projects by their latest acceptance's status (`open`, `accepted`, `rejected`; `none`: never requested). */
  acceptances: Record<string, number>
  /** Awards (subsidies) by status (`computed`, `approved`, `paid`). */
  awards: Record<string, { projects: number; amount_fen: number }>
  funding_planned_fen: number
  funding_actual_fen: number
}

export interface District {
  code: string
  streets: number
}

export interface NetworkingRow {
  level: 'district' | 'street' | 'community'
  code: string
  name: string
  classes: Record<string, Tally>
  total: Tally
}

export interface TaskRow {
  street: string
  code: string
  community: string
  community_id: number
  category: string
  category_label: string
  funding_mode: string | null
  planned_year: number | null
  stage: string | null
  stage_label: string | null
  stage_date: string | null
  required: number
  met: number
  networked: number
  gaps: string[]
  networked_pct: number | null
  project_id: number | null
}

export interface Ticket {
  id: number
  device_id: number
  community_id: number
  contractor: string
  reason: string
  opened_at: string
  due_at: string
  resolved_at: string | null
}

export interface AlarmStats {
  total: number
  open_new: number
  in_hand: number
  resolved: number
  false_alarms: number
  within_sla: number
  breached_sla: number
  mean_ack_secs: number | null
  by_kind: Record<string, number>
}

export type ProgrammeReport = 'tasks' | 'progress' | 'assessment'

interface Items<T> {
  items: T[]
}

export const programme = {
  districts: () => request<Items<District>>('GET', '/programme/districts'),
  summary: (district: string) => request<ProgrammeSummary>('GET', '/programme/summary', { query: { district } }),
  progress: (district: string) => request<Items<ProgressRow>>('GET', '/programme/progress', { query: { district } }),
  networking: (days?: number) =>
    request<{ window: ProgrammeWindow; items: NetworkingRow[] }>('GET', '/programme/networking', {
      query: { days },
    }),
  tasks: (district?: string) => request<Items<TaskRow>>('GET', '/programme/tasks', { query: { district } }),
  openTickets: () => request<Items<Ticket>>('GET', '/programme/tickets', { query: { open: true }, silent: true }),
  alarmStats: () => request<AlarmStats>('GET', '/alarms/stats', { silent: true }),
  export: (report: ProgrammeReport, district?: string) =>
    requestBlob('GET', `/programme/exports/${report}`, `programme-${report}.xlsx`, { query: { district } }),
}
