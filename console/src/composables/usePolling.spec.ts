// Unit tests of the auto-refresh timer: the interval, hidden pages, no overlapping calls, and clean-up on unmount.
// @vitest-environment happy-dom
import { afterEach, beforeEach, describe, expect, it, vi } from 'vitest'
import { createApp, defineComponent, h, nextTick, ref } from 'vue'
import { createPoller, usePolling } from './usePolling'

beforeEach(() => {
  vi.useFakeTimers()
})

afterEach(() => {
  vi.useRealTimers()
})

describe('createPoller', () => {
  it('calls every interval until stopped', async () => {
    const tick = vi.fn()
    const poller = createPoller(tick, 2000, () => true)
    poller.start()
    poller.start() // a second start keeps one timer
    expect(poller.running).toBe(true)
    await vi.advanceTimersByTimeAsync(6000)
    expect(tick).toHaveBeenCalledTimes(3)
    poller.stop()
    expect(poller.running).toBe(false)
    await vi.advanceTimersByTimeAsync(6000)
    expect(tick).toHaveBeenCalledTimes(3)
  })

  it('skips ticks while the page is hidden', async () => {
    let visible = false
    const tick = vi.fn()
    const poller = createPoller(tick, 1000, () => visible)
    poller.start()
    await vi.advanceTimersByTimeAsync(3000)
    expect(tick).not.toHaveBeenCalled()
    visible = true
    await vi.advanceTimersByTimeAsync(1000)
    expect(tick).toHaveBeenCalledOnce()
    poller.stop()
  })

  it('never runs two calls at once and survives a failing call', async () => {
    let resolve: () => void = () => {}
    const tick = vi.fn(() => new Promise<void>((r) => (resolve = r)))
    const poller = createPoller(tick, 1000, () => true)
    poller.start()
    await vi.advanceTimersByTimeAsync(5000)
    expect(tick).toHaveBeenCalledOnce()
    resolve()
    await vi.advanceTimersByTimeAsync(1000)
    expect(tick).toHaveBeenCalledTimes(2)
    poller.stop()

    const failing = vi.fn(() => Promise.reject(new Error('offline')))
    const p2 = createPoller(failing, 1000, () => true)
    p2.start()
    await vi.advanceTimersByTimeAsync(3000)
    expect(failing).toHaveBeenCalledTimes(3)
    p2.stop()
  })
})

describe('usePolling', () => {
  it('runs from mount, follows the switch, and clears its timer on unmount', async () => {
    const tick = vi.fn()
    const enabled = ref(true)
    const Comp = defineComponent({
      setup() {
        usePolling(tick, 5000, enabled)
        return () => h('div')
      },
    })
    const root = document.createElement('div')
    const app = createApp(Comp)
    app.mount(root)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(tick).toHaveBeenCalledTimes(2)

    enabled.value = false
    await nextTick()
    await vi.advanceTimersByTimeAsync(10_000)
    expect(tick).toHaveBeenCalledTimes(2)

    enabled.value = true
    await nextTick()
    await vi.advanceTimersByTimeAsync(5000)
    expect(tick).toHaveBeenCalledTimes(3)

    app.unmount()
    expect(vi.getTimerCount()).toBe(0)
    await vi.advanceTimersByTimeAsync(10_000)
    expect(tick).toHaveBeenCalledTimes(3)
  })
})
