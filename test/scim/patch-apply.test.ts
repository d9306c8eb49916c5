import { describe, expect, it } from 'vitest'
import { ScimError } from '../../src/scim/errors.ts'
import { applyPatch } from '../../src/scim/patch/apply.ts'
import { parsePatchRequest } from '../../src/scim/patch/parse.ts'
import { jsonEqual as deepEqual } from '../../src/scim/resource/equal.ts'
import type { Json } from '../../src/scim/resource/values.ts'
import { groupResourceType, userResourceType } from '../../src/scim/schemas/index.ts'
import cases from '../fixtures/patch-cases.json'

interface PatchCase {
  name: string
  type: 'User' | 'Group'
  before: Json
  body: unknown
  after?: Json
  error?: { status: number; scimType: string; detail: string }
}

const types = { User: userResourceType, Group: groupResourceType }

function run(c: PatchCase): ReturnType<typeof applyPatch> {
  const type = types[c.type]
  return applyPatch(type, c.before, parsePatchRequest(type, c.body))
}

function withoutSchemas(resource: Json): Json {
  const { schemas: _schemas, ...rest } = resource
  return rest
}

describe('applyPatch, table-driven from test/fixtures/patch-cases.json', () => {
  it('has a healthy number of cases', () => {
    expect((cases as PatchCase[]).length).toBeGreaterThanOrEqual(50)
  })

  for (const c of cases as PatchCase[]) {
    it(c.name, () => {
      const snapshot = structuredClone(c.before)
      if (c.error) {
        let thrown: unknown
        try {
          run(c)
        } catch (e) {
          thrown = e
        }
        expect(thrown, 'expected an error').toBeInstanceOf(ScimError)
        const e = thrown as ScimError
        expect({ status: e.status, scimType: e.scimType }).toEqual({
          status: c.error.status,
          scimType: c.error.scimType,
        })
        expect(e.message).toContain(c.error.detail)
        // Message-level problems (schemas, Operations) have no operation to name; everything else does.
        if (!/schemas|Operations/.test(c.error.detail)) expect(e.message).toMatch(/^operation \d+: /)
      } else {
        const result = run(c)
        expect(result.resource).toEqual(c.after)
        expect(result.changed).toBe(!deepEqual(withoutSchemas(c.before), withoutSchemas(c.after!)))
      }
      expect(c.before, 'applyPatch must not touch its input').toEqual(snapshot)
    })
  }
})
