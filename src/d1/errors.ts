/**
 * Storage errors, typed where D1 is called (src/d1/run.ts): D1 itself failing is a StorageUnavailable,
 * a write refused by a constraint is a ConstraintViolation that names the table and columns. D1 has no
 * error codes, so its message is read once, here, and nowhere else.
 */

/** D1 failed or could not be reached: the statement (or its whole batch) did not run. */
export class StorageUnavailable extends Error {
  constructor(message: string, cause: unknown) {
    super(message, { cause })
    this.name = 'StorageUnavailable'
  }
}

/**
 * A write refused by a UNIQUE, CHECK (or other) constraint; nothing of its batch was written. A CHECK
 * violation names its constraint in `columns[0]`.
 */
export class ConstraintViolation extends Error {
  readonly kind: 'unique' | 'check' | 'other'
  readonly table: string | undefined
  readonly columns: string[]

  constructor(
    kind: 'unique' | 'check' | 'other',
    detail: { table?: string; columns: string[]; message: string },
    cause: unknown,
  ) {
    super(detail.message, { cause })
    this.name = 'ConstraintViolation'
    this.kind = kind
    this.table = detail.table
    this.columns = detail.columns
  }
}

function messages(error: unknown): string {
  const parts: string[] = []
  let current: unknown = error
  for (let i = 0; current && i < 5; i++) {
    if (current instanceof Error) parts.push(current.message)
    current = (current as { cause?: unknown }).cause
  }
  return parts.join(' | ')
}

/** The message without bound parameters (drizzle appends them; they hold userNames and emails). */
function withoutParams(text: string): string {
  return text.split('\nparams:')[0]!.slice(0, 500)
}

/** Types an error thrown by a D1 call. */
export function classifyD1Error(error: unknown): Error {
  if (error instanceof StorageUnavailable || error instanceof ConstraintViolation) return error
  const text = messages(error)
  // SQLite: "UNIQUE constraint failed: users.tenant_id, users.user_name"
  const unique = /UNIQUE constraint failed: ([^:|]+)/.exec(text)
  if (unique) {
    const qualified = unique[1]!.split(',').map((c) => c.trim())
    const table = qualified[0]?.split('.')[0]
    const columns = qualified.map((c) => c.slice(c.indexOf('.') + 1))
    return new ConstraintViolation(
      'unique',
      { table, columns, message: `UNIQUE constraint failed on ${table}(${columns.join(', ')})` },
      error,
    )
  }
  // SQLite: "CHECK constraint failed: catalog_seats_within_limit"
  const check = /CHECK constraint failed: ([A-Za-z0-9_]+)/.exec(text)
  if (check) return new ConstraintViolation('check', { columns: [check[1]!], message: withoutParams(text) }, error)
  if (/(NOT NULL|CHECK|FOREIGN KEY) constraint failed/.test(text)) {
    return new ConstraintViolation('other', { columns: [], message: withoutParams(text) }, error)
  }
  return new StorageUnavailable(withoutParams(text), error)
}
