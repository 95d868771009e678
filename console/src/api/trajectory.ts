// A person's or a plate's trajectory in one community (GET /trajectory): where they were seen, oldest first, each
// point with the device that saw it. Every read is audited by the server as personal-data access.
import { request } from './http'

export interface TrajectoryPoint {
  at: string
  /** `access` (a door decision), `gate_in` / `gate_out` (the car park's lane), `capture` (a vehicle capture). */
  source: 'access' | 'gate_in' | 'gate_out' | 'capture'
  device_id: number
  record_id: number
  /** `open` or `deny` for access records. */
  outcome: string | null
}

export interface Trajectory {
  community_id: number
  since: string
  until: string
  points: TrajectoryPoint[]
}

export interface TrajectoryQuery {
  community_id: number
  person_id?: number
  plate?: string
  since?: string
  until?: string
}

export const trajectory = {
  get: (q: TrajectoryQuery) => request<Trajectory>('GET', '/trajectory', { query: { ...q } }),
}
