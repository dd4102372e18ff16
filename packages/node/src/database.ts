// Loading signatures from disk as clamscan's -d does: a file or a directory of database files
// (ClamAV's extensions; other names in a directory are left alone, as ClamAV leaves them), or a
// compiled Vigil database. The result lives in a SharedArrayBuffer so worker threads share it.
import { closeSync, openSync, readdirSync, readFileSync, readSync, statSync } from 'node:fs';
import { basename, join } from 'node:path';
import {
  compileDatabase,
  type Database,
  type DatabaseInput,
  type Diagnostic,
  isCompiledDatabase,
  isDatabaseFileName,
  type LoadOptions,
  openDatabase,
  serializeDatabase,
  VigilError,
} from '@vigil/engine';
import { nodeEnv } from './env.js';

/** ClamAV's default database directory (clamscan's default for -d). */
export const DEFAULT_DATABASE_DIR = '/var/lib/clamav';

export interface LoadedDatabase {
  readonly database: Database;
  /** The serialized database in shared memory: hand it to workers. */
  readonly shared: Uint8Array;
  /** Warnings from parsing (errors throw). */
  readonly diagnostics: readonly Diagnostic[];
  /** True when the input was already a compiled database. */
  readonly precompiled: boolean;
}

function ioError(path: string, e: unknown): VigilError {
  const reason =
    e instanceof Error && 'code' in e && e.code === 'ENOENT'
      ? 'No such file or directory'
      : String((e as Error).message ?? e);
  return new VigilError('E_IO', `Can't read database ${path}: ${reason}`, { details: { path }, cause: e });
}

function readBytes(path: string): Uint8Array {
  try {
    return new Uint8Array(readFileSync(path));
  } catch (e) {
    throw ioError(path, e);
  }
}

/** The database files a -d argument names: the file itself, or a directory's database files. */
export function readDatabaseInputs(path: string): DatabaseInput[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw ioError(path, e);
  }
  if (!st.isDirectory()) return [{ name: basename(path), bytes: readBytes(path) }];
  const names = readdirSync(path).filter(isDatabaseFileName).sort();
  // A .cld supersedes the .cvd of the same name, as in ClamAV's directory.
  const kept = names.filter((n) => !(n.endsWith('.cvd') && names.includes(`${n.slice(0, -4)}.cld`)));
  if (kept.length === 0)
    throw new VigilError('E_IO', `No supported database files found in ${path}`, { details: { path } });
  return kept.map((n) => ({ name: n, bytes: readBytes(join(path, n)) }));
}

function readHead(path: string): Uint8Array {
  const head = new Uint8Array(16);
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    return head.subarray(0, readSync(fd, head, 0, head.length, 0));
  } catch (e) {
    throw ioError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
}

/** Reads a file straight into shared memory: one copy of a large compiled database, not two. */
function readShared(path: string, size: number): Uint8Array {
  const shared = new Uint8Array(new SharedArrayBuffer(size));
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    for (let off = 0; off < size; ) {
      const n = readSync(fd, shared, off, size - off, off);
      if (n === 0) throw new Error(`the file shrank while being read (${off} of ${size} bytes)`);
      off += n;
    }
  } catch (e) {
    throw ioError(path, e);
  } finally {
    if (fd !== undefined) closeSync(fd);
  }
  return shared;
}

/** Loads one or more -d paths. Throws E_SIGNATURE (with diagnostics), E_DATABASE_FORMAT, E_CVD or E_IO. */
export function loadDatabase(paths: readonly string[], options: LoadOptions): LoadedDatabase {
  if (paths.length === 1) {
    const only = paths[0] as string;
    const st = statSync(only, { throwIfNoEntry: false });
    if (st?.isFile() && isCompiledDatabase(readHead(only))) {
      const shared = readShared(only, st.size);
      return { database: openDatabase(shared, nodeEnv), shared, diagnostics: [], precompiled: true };
    }
  }
  const inputs = paths.flatMap(readDatabaseInputs);
  const compiled = inputs.find((i) => isCompiledDatabase(i.bytes));
  if (compiled !== undefined) {
    throw new VigilError('E_OPTION', `${compiled.name} is a compiled Vigil database: give it alone to -d`);
  }
  const allocate = (size: number) => new Uint8Array(new SharedArrayBuffer(size));
  const { database, diagnostics } = compileDatabase(inputs, nodeEnv, options, allocate);
  return { database, shared: serializeDatabase(database), diagnostics, precompiled: false };
}
