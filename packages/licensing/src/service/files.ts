// The two file operations the SQLite store needs: replacing the database file atomically (a
// temporary file beside it, written in full, flushed, then renamed over it, so a crash leaves the
// old file or the new one, never half of one), and a lock file so that two processes never hold
// the same database (each would keep its own copy in memory and overwrite the other's writes).
import { randomBytes } from 'node:crypto';
import { open, readFile, rename, rm, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { LicenceError } from './errors.js';

/** Writes `bytes` to `path` atomically with permissions `mode`, and flushes it to the disk. */
export async function writeFileAtomically(path: string, bytes: Uint8Array, mode = 0o600): Promise<void> {
  const dir = dirname(path);
  const tmp = join(dir, `.${basename(path)}.${process.pid}.${randomBytes(6).toString('hex')}.tmp`);
  const file = await open(tmp, 'wx', mode);
  try {
    let offset = 0;
    while (offset < bytes.length) {
      const { bytesWritten } = await file.write(bytes, offset, bytes.length - offset);
      offset += bytesWritten;
    }
    await file.sync();
    await file.close();
    await rename(tmp, path);
  } catch (e) {
    await file.close().catch(() => undefined);
    await rm(tmp, { force: true });
    throw e;
  }
  await syncDirectory(dir);
}

/** Flushes a directory's entries (the rename), where the platform allows opening a directory. */
async function syncDirectory(dir: string): Promise<void> {
  let handle: Awaited<ReturnType<typeof open>> | undefined;
  try {
    handle = await open(dir, 'r');
    await handle.sync();
  } catch {
    // Windows cannot open or flush a directory; the rename is as durable as it gets there.
  } finally {
    await handle?.close().catch(() => undefined);
  }
}

/** Lock files this process holds, so that a stale lock bearing its own pid (a restarted container's pid 1) is told apart. */
const held = new Set<string>();

function alive(pid: number, path: string): boolean {
  if (pid === process.pid) return held.has(path);
  try {
    process.kill(pid, 0);
    return true;
  } catch (e) {
    return (e as NodeJS.ErrnoException).code === 'EPERM';
  }
}

/**
 * Takes the lock file `path` (it holds the owner's process id) and returns its release. A lock
 * left by a process that no longer runs is taken over; one held by a live process is E_STORE.
 */
export async function acquireLock(path: string): Promise<() => Promise<void>> {
  const mine = `${process.pid}\n`;
  for (let attempt = 0; attempt < 2; attempt++) {
    try {
      const file = await open(path, 'wx', 0o600);
      await file.writeFile(mine);
      await file.close();
      held.add(path);
      return async () => {
        held.delete(path);
        const now = await readFile(path, 'utf8').catch(() => '');
        if (now === mine) await unlink(path).catch(() => undefined);
      };
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EEXIST') throw e;
    }
    const owner = Number.parseInt(await readFile(path, 'utf8').catch(() => ''), 10);
    if (Number.isInteger(owner) && alive(owner, path)) {
      throw new LicenceError('E_STORE', `${path}: the database is in use by process ${owner}`);
    }
    await rm(path, { force: true });
  }
  throw new LicenceError('E_STORE', `${path}: could not take the lock`);
}
