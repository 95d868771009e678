// Console entry point: creates the Vue app with Pinia, vue-i18n, the router and the API error hooks.
import { createApp } from 'vue'
import { createPinia } from 'pinia'
import { ElMessage } from 'element-plus'
import 'element-plus/es/components/message/style/css'
import App from './App.vue'
import { router } from './router'
import { currentLocale, errorText, i18n } from './i18n'
import { setErrorNotifier, setUnauthorizedHandler } from './api/http'
import { useAuthStore } from './stores/auth'
import { useDirectoryStore } from './stores/directory'
import './styles.css'

const app = createApp(App)
const pinia = createPinia()
app.use(pinia)
app.use(i18n)
app.use(router)

document.documentElement.lang = currentLocale.value

setErrorNotifier((err) => {
  ElMessage({ type: 'error', message: errorText(err), grouping: true, showClose: true })
})

setUnauthorizedHandler(() => {
  useAuthStore(pinia).reset()
  useDirectoryStore(pinia).clear()
  const current = router.currentRoute.value
  if (current.name !== 'login') {
    ElMessage({ type: 'warning', message: i18n.global.t('errors.session_expired'), grouping: true })
    void router.replace({ name: 'login', query: { redirect: current.fullPath } })
  }
})

app.mount('#app')
