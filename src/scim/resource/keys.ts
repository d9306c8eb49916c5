/** Attribute names are case-insensitive (RFC 7643 §2.1): finding a key of a JSON object by name. */

/** The key of `object` that equals `name` case-insensitively, or undefined. */
export function findKey(object: object, name: string): string | undefined {
  const lower = name.toLowerCase()
  return Object.keys(object).find((k) => k.toLowerCase() === lower)
}

/** The value under `name`, compared case-insensitively. */
export function valueOf(object: Record<string, unknown>, name: string): unknown {
  const key = findKey(object, name)
  return key === undefined ? undefined : object[key]
}
