// Composable that calls a function every few seconds while the page is visible (auto-refresh), and stops with the component.
import { onBeforeUnmount, onMounted, ref, watch, type Ref } from 'vue'

/** A repeating call: `start` and `stop` it, or `runNow`. */
export interface Poller {
  start(): void
  stop(): void
  /** Calls the function now, unless the page is hidden or a call is still running. */
  runNow(): Promise<void>
  readonly running: boolean
}

/** Whether the browser shows the page (true outside a browser). */
function pageVisible(): boolean {
  return typeof document === 'undefined' || document.visibilityState !== 'hidden'
}

/**
 * The timer behind `usePolling`, without Vue: calls `tick` every `intervalMs` while `isVisible()`,
 * never two at once (a slow answer delays the next call instead of stacking calls); errors are dropped.
 */
export function createPoller(
  tick: () => unknown,
  intervalMs: number,
  isVisible: () => boolean = pageVisible,
): Poller {
  let timer: ReturnType<typeof setInterval> | null = null
  let busy = false

  async function runNow(): Promise<void> {
    if (busy || !isVisible()) return
    busy = true
    try {
      await tick()
    } catch {
      // the next tick tries again
    } finally {
      busy = false
    }
  }

  return {
    start() {
      if (timer === null) timer = setInterval(() => void runNow(), intervalMs)
    },
    stop() {
      if (timer !== null) clearInterval(timer)
      timer = null
    },
    runNow,
    get running() {
      return timer !== null
    },
  }
}

/**
 * Calls `tick` every `intervalMs` while `enabled` is on and the page is visible, from mount to
 * unmount (the timer is cleared then); coming back to the tab refreshes at once.
 */
export function usePolling(tick: () => unknown, intervalMs: number, enabled: Ref<boolean> = ref(true)): Poller {
  const poller = createPoller(tick, intervalMs)
  let mounted = false

  function onVisibility(): void {
    if (poller.running && pageVisible()) void poller.runNow()
  }

  watch(enabled, (on) => {
    if (!mounted) return
    if (on) poller.start()
    else poller.stop()
  })

  onMounted(() => {
    mounted = true
    if (enabled.value) poller.start()
    document.addEventListener('visibilitychange', onVisibility)
  })

  onBeforeUnmount(() => {
    mounted = false
    poller.stop()
    document.removeEventListener('visibilitychange', onVisibility)
  })

  return poller
}
