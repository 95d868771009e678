// Pure display helpers of the access pages (通行记录, 岗亭呼叫): tag colours and the booth refusal note's check.

/** The `type` of an el-tag. */
export type TagType = 'primary' | 'success' | 'warning' | 'info' | 'danger'

/** Green for an opened door, red for a refusal, grey for an outcome the console does not know. */
export function outcomeTagType(outcome: string | null | undefined): TagType {
  if (outcome === 'open') return 'success'
  if (outcome === 'deny') return 'danger'
  return 'info'
}

/** Tag colour of each booth call status: ringing stands out, closed calls are quiet. */
export const BOOTH_STATUS_TAG: Readonly<Record<string, TagType>> = {
  ringing: 'warning',
  accepted: 'success',
  denied: 'danger',
  timed_out: 'info',
  abandoned: 'info',
}

/** The tag colour of a booth call status ('info' for one the console does not know). */
export function boothStatusTagType(status: string | null | undefined): TagType {
  return (status && BOOTH_STATUS_TAG[status]) || 'info'
}

/** The longest note the server keeps with a refused call, in characters. */
export const DENY_MESSAGE_MAX = 64

/**
 * Whether `text` may go with a refusal: empty (no note), or at most 64 printable characters
 * once trimmed, counted as the server counts them (code points, not UTF-16 units).
 */
export function isValidDenyMessage(text: string | null | undefined): boolean {
  const v = (text ?? '').trim()
  if (v === '') return true
  return [...v].length <= DENY_MESSAGE_MAX && !/[\u0000-\u001f\u007f-\u009f]/.test(v)
}
