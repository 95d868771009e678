// Composable that keeps the live feed (SSE over fetch) open while the component is mounted and tells its connection state.
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { openLive, type LiveConnection, type LiveStatus } from '@/api/live'
import type { LiveEvent } from '@/api/types'

/** Opens the live feed on mount, calls `onEvent` for each event, closes it on unmount. */
export function useLiveFeed(onEvent: (event: LiveEvent) => void) {
  const status = ref<LiveStatus>('connecting')
  let connection: LiveConnection | null = null

  onMounted(() => {
    connection = openLive({ onEvent, onStatus: (s) => (status.value = s) })
  })

  onBeforeUnmount(() => {
    connection?.close()
    connection = null
  })

  return { status }
}
