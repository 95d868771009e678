// Composable that keeps the live feed (SSE over fetch) open while the component is mounted and tells its connection state.
import { onBeforeUnmount, onMounted, ref } from 'vue'
import { openLive, type LiveConnection, type LiveStatus } from '@/api/live'
import type { LiveEvent } from '@/api/types'
import { useAuthStore } from '@/stores/auth'
import { LIVE_NEED } from '@/utils/permissions'

/**
 * Opens the live feed on mount, calls `onEvent` for each event, closes it on unmount. A role
 * without a live view (a resident, a welfare officer) is never connected: the server would
 * answer 403.
 */
export function useLiveFeed(onEvent: (event: LiveEvent) => void) {
  const status = ref<LiveStatus>('connecting')
  let connection: LiveConnection | null = null
  const auth = useAuthStore()

  onMounted(() => {
    if (!auth.can(LIVE_NEED)) {
      status.value = 'forbidden'
      return
    }
    connection = openLive({ onEvent, onStatus: (s) => (status.value = s) })
  })

  onBeforeUnmount(() => {
    connection?.close()
    connection = null
  })

  return { status }
}
