/** Recognises storage failures by their SQLite message, wherever drizzle wrapped them. */

function messages(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let i = 0; current && i < 5; i++) {
    if (current instanceof Error) parts.push(current.message)
    current = (current as { cause?: unknown }).cause
  }
  return parts.join(' | ')
}

/** True when a write failed on a UNIQUE index; `index` narrows it to one table/column list. */
export function isUniqueViolation(error: unknown, columns?: string): boolean {
  const text = messages(error)
  return text.includes('UNIQUE constraint failed') && (!columns || text.includes(columns))
}

/** True for errors raised by D1 itself (as opposed to our own code). */
export function isStorageError(error: unknown): boolean {
  const text = messages(error)
  return /D1_|SQLITE|Failed query|D1 DB|Network connection lost|storage/i.test(text)
}
