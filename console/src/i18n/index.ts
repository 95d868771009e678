// vue-i18n setup: zh-CN by default, English on request, the choice kept in localStorage.
import { computed } from 'vue'
import { createI18n } from 'vue-i18n'
import elZhCn from 'element-plus/es/locale/lang/zh-cn'
import elEn from 'element-plus/es/locale/lang/en'
import zhCN from './zh-CN'
import en from './en'
import { enumLabel, type EnumGroup, type MessageTree } from '@/utils/enums'
import type { ApiError } from '@/api/errors'

export type Locale = 'zh-CN' | 'en'

export const LOCALES: readonly Locale[] = ['zh-CN', 'en']

const LOCALE_KEY = 'anfang.locale'

export const messages = { 'zh-CN': zhCN, en } as const

function storedLocale(): Locale {
  try {
    const saved = localStorage.getItem(LOCALE_KEY)
    if (saved && (LOCALES as readonly string[]).includes(saved)) return saved as Locale
  } catch {
    // no storage: keep the default
  }
  return 'zh-CN'
}

export const i18n = createI18n({
  legacy: false,
  locale: storedLocale(),
  fallbackLocale: 'zh-CN',
  messages,
})

/** The current language (reactive). */
export const currentLocale = computed<Locale>(() => i18n.global.locale.value as Locale)

/** Element Plus's own strings (pagination, date pickers, empty tables) in the current language. */
export const elementLocale = computed(() => (currentLocale.value === 'en' ? elEn : elZhCn))

export function setLocale(locale: Locale): void {
  i18n.global.locale.value = locale
  document.documentElement.lang = locale
  try {
    localStorage.setItem(LOCALE_KEY, locale)
  } catch {
    // no storage: the choice lasts for this page only
  }
}

/** The label of an enum value in the current language (the raw value when unknown). */
export function label(group: EnumGroup, value: string | null | undefined): string {
  return enumLabel(messages[currentLocale.value].enums as unknown as MessageTree, group, value)
}

/** What to tell the user about a failed call: a localized text for transport-level codes, else the server's message, after the field's name. */
export function errorText(err: ApiError): string {
  const table = messages[currentLocale.value]
  const errors = table.errors as Record<string, string>
  const fields = table.fields as Record<string, string>
  const text = errors[err.code] ?? err.message
  if (!err.field) return text
  const sep = currentLocale.value === 'en' ? ': ' : '：'
  return `${fields[err.field] ?? err.field}${sep}${text}`
}
