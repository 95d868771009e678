// Composable for a filterable, paginated table backed by a list endpoint.
import { reactive, ref, shallowRef } from 'vue'
import type { Page } from '@/api/types'
import type { PageQuery } from '@/api'

export const PAGE_SIZES = [10, 20, 50, 100]

/**
 * State and actions of one list page. `filters` is a reactive object whose fields are sent as
 * query parameters next to `page` and `page_size`; `search()` goes back to page 1.
 */
export function usePagedList<T, F extends object>(
  fetchPage: (query: F & PageQuery) => Promise<Page<T>>,
  initialFilters: F,
  initialPageSize = 20,
) {
  const filters = reactive({ ...initialFilters }) as F
  const items = shallowRef<T[]>([])
  const total = ref(0)
  const page = ref(1)
  const pageSize = ref(initialPageSize)
  const loading = ref(false)
  let generation = 0

  /** Fetches the current page; `quiet` (for polling) keeps the table's loading mask off. */
  async function load(opts: { quiet?: boolean } = {}): Promise<void> {
    const mine = ++generation
    if (!opts.quiet) loading.value = true
    try {
      const res = await fetchPage({ ...(filters as F), page: page.value, page_size: pageSize.value })
      if (mine !== generation) return
      items.value = res.items
      total.value = res.total
    } catch {
      if (mine !== generation) return
      items.value = []
      total.value = 0
    } finally {
      if (mine === generation) loading.value = false
    }
  }

  function search(): Promise<void> {
    page.value = 1
    return load()
  }

  function reset(): Promise<void> {
    Object.assign(filters, initialFilters)
    return search()
  }

  function onPageChange(p: number): void {
    page.value = p
    void load()
  }

  function onSizeChange(size: number): void {
    pageSize.value = size
    page.value = 1
    void load()
  }

  return { filters, items, total, page, pageSize, loading, load, search, reset, onPageChange, onSizeChange }
}
