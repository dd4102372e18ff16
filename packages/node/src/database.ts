// Loading signatures from disk as clamscan's -d does: a file or a directory of database files
// (ClamAV's extensions; other names in a directory are left alone, as ClamAV leaves them), or a
// compiled Vigil database. The result lives in a SharedArrayBuffer so worker threads share it.
import { createHash } from 'node:crypto';
import {
  closeSync,
  fsyncSync,
  mkdirSync,
  openSync,
  readdirSync,
  readFileSync,
  readSync,
  renameSync,
  rmSync,
  statSync,
  writeSync,
} from 'node:fs';
import { homedir } from 'node:os';
import { basename, dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
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

/** Where compiled copies of text databases are kept between runs (see `loadDatabase`). */
export interface DatabaseCache {
  readonly dir: string;
}

export interface LoadedDatabase {
  readonly database: Database;
  /** The serialized database in shared memory: hand it to workers. */
  readonly shared: Uint8Array;
  /** Warnings from parsing (errors throw). */
  readonly diagnostics: readonly Diagnostic[];
  /** True when the input was already a compiled database. */
  readonly precompiled: boolean;
  /** The cache file used (read or written), when a cache was given and usable. */
  readonly cacheFile?: string;
  /** True when the database came from the cache (no parsing this run). */
  readonly fromCache?: boolean;
}

/** Where compiled copies of text databases are kept: $VIGIL_CACHE_DIR, else the user's cache. */
export function defaultCacheDir(): string {
  const base = process.env.XDG_CACHE_HOME ?? join(homedir(), '.cache');
  return process.env.VIGIL_CACHE_DIR ?? join(base, 'vigil');
}

/** Compiled databases kept in a cache directory: the newest few, so updates do not pile up. */
const CACHE_KEEP = 2;

/**
 * The cache key of a set of -d paths: every database file they name, with its size, modification
 * time and inode, the load options, and this build of Vigil (so an upgrade never reuses a file
 * compiled by older code). No file is read to compute it.
 */
function cacheKey(paths: readonly string[], options: LoadOptions): string {
  const parts: unknown[] = [options.detectPua];
  const self = fileURLToPath(import.meta.url);
  for (const code of [self, join(dirname(self), '..', '..', 'engine', 'dist', 'database', 'compile.js')]) {
    const st = statSync(code, { throwIfNoEntry: false });
    parts.push(code, st?.size, st?.mtimeMs);
  }
  for (const p of paths) {
    const abs = resolve(p);
    const st = statSync(abs);
    const files = st.isDirectory() ? databaseFilesIn(abs).map((n) => join(abs, n)) : [abs];
    for (const f of files) {
      const fs = statSync(f);
      parts.push(f, fs.size, fs.mtimeMs, fs.ino);
    }
  }
  return createHash('sha256').update(JSON.stringify(parts)).digest('hex').slice(0, 32);
}

/** Keeps the newest CACHE_KEEP compiled databases in the cache directory. */
function pruneCache(dir: string): void {
  const entries = readdirSync(dir)
    .filter((n) => n.endsWith('.vdb'))
    .map((n) => ({ path: join(dir, n), mtime: statSync(join(dir, n)).mtimeMs }))
    .sort((a, b) => b.mtime - a.mtime);
  for (const e of entries.slice(CACHE_KEEP)) rmSync(e.path, { force: true });
}

/**
 * Writes `bytes` to `path` so that a reader sees the old file or the whole new one, never a part.
 * `mode` is the new file's permissions (0o600 for keys).
 */
export function writeFileAtomically(path: string, bytes: Uint8Array, mode = 0o644): void {
  const tmp = `${path}.tmp-${process.pid}`;
  try {
    const fd = openSync(tmp, 'w', mode);
    try {
      for (let off = 0; off < bytes.length; ) off += writeSync(fd, bytes, off);
      fsyncSync(fd);
    } finally {
      closeSync(fd);
    }
    renameSync(tmp, path);
  } catch (e) {
    rmSync(tmp, { force: true });
    throw e;
  }
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

/** The names of the database files ClamAV would load from a directory, sorted. */
function databaseFilesIn(dir: string): string[] {
  const names = readdirSync(dir).filter(isDatabaseFileName).sort();
  // A .cld supersedes the .cvd of the same name, as in ClamAV's directory.
  return names.filter((n) => !(n.endsWith('.cvd') && names.includes(`${n.slice(0, -4)}.cld`)));
}

const CVD_MAGIC = new TextEncoder().encode('ClamAV-VDB:');

/**
 * The name a file given by path is parsed under: its own, unless it holds a ClamAV container
 * under another name (an update client keeps whatever release it takes as `daily.db`): then that
 * name with `.cvd` added when its body is gzip-compressed, `.cld` when it is a plain tar, as
 * freshclam writes them (`daily.db.cvd`: messages still name the file).
 */
function containerName(name: string, bytes: Uint8Array): string {
  if (/\.c[vlu]d$/i.test(name) || !CVD_MAGIC.every((b, i) => bytes[i] === b)) return name;
  const gzip = bytes[512] === 0x1f && bytes[513] === 0x8b;
  return `${name}.${gzip ? 'cvd' : 'cld'}`;
}

/** The database files a -d argument names: the file itself, or a directory's database files. */
export function readDatabaseInputs(path: string): DatabaseInput[] {
  let st: ReturnType<typeof statSync>;
  try {
    st = statSync(path);
  } catch (e) {
    throw ioError(path, e);
  }
  if (!st.isDirectory()) {
    const bytes = readBytes(path);
    return [{ name: containerName(basename(path), bytes), bytes }];
  }
  const kept = databaseFilesIn(path);
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

/**
 * Loads one or more -d paths. Throws E_SIGNATURE (with diagnostics), E_DATABASE_FORMAT, E_CVD or E_IO.
 * With `cache`, text databases are compiled once and later runs open the compiled copy (a database
 * that loaded with warnings is not cached, so its warnings are printed every time).
 */
export function loadDatabase(paths: readonly string[], options: LoadOptions, cache?: DatabaseCache): LoadedDatabase {
  if (paths.length === 1) {
    const only = paths[0] as string;
    const st = statSync(only, { throwIfNoEntry: false });
    if (st?.isFile() && isCompiledDatabase(readHead(only))) {
      const shared = readShared(only, st.size);
      return { database: openDatabase(shared, nodeEnv), shared, diagnostics: [], precompiled: true };
    }
  }
  if (cache !== undefined) {
    let file: string | undefined;
    try {
      file = join(cache.dir, `${cacheKey(paths, options)}.vdb`);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) {
        const shared = readShared(file, st.size);
        return {
          database: openDatabase(shared, nodeEnv),
          shared,
          diagnostics: [],
          precompiled: false,
          cacheFile: file,
          fromCache: true,
        };
      }
    } catch {
      // An unreadable or damaged cache entry is compiled again below (and replaced).
    }
    const loaded = loadDatabase(paths, options);
    if (file !== undefined && loaded.diagnostics.length === 0) {
      try {
        mkdirSync(cache.dir, { recursive: true });
        writeFileAtomically(file, loaded.shared);
        pruneCache(cache.dir);
        return { ...loaded, cacheFile: file, fromCache: false };
      } catch {
        // A cache that cannot be written only costs the next run the parse.
      }
    }
    return loaded;
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
