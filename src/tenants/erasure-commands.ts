/** `delete` and `purge`: a tenant's data has a lifecycle (src/tenants/erasures.ts). */
import { checkId, CliError, type Command, type CommandContext } from './command.ts'
import { tenantKey, type TenantDocument } from './document.ts'
import {
  DEFAULT_ERASURE_DAYS,
  ERASURE_PREFIX,
  eraseChunkSql,
  parseErasure,
  TENANT_TABLE_NAMES,
  type ErasureRecord,
} from './erasures.ts'

/** Rows per table and statement when `purge` erases. */
const PURGE_CHUNK = 5000

function confirmOrStop(command: string, id: string, confirm: string | undefined, what: string): void {
  if (confirm !== id) throw new CliError(`${what}; repeat the id to confirm: ${command} ${id} --confirm ${id}`, 2)
}

async function pendingErasures(ctx: CommandContext, id: string): Promise<ErasureRecord[]> {
  const records = ctx.store.records(ERASURE_PREFIX)
  const found: ErasureRecord[] = []
  for (const name of await records.list()) {
    const record = parseErasure(await records.get(name))
    if (record?.tenantId === id) found.push(record)
  }
  return found
}

/** Erases every row under one tenant key, chunk by chunk; safe to run again after an interruption. */
async function eraseRows(ctx: CommandContext, key: string): Promise<number> {
  if (!ctx.store.d1) throw new CliError('this store cannot reach D1')
  let total = 0
  for (;;) {
    const changes = await ctx.store.d1(TENANT_TABLE_NAMES.map((t) => eraseChunkSql(t, key, PURGE_CHUNK)))
    total += changes.reduce((a, n) => a + n, 0)
    if (changes.every((n) => n < PURGE_CHUNK)) return total
  }
}

export const erasureCommands: Record<string, Command> = {
  delete: {
    args: ['id'],
    flags: {
      confirm: {
        description: 'the tenant id again: delete asks for it, so a typo or a pasted command deletes nothing',
      },
    },
    summary: `delete a tenant: its credentials stop at once, its D1 rows are erased after ${DEFAULT_ERASURE_DAYS} days (or by purge)`,
    async run(ctx, args, flags) {
      const doc: TenantDocument | undefined = await ctx.store.get(checkId(args.id!))
      if (!doc) throw new CliError(`unknown tenant "${args.id}" (${ctx.store.where})`)
      confirmOrStop('delete', doc.id, flags.confirm, `delete stops every IdP of tenant "${doc.id}" at once`)
      const record: ErasureRecord = {
        v: 1,
        tenantId: doc.id,
        tenantKey: tenantKey(doc),
        deletedAt: ctx.now().toISOString(),
      }
      // The record first: a delete cut short leaves a tenant that still works, never rows nobody erases.
      await ctx.store.records(ERASURE_PREFIX).put(record.tenantKey, JSON.stringify(record))
      await ctx.store.delete(doc.id)
      return {
        json: { tenantId: doc.id, deleted: true, tenantKey: record.tenantKey, deletedAt: record.deletedAt },
        lines: [
          `Deleted tenant ${doc.id} (${ctx.store.where}): its credentials no longer work.`,
          `Its users, groups, invites and journal are erased by the cron after the grace period (TENANT_ERASURE_DAYS, default ${DEFAULT_ERASURE_DAYS}), or now with: purge ${doc.id} --confirm ${doc.id}`,
          `The id "${doc.id}" is free again; a tenant created with it starts empty.`,
        ],
      }
    },
  },

  purge: {
    args: ['id'],
    flags: { confirm: { description: 'the tenant id again: purge erases data for good' } },
    summary: "erase a deleted tenant's D1 rows now (in chunks; run it again if it was interrupted)",
    async run(ctx, args, flags) {
      const id = checkId(args.id!)
      confirmOrStop('purge', id, flags.confirm, `purge erases every row of the deleted tenant "${id}" for good`)
      const pending = await pendingErasures(ctx, id)
      if (!pending.length) {
        const live = await ctx.store.get(id)
        throw new CliError(
          live
            ? `tenant "${id}" is not deleted; run delete ${id} --confirm ${id} first`
            : `no deleted tenant "${id}" is waiting for erasure (${ctx.store.where})`,
        )
      }
      const erased = []
      for (const record of pending) {
        const rows = await eraseRows(ctx, record.tenantKey)
        await ctx.store.records(ERASURE_PREFIX).delete(record.tenantKey)
        erased.push({ tenantKey: record.tenantKey, deletedAt: record.deletedAt, rows })
      }
      return {
        json: { tenantId: id, erased },
        lines: erased.map((e) => `Erased ${e.rows} rows of tenant ${id} (deleted ${e.deletedAt}).`),
      }
    },
  },
}
