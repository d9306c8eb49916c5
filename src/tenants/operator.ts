/** Who is acting at the CLI, for the journal: `--as`, else the OS user name. */
import { userInfo } from 'node:os'
import type { CommandContext } from './command.ts'

export function operatorName(ctx: Pick<CommandContext, 'operator'>): string {
  if (ctx.operator?.trim()) return ctx.operator.trim().slice(0, 64)
  try {
    return userInfo().username || 'unknown'
  } catch {
    return 'unknown'
  }
}
