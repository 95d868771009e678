// File-name checks for uploads (pure).

/** Whether a file name has the .xlsx extension (case-insensitive). */
export function isXlsx(name: string | null | undefined): boolean {
  return typeof name === 'string' && /\.xlsx$/i.test(name.trim())
}
