/**
 * Where the bench keeps local D1 and KV. workerd runs every Worker, D1 included, on one thread, and
 * local D1 is SQLite in files: on a VM's virtual disk each commit's fsync stalls that thread, so the
 * disk, not scim-edge, sets the pace of every write and the figures swing from run to run (the limit
 * workload moved between 388 and 581 req/s on the same machine). Production D1 never touches this
 * disk. So the bench keeps storage on tmpfs (/dev/shm) when the machine has one; `--disk` keeps it in
 * the OS temp dir instead, to see what the disk costs.
 */
import { accessSync, constants, mkdtempSync, rmSync, statfsSync } from 'node:fs'
import { tmpdir } from 'node:os'
import { join } from 'node:path'

/** tmpfs's filesystem magic number (statfs f_type). */
const TMPFS_MAGIC = 0x01021994

export interface Storage {
  dir: string
  /** What the report prints: "tmpfs (/dev/shm)" or "disk (/tmp)". */
  kind: string
  remove(): void
}

function isWritableTmpfs(dir: string): boolean {
  try {
    accessSync(dir, constants.W_OK)
    return statfsSync(dir).type === TMPFS_MAGIC
  } catch {
    return false
  }
}

/** A fresh storage directory: on tmpfs unless `disk` is asked for or there is none. */
export function benchStorage(disk: boolean): Storage {
  const base = !disk && isWritableTmpfs('/dev/shm') ? '/dev/shm' : tmpdir()
  const dir = mkdtempSync(join(base, 'scim-edge-bench-storage-'))
  return {
    dir,
    kind: `${isWritableTmpfs(base) ? 'tmpfs' : 'disk'} (${base})`,
    remove: () => rmSync(dir, { recursive: true, force: true }),
  }
}
