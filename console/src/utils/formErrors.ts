// Mapping a server validation error onto a form field, and clearing such errors as the user edits (pure).
import type { ApiError } from '@/api/errors'

/** `{field, message}` when the error names one of the form's `fields`, else null (show it as a message). */
export function fieldErrorOf(
  err: Pick<ApiError, 'field' | 'message'>,
  fields: readonly string[],
): { field: string; message: string } | null {
  if (!err.field) return null
  // The server may name a nested field (`houses[0].lease_end`, `person.id_number`): match on the last segment.
  const name = err.field.split(/[.[\]]/).filter(Boolean).pop() ?? err.field
  if (fields.includes(err.field)) return { field: err.field, message: err.message }
  if (fields.includes(name)) return { field: name, message: err.message }
  return null
}

/** The keys whose values differ between two snapshots of a form (to drop their stale server errors). */
export function changedKeys(before: Record<string, unknown>, after: Record<string, unknown>): string[] {
  const keys = new Set([...Object.keys(before), ...Object.keys(after)])
  return [...keys].filter((k) => JSON.stringify(before[k]) !== JSON.stringify(after[k]))
}
