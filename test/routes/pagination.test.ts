import { env } from 'cloudflare:test'
import { describe, expect, it } from 'vitest'
import { decodeCursor, encodeCursor, queryKey } from '../../src/scim/list/cursor.ts'
import { newTenant, type TestTenant } from '../helpers/tenant.ts'

async function createUsers(tenant: TestTenant, n: number, prefix = 'user'): Promise<string[]> {
  const ids: string[] = []
  for (let i = 0; i < n; i++) {
    const res = await tenant.fetch('/Users', {
      method: 'POST',
      json: { userName: `${prefix}${String(i).padStart(3, '0')}@example.com`, active: i % 3 !== 0 },
    })
    expect(res.status).toBe(201)
    ids.push(((await res.json()) as { id: string }).id)
  }
  return ids
}

async function page(tenant: TestTenant, query: string): Promise<Record<string, any>> {
  const res = await tenant.fetch(`/Users?${query}`)
  const text = await res.text()
  expect(res.status, text).toBe(200)
  return JSON.parse(text)
}

describe('index pagination', () => {
  it('walks every user once in a stable order and remembers where each page ended', async () => {
    const tenant = await newTenant()
    const ids = await createUsers(tenant, 25)
    const seen: string[] = []
    for (let start = 1; start <= 25; start += 10) {
      const body = await page(tenant, `startIndex=${start}&count=10`)
      expect(body.totalResults).toBe(25)
      seen.push(...body.Resources.map((r: any) => r.id))
    }
    expect(seen).toEqual(ids)
    // The mark of the last full page is kept (earlier ones are dropped), so the next page seeks.
    const marks = await env.DB.prepare('SELECT position FROM page_marks WHERE tenant_id = ?').bind(tenant.key).all()
    expect(marks.results).toEqual([{ position: 20 }])
    // A jump without a mark still answers correctly (OFFSET).
    const jump = await page(tenant, 'startIndex=17&count=3')
    expect(jump.Resources.map((r: any) => r.id)).toEqual(ids.slice(16, 19))
  })

  it('pages a filter of the largest size allowed (D1 binds at most 100 values per statement)', async () => {
    const tenant = await newTenant()
    const ids = await createUsers(tenant, 3)
    const names = [
      ...Array.from({ length: 3 }, (_, i) => `user${String(i).padStart(3, '0')}@example.com`),
      ...Array.from({ length: 200 }, (_, i) => `nobody${i}@example.com`),
    ]
    // The largest `or` of userName terms the filter limit accepts: one more term is refused as too large.
    let terms = 3
    for (; terms < names.length; terms++) {
      const res = await tenant.fetch(
        `/Users?count=1&filter=${encodeURIComponent(
          names
            .slice(0, terms + 1)
            .map((n) => `userName eq "${n}"`)
            .join(' or '),
        )}`,
      )
      if (res.status === 400) break
      expect(res.status, await res.text()).toBe(200)
    }
    expect(terms).toBeGreaterThan(50)
    const filter = encodeURIComponent(
      names
        .slice(0, terms)
        .map((n) => `userName eq "${n}"`)
        .join(' or '),
    )
    const seen: string[] = []
    for (let start = 1; start <= 3; start++) {
      const body = await page(tenant, `filter=${filter}&startIndex=${start}&count=1`)
      expect(body.totalResults).toBe(3)
      seen.push(...body.Resources.map((r: any) => r.id))
    }
    expect(seen).toEqual(ids)
  })

  it('does not rewrite a mark that already says the same (a list asked for again writes nothing)', async () => {
    const tenant = await newTenant()
    const ids = await createUsers(tenant, 12)
    const marks = async () =>
      (
        await env.DB.prepare(
          'SELECT position, seq, total, expires_at FROM page_marks WHERE tenant_id = ? ORDER BY position',
        )
          .bind(tenant.key)
          .all()
      ).results
    const first = await page(tenant, 'startIndex=1&count=5')
    expect(first.Resources.map((r: any) => r.id)).toEqual(ids.slice(0, 5))
    const saved = await marks()
    expect(saved).toMatchObject([{ position: 5, total: 12 }])
    await new Promise((r) => setTimeout(r, 5))
    expect((await page(tenant, 'startIndex=1&count=5')).Resources.map((r: any) => r.id)).toEqual(ids.slice(0, 5))
    expect(await marks()).toEqual(saved)
    // The next page seeks from that mark and moves it on; a user created meanwhile changes the total, so the mark is rewritten.
    expect((await page(tenant, 'startIndex=6&count=5')).Resources.map((r: any) => r.id)).toEqual(ids.slice(5, 10))
    expect(await marks()).toMatchObject([{ position: 10, total: 12 }])
    await createUsers(tenant, 1, 'late')
    const again = await page(tenant, 'startIndex=6&count=5')
    expect(again.totalResults).toBe(13)
    expect(await marks()).toMatchObject([{ position: 10, total: 13 }])
    // A full filtered first page counts its total and probes its mark in one more round trip; asked
    // for again, it writes nothing either.
    const active = `filter=${encodeURIComponent('active eq true')}&startIndex=1&count=3`
    expect((await page(tenant, active)).totalResults).toBe(8)
    const withFiltered = await marks()
    expect(withFiltered).toHaveLength(2)
    await new Promise((r) => setTimeout(r, 5))
    expect((await page(tenant, active)).totalResults).toBe(8)
    expect(await marks()).toEqual(withFiltered)
  })

  it('never skips or repeats a user that existed throughout, while others are deleted and created', async () => {
    const tenant = await newTenant()
    const ids = await createUsers(tenant, 30)
    const first = await page(tenant, 'startIndex=1&count=10')
    const seen: string[] = first.Resources.map((r: any) => r.id)
    // Delete one user already read and one not yet read, and create two new ones, mid-import.
    expect((await tenant.fetch(`/Users/${ids[2]}`, { method: 'DELETE' })).status).toBe(204)
    expect((await tenant.fetch(`/Users/${ids[14]}`, { method: 'DELETE' })).status).toBe(204)
    await createUsers(tenant, 2, 'late')
    for (let start = 11; ; start += 10) {
      const body = await page(tenant, `startIndex=${start}&count=10`)
      seen.push(...body.Resources.map((r: any) => r.id))
      if (start + 10 > body.totalResults) break
    }
    const throughout = ids.filter((_, i) => i !== 2 && i !== 14)
    for (const id of throughout)
      expect(
        seen.filter((s) => s === id),
        `user ${ids.indexOf(id)}`,
      ).toHaveLength(1)
    expect(new Set(seen).size).toBe(seen.length)
  })

  it('pages a filtered query with the same guarantees', async () => {
    const tenant = await newTenant()
    const ids = await createUsers(tenant, 24)
    const active = ids.filter((_, i) => i % 3 !== 0)
    const seen: string[] = []
    for (let start = 1; start <= active.length; start += 5) {
      const body = await page(tenant, `filter=${encodeURIComponent('active eq true')}&startIndex=${start}&count=5`)
      expect(body.totalResults).toBe(active.length)
      seen.push(...body.Resources.map((r: any) => r.id))
    }
    expect(seen).toEqual(active)
  })

  it('sorts by userName in both directions and rejects attributes it cannot sort on', async () => {
    const tenant = await newTenant()
    for (const name of ['carol', 'Alice', 'bob'])
      await tenant.fetch('/Users', { method: 'POST', json: { userName: name } })
    const asc = await page(tenant, 'sortBy=userName')
    expect(asc.Resources.map((r: any) => r.userName)).toEqual(['Alice', 'bob', 'carol'])
    const desc = await page(tenant, 'sortBy=userName&sortOrder=descending')
    expect(desc.Resources.map((r: any) => r.userName)).toEqual(['carol', 'bob', 'Alice'])
    const bad = await tenant.fetch('/Users?sortBy=nickName')
    expect(bad.status).toBe(400)
    expect(((await bad.json()) as any).detail).toMatch(/nickName/)
  })
})

describe('cursor pagination (RFC 9865)', () => {
  it('follows nextCursor to the end without startIndex', async () => {
    const tenant = await newTenant()
    const ids = await createUsers(tenant, 12)
    const seen: string[] = []
    let cursor = ''
    for (let i = 0; i < 10; i++) {
      const body = await page(tenant, `cursor=${cursor}&count=5`)
      expect(body.startIndex).toBeUndefined()
      expect(body.totalResults).toBe(12)
      seen.push(...body.Resources.map((r: any) => r.id))
      if (!body.nextCursor) break
      cursor = body.nextCursor
    }
    expect(seen).toEqual(ids)
  })

  it('answers bad cursors with invalidCursor and advertises cursors', async () => {
    const tenant = await newTenant()
    await createUsers(tenant, 3)
    const first = await page(tenant, 'cursor=&count=1&filter=' + encodeURIComponent('active eq true'))
    for (const query of ['cursor=garbage&count=1', `cursor=${first.nextCursor}&count=1`]) {
      const res = await tenant.fetch(`/Users?${query}`)
      expect(res.status).toBe(400)
      expect(((await res.json()) as any).scimType).toBe('invalidCursor')
    }
    const spc = (await (await tenant.fetch('/ServiceProviderConfig')).json()) as any
    expect(spc.pagination).toEqual({
      cursor: true,
      index: true,
      defaultPaginationMethod: 'index',
      defaultPageSize: 100,
      maxPageSize: 1000,
      cursorTimeout: 3600,
    })
  })

  it('expires cursors after the advertised timeout', () => {
    const key = queryKey('User', undefined)
    const issued = new Date('2026-01-01T00:00:00Z')
    const cursor = encodeCursor(key, 42, issued)
    expect(decodeCursor(cursor, key, new Date('2026-01-01T00:59:00Z'))).toBe(42)
    expect(() => decodeCursor(cursor, key, new Date('2026-01-01T01:00:01Z'))).toThrow(/expired/)
  })
})
