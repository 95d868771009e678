// Pinia store of the signed-in user: login, logout, the token and `/auth/me`.
import { defineStore } from 'pinia'
import { computed, ref } from 'vue'
import { auth as authApi } from '@/api'
import { clearToken, getToken, setToken } from '@/api/token'
import type { Me } from '@/api/types'
import { can as roleCan, type Gate } from '@/utils/permissions'

export const useAuthStore = defineStore('auth', () => {
  const token = ref<string | null>(getToken())
  const user = ref<Me | null>(null)

  const isLoggedIn = computed(() => token.value !== null)
  const role = computed(() => user.value?.role ?? null)

  /** Whether the user's role may do `need` (any one of a list). */
  function can(need: Gate): boolean {
    return roleCan(role.value, need)
  }

  async function login(username: string, password: string): Promise<void> {
    const res = await authApi.login(username, password)
    setToken(res.token, res.expires_at)
    token.value = res.token
    user.value = { ...res.user, scopes: [] }
    try {
      await loadMe()
    } catch {
      // the summary from the login answer is enough to go on
    }
  }

  async function loadMe(): Promise<Me> {
    const me = await authApi.me()
    user.value = me
    return me
  }

  /** Forgets the session locally (after a 401, or once logout was sent). */
  function reset(): void {
    clearToken()
    token.value = null
    user.value = null
  }

  async function logout(): Promise<void> {
    try {
      if (token.value) await authApi.logout()
    } catch {
      // the token is dropped either way
    }
    reset()
  }

  return { token, user, isLoggedIn, role, can, login, loadMe, logout, reset }
})
