/**
 * The contention workload (README: "Without If-Match, concurrent writes to one user are serialised
 * and re-applied, so none is lost"). Each round sends CONCURRENCY requests at once to one user (all
 * but one add a distinct email, the last sets active=false), waits for every answer, reads the user
 * back, then does the same to one group (all but one add a distinct member, the last renames it).
 * Every round has its own user and group, from a tenant of its own, so no other workload's checks
 * see these writes. The last round goes to the instrumented Worker, so its D1 rows come from the
 * contended requests themselves (retries included).
 *
 * A round fails its check when an answer is not 2xx or the read-back lacks a change; run.ts prints
 * the table either way and then fails the run.
 */
import { quantile, type Req } from './load.ts'
import type { RowsFigure } from './tables.ts'
import type { SeededTenant, TenantShape } from './seed.ts'
import { requests } from './workloads.ts'

/** Requests sent at once to one resource per round. */
export const CONCURRENCY = 20
/** Changes per round besides the last request's deactivation or rename. */
const ADDS = CONCURRENCY - 1

/** The contention tenant: ADDS users to add as members, then one target user per round; one empty group per round. */
export function contentionShape(rounds: number): TenantShape {
  return { users: ADDS + rounds, groups: rounds, bigGroupMembers: 0, smallGroups: 0, smallGroupMembers: 0 }
}

export interface ContentionRound {
  round: number
  resourceId: string
  /** Wall time from sending the first request to the last answer (ms). */
  ms: number
  statuses: Record<string, number>
  /** The answers that were not 2xx: `request → status body`. */
  notOk: string[]
  /** What the read-back must hold (the user's emails: its own and the added ones; the group's members). */
  expected: number
  /** What of that the read-back lacks. */
  missing: string[]
  /** The deactivation (user) or the rename (group) is in the read-back. */
  lastApplied: boolean
  ok: boolean
}

export interface ContentionFigure {
  what: string
  requests: number
  classes: { '2xx': number; '412': number; '503': number; other: number }
  statuses: Record<string, number>
  /** Latency of each request, over every round (ms). */
  p50: number
  p99: number
  mean: number
  roundMs: number[]
  roundsAllKept: number
  roundsLastApplied: number
  rounds: ContentionRound[]
}

export interface ContentionResult {
  rounds: number
  concurrency: number
  user: ContentionFigure
  group: ContentionFigure
  /** One line per failed round check; empty when every round kept every change. */
  failures: string[]
}

interface Answer {
  label: string
  status: number
  ms: number
  body: string
  headers?: Headers
}

async function send(origin: string, label: string, req: Req): Promise<Answer> {
  const start = performance.now()
  try {
    const res = await fetch(origin + req.path, { method: req.method, headers: req.headers, body: req.body })
    const body = await res.text()
    return { label, status: res.status, ms: performance.now() - start, body, headers: res.headers }
  } catch (error) {
    return {
      label,
      status: 0,
      ms: performance.now() - start,
      body: error instanceof Error ? error.message : String(error),
    }
  }
}

/** Sends every request at once; the wall time runs until the last answer. */
async function fireAll(origin: string, reqs: [string, Req][]): Promise<{ answers: Answer[]; ms: number }> {
  const start = performance.now()
  const answers = await Promise.all(reqs.map(([label, req]) => send(origin, label, req)))
  return { answers, ms: performance.now() - start }
}

async function readJson(origin: string, req: Req): Promise<Record<string, any>> {
  const answer = await send(origin, 'read-back', req)
  if (answer.status !== 200)
    throw new Error(`contention read-back ${req.path.slice(0, 120)}: ${answer.status} ${answer.body.slice(0, 300)}`)
  return JSON.parse(answer.body) as Record<string, any>
}

const is2xx = (status: number) => status >= 200 && status <= 299

function round(
  n: number,
  id: string,
  fired: { answers: Answer[]; ms: number },
  expected: number,
  missing: string[],
  lastApplied: boolean,
): ContentionRound {
  const statuses: Record<string, number> = {}
  for (const a of fired.answers) statuses[a.status] = (statuses[a.status] ?? 0) + 1
  const notOk = fired.answers
    .filter((a) => !is2xx(a.status))
    .map((a) => `${a.label} → ${a.status} ${a.body.slice(0, 200)}`)
  return {
    round: n,
    resourceId: id,
    ms: fired.ms,
    statuses,
    notOk,
    expected,
    missing,
    lastApplied,
    ok: !notOk.length && !missing.length && lastApplied,
  }
}

function figure(what: string, rounds: ContentionRound[], latencies: number[]): ContentionFigure {
  const statuses: Record<string, number> = {}
  for (const r of rounds) for (const [s, c] of Object.entries(r.statuses)) statuses[s] = (statuses[s] ?? 0) + c
  const classes = { '2xx': 0, '412': 0, '503': 0, other: 0 }
  for (const [s, c] of Object.entries(statuses)) {
    const status = Number(s)
    if (is2xx(status)) classes['2xx'] += c
    else if (status === 412) classes['412'] += c
    else if (status === 503) classes['503'] += c
    else classes.other += c
  }
  const sorted = [...latencies].sort((a, b) => a - b)
  return {
    what,
    requests: latencies.length,
    classes,
    statuses,
    p50: quantile(sorted, 0.5),
    p99: quantile(sorted, 0.99),
    mean: sorted.reduce((s, v) => s + v, 0) / (sorted.length || 1),
    roundMs: rounds.map((r) => r.ms),
    roundsAllKept: rounds.filter((r) => !r.missing.length).length,
    roundsLastApplied: rounds.filter((r) => r.lastApplied).length,
    rounds,
  }
}

function failure(kind: string, r: ContentionRound): string {
  const parts: string[] = []
  if (r.notOk.length)
    parts.push(
      `${r.notOk.length} answers not 2xx (${Object.entries(r.statuses)
        .filter(([s]) => !is2xx(Number(s)))
        .map(([s, c]) => `${s} ×${c}`)
        .join(', ')}); first: ${r.notOk[0]}`,
    )
  if (r.missing.length)
    parts.push(
      `read-back lacks ${r.missing.length} of ${r.expected} ${kind === 'user' ? 'emails' : 'members'} (${r.missing.slice(0, 3).join(', ')}${r.missing.length > 3 ? ', …' : ''})`,
    )
  if (!r.lastApplied) parts.push(kind === 'user' ? 'the user is still active' : 'the group was not renamed')
  return `contention round ${r.round}, ${kind} ${r.resourceId}: ${parts.join('; ')}`
}

/**
 * Runs `rounds` rounds on `t` (seeded with contentionShape(rounds)); the last on `instrumented`.
 * Returns the figures and the mean D1 rows of the last round's requests.
 */
export async function runContention(
  app: string,
  instrumented: string,
  d1: D1Database,
  t: SeededTenant,
  rounds: number,
): Promise<{ result: ContentionResult; rows: RowsFigure }> {
  const members = t.userIds.slice(0, ADDS)
  const userRounds: ContentionRound[] = []
  const groupRounds: ContentionRound[] = []
  const userMs: number[] = []
  const groupMs: number[] = []
  const counted: Answer[] = []

  for (let n = 1; n <= rounds; n++) {
    const origin = n === rounds ? instrumented : app
    const seq = ADDS + n
    const userId = t.userIds[seq - 1]!
    const emails = Array.from({ length: ADDS }, (_, i) => ({ value: `round${n}-n${i}@example.com`, type: `other${i}` }))
    const user = await fireAll(origin, [
      ...emails.map((e, i): [string, Req] => [`PATCH add email ${i}`, requests.addEmail(t, userId, e)]),
      ['PATCH active=false', requests.setActive(t, userId, false)],
    ])
    const readUser = await readJson(app, requests.getUser(t, userId))
    const have = new Set(
      ((readUser.emails ?? []) as { value: string; type?: string }[]).map((e) => `${e.value} (${e.type})`),
    )
    const expectedEmails = [`user${seq}@example.com (work)`, ...emails.map((e) => `${e.value} (${e.type})`)]
    userRounds.push(
      round(
        n,
        userId,
        user,
        expectedEmails.length,
        expectedEmails.filter((e) => !have.has(e)),
        readUser.active === false,
      ),
    )
    userMs.push(...user.answers.map((a) => a.ms))

    const groupId = t.groupIds[n - 1]!
    const renamed = `Renamed ${n}`
    const group = await fireAll(origin, [
      ...members.map((id, i): [string, Req] => [`PATCH add member ${i}`, requests.addMembers(t, groupId, [id])]),
      ['PATCH rename', requests.renameGroup(t, groupId, renamed)],
    ])
    const readGroup = await readJson(app, requests.getGroup(t, groupId))
    const present = new Set(((readGroup.members ?? []) as { value: string }[]).map((m) => m.value))
    const missingMembers = members.filter((id) => !present.has(id)).map((id) => `member ${id}`)
    const kept = await d1
      .prepare(
        'SELECT member_count AS kept, (SELECT count(*) FROM group_members WHERE tenant_id = ?1 AND group_id = ?2) AS rows FROM groups WHERE tenant_id = ?1 AND id = ?2',
      )
      .bind(t.id, groupId)
      .first<{ kept: number; rows: number }>()
    if (kept?.kept !== ADDS || kept.rows !== ADDS)
      missingMembers.push(`D1 member_count ${kept?.kept}, member rows ${kept?.rows} (expected ${ADDS})`)
    groupRounds.push(round(n, groupId, group, ADDS, missingMembers, readGroup.displayName === renamed))
    groupMs.push(...group.answers.map((a) => a.ms))

    if (n === rounds) counted.push(...user.answers, ...group.answers)
  }

  const withRows = counted.filter((a) => a.headers?.get('x-d1-rows-read') != null)
  if (!withRows.length) throw new Error('contention: the instrumented round sent no x-d1-rows-read header')
  const mean = (header: string) => withRows.reduce((s, a) => s + Number(a.headers!.get(header)), 0) / withRows.length
  const rows: RowsFigure = {
    read: mean('x-d1-rows-read'),
    written: mean('x-d1-rows-written'),
    statements: mean('x-d1-statements'),
    roundTrips: mean('x-d1-round-trips'),
    samples: withRows.length,
  }

  const failures = [
    ...userRounds.filter((r) => !r.ok).map((r) => failure('user', r)),
    ...groupRounds.filter((r) => !r.ok).map((r) => failure('group', r)),
  ]
  return {
    result: {
      rounds,
      concurrency: CONCURRENCY,
      user: figure(`${ADDS} × PATCH add email + 1 × PATCH active=false, one user`, userRounds, userMs),
      group: figure(`${ADDS} × PATCH add member + 1 × PATCH rename, one group`, groupRounds, groupMs),
      failures,
    },
    rows,
  }
}
