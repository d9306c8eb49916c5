/** Finding rows whose names would share one canonical form: the first pass of a re-canonicalization. */

/** A canonical name that more than one row would hold, and those rows. */
export interface Collision {
  canonical: string
  ids: string[]
}

/**
 * Walks the pages and groups row ids by `nameOf(row)` (undefined: the row takes no part); returns the
 * names held by more than one row. Keeps one map entry per row while it walks.
 */
export async function findCollisions<R extends { id: string }>(
  pages: AsyncIterable<R[]>,
  nameOf: (row: R) => string | undefined,
): Promise<Collision[]> {
  const byName = new Map<string, string[]>()
  for await (const page of pages) {
    for (const row of page) {
      const name = nameOf(row)
      if (name !== undefined) byName.set(name, [...(byName.get(name) ?? []), row.id])
    }
  }
  return [...byName].filter(([, ids]) => ids.length > 1).map(([canonical, ids]) => ({ canonical, ids }))
}
