import { describe, expect, it } from 'vitest'
import entraGroupsDefault from '../fixtures/entra/groups-default-dialect.json'
import entraGroupsFlag from '../fixtures/entra/groups-flag-dialect.json'
import entraManager from '../fixtures/entra/manager.json'
import entraUserDefault from '../fixtures/entra/user-default-dialect.json'
import entraUserFlag from '../fixtures/entra/user-flag-dialect.json'
import entraNullUpdate from '../fixtures/entra/user-null-update.json'
import oktaDeactivate from '../fixtures/okta/deactivate-reactivate.json'
import oktaPassword from '../fixtures/okta/password-sync.json'
import oktaPushGroup from '../fixtures/okta/push-group.json'
import oktaProvision from '../fixtures/okta/provision-users.json'
import { splitMemberOperations } from '../../src/scim/patch/members.ts'
import { parsePatchRequest } from '../../src/scim/patch/parse.ts'
import { groupResourceType, userResourceType } from '../../src/scim/schemas/index.ts'

/** Every PATCH body in the recorded IdP flows that the route must accept parses without error. */
const recordings = {
  'entra/groups-default-dialect': entraGroupsDefault,
  'entra/groups-flag-dialect': entraGroupsFlag,
  'entra/manager': entraManager,
  'entra/user-default-dialect': entraUserDefault,
  'entra/user-flag-dialect': entraUserFlag,
  'entra/user-null-update': entraNullUpdate,
  'okta/deactivate-reactivate': oktaDeactivate,
  'okta/password-sync': oktaPassword,
  'okta/push-group': oktaPushGroup,
  'okta/provision-users': oktaProvision,
}

function fill(value: unknown): unknown {
  if (typeof value === 'string') return value.replace(/\{(\w+)\}/g, (_m, name: string) => `id-${name}`)
  if (Array.isArray(value)) return value.map(fill)
  if (value && typeof value === 'object') return Object.fromEntries(Object.entries(value).map(([k, v]) => [k, fill(v)]))
  return value
}

describe('recorded IdP PATCH bodies', () => {
  for (const [name, recording] of Object.entries(recordings)) {
    const steps = (
      recording as {
        steps: { name?: string; method: string; path: string; body?: unknown; expect: { status: number } }[]
      }
    ).steps
    const patches = steps.filter((s) => s.method === 'PATCH' && s.expect.status < 400)
    if (!patches.length) continue
    it(`${name}: ${patches.length} accepted PATCH bodies parse`, () => {
      for (const s of patches) {
        const type = s.path.startsWith('/Groups') ? groupResourceType : userResourceType
        const ops = parsePatchRequest(type, fill(s.body))
        if (type === groupResourceType) splitMemberOperations(ops)
        expect(
          ops.every((o) => o.index >= 1),
          s.name,
        ).toBe(true)
      }
    })
  }
})
