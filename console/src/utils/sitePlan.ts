// Pure layout of a community's site plan: what is drawn where, in the plan's own metres (devices without coordinates at their place, fanned out).
import type { Building, Device, Place } from '@/api/types'

export interface PlanLayout {
  /** The drawing unit: a fortieth of the plan's longer side. */
  unit: number
  buildings: { id: number; x: number; y: number; building: Building }[]
  places: { id: number; x: number; y: number; place: Place }[]
  devices: { id: number; x: number; y: number; device: Device }[]
  /** Devices with neither coordinates nor a place on the plan. */
  unplaced: number
  online: number
}

function finite(v: number | null | undefined): v is number {
  return typeof v === 'number' && Number.isFinite(v)
}

/** Keeps a point inside the plan. */
function clamp(v: number, max: number): number {
  return Math.min(Math.max(v, 0), max)
}

export function planLayout(
  width: number,
  height: number,
  buildings: readonly Building[],
  places: readonly Place[],
  devices: readonly Device[],
): PlanLayout {
  const unit = Math.max(width, height) / 40
  const placeById = new Map(places.filter((p) => finite(p.x) && finite(p.y)).map((p) => [p.id, p]))
  const atPlace = new Map<number, number>()
  const out: PlanLayout = {
    unit,
    buildings: buildings
      .filter((b) => finite(b.x) && finite(b.y))
      .map((b) => ({ id: b.id, x: clamp(b.x as number, width), y: clamp(b.y as number, height), building: b })),
    places: [...placeById.values()].map((p) => ({ id: p.id, x: clamp(p.x, width), y: clamp(p.y, height), place: p })),
    devices: [],
    unplaced: 0,
    online: 0,
  }
  for (const d of devices) {
    let x: number
    let y: number
    if (finite(d.x) && finite(d.y)) {
      x = d.x
      y = d.y
    } else if (d.place_id !== null && placeById.has(d.place_id)) {
      // Devices at one place sit on a small circle round it, so each stays visible.
      const p = placeById.get(d.place_id) as Place
      const n = atPlace.get(p.id) ?? 0
      atPlace.set(p.id, n + 1)
      const angle = (n * Math.PI) / 3
      x = p.x + Math.cos(angle) * unit
      y = p.y + Math.sin(angle) * unit
    } else {
      out.unplaced++
      continue
    }
    out.devices.push({ id: d.id, x: clamp(x, width), y: clamp(y, height), device: d })
    if (d.online) out.online++
  }
  return out
}
