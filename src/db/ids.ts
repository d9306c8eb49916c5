/**
 * Ids of the rows we create: UUID version 7 (RFC 9562 §5.7), a 48-bit Unix millisecond timestamp
 * followed by random bits. Ids made later sort later, so the rows of new users, groups, members and
 * journal entries land at the right edge of their B-tree indexes instead of on random pages: adding
 * 1,000 new hires to a 50,000-member group writes about the pages an empty group would.
 *
 * The random bits come from crypto.randomUUID (a v4 UUID has 122 of them) and the time from
 * Date.now, so a test that pins both (test/hardening/scim-assert.ts fixedUuids) gets fixed ids.
 */
export function newId(now = Date.now()): string {
  const random = crypto.randomUUID() // xxxxxxxx-xxxx-4xxx-Vxxx-xxxxxxxxxxxx, V in 8..b
  const time = Math.max(0, Math.min(now, 0xffffffffffff)).toString(16).padStart(12, '0')
  return `${time.slice(0, 8)}-${time.slice(8)}-7${random.slice(15, 18)}${random.slice(18)}`
}
