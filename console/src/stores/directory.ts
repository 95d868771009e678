// Pinia store caching the streets and communities in the user's scope, for filters and name look-ups.
import { defineStore } from 'pinia'
import { ref } from 'vue'
import { communities as communitiesApi, fetchAll, streets as streetsApi } from '@/api'
import type { Community, Street } from '@/api/types'

export const useDirectoryStore = defineStore('directory', () => {
  const communities = ref<Community[]>([])
  const streets = ref<Street[]>([])
  const loaded = ref(false)
  let pending: Promise<void> | null = null

  /** Loads both lists once (again when `force`); failures leave them empty. */
  function load(force = false): Promise<void> {
    if (loaded.value && !force) return Promise.resolve()
    if (pending) return pending
    pending = (async () => {
      const [c, s] = await Promise.allSettled([
        fetchAll((q) => communitiesApi.list(q)),
        fetchAll((q) => streetsApi.list(q)),
      ])
      communities.value = c.status === 'fulfilled' ? c.value : []
      streets.value = s.status === 'fulfilled' ? s.value : []
      loaded.value = true
    })().finally(() => {
      pending = null
    })
    return pending
  }

  function communityName(id: number | null | undefined): string {
    if (id === null || id === undefined) return '—'
    return communities.value.find((c) => c.id === id)?.name ?? `#${id}`
  }

  function streetName(id: number | null | undefined): string {
    if (id === null || id === undefined) return '—'
    return streets.value.find((s) => s.id === id)?.name ?? `#${id}`
  }

  function clear(): void {
    communities.value = []
    streets.value = []
    loaded.value = false
  }

  return { communities, streets, loaded, load, communityName, streetName, clear }
})
