import { describe, expect, it } from 'vitest'
import { newId } from '../../src/db/ids.ts'
import { URN } from '../../src/scim/urns.ts'
import { newTenant } from '../helpers/tenant.ts'

const V7 = /^[0-9a-f]{8}-[0-9a-f]{4}-7[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/

describe('newId (UUID version 7)', () => {
  it('is a version 7, variant 10 UUID whose first 48 bits are the Unix milliseconds', () => {
    const at = Date.UTC(2026, 10, 28, 12, 0, 0, 123)
    const id = newId(at)
    expect(id).toMatch(V7)
    expect(parseInt(id.slice(0, 8) + id.slice(9, 13), 16)).toBe(at)
  })

  it('sorts later ids after earlier ones, as text (what the B-tree indexes compare)', () => {
    const ids = Array.from({ length: 200 }, (_, i) => newId(1_790_000_000_000 + i * 7))
    expect([...ids].sort()).toEqual(ids)
  })

  it('differs within one millisecond', () => {
    const ids = new Set(Array.from({ length: 1000 }, () => newId(1_790_000_000_000)))
    expect(ids.size).toBe(1000)
  })

  it('is what the Worker gives new users and groups, later ones sorting later', async () => {
    const tenant = await newTenant()
    const first = await tenant.fetch('/Users', {
      method: 'POST',
      json: { schemas: [URN.user], userName: 'v7-a@example.com' },
    })
    const second = await tenant.fetch('/Users', {
      method: 'POST',
      json: { schemas: [URN.user], userName: 'v7-b@example.com' },
    })
    const group = await tenant.fetch('/Groups', { method: 'POST', json: { schemas: [URN.group], displayName: 'v7' } })
    expect([first.status, second.status, group.status]).toEqual([201, 201, 201])
    const [a, b, g] = (await Promise.all([first.json(), second.json(), group.json()])) as { id: string }[]
    for (const id of [a!.id, b!.id, g!.id]) expect(id).toMatch(V7)
    expect(a!.id < g!.id || a!.id.slice(0, 13) === g!.id.slice(0, 13)).toBe(true)
    expect(a!.id.slice(0, 13) <= b!.id.slice(0, 13)).toBe(true)
  })
})
