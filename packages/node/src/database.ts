// Loading signatures from disk as clamscan's -d does: a file or a directory of database files
// (ClamAV's extensions; other names in a directory are left alone, as ClamAV leaves them), or a
// compiled Vigil database. The result lives in a SharedArrayBuffer so worker threads share it.
import { createHash } from 'node:crypto';
import {
  closeSync,
  fstatSync,
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
  compiledLayout,
  type Database,
  type DatabaseInput,
  type Diagnostic,
  isCompiledDatabase,
  isDatabaseFileName,
  isVigilError,
  type LoadOptions,
  openDatabase,
  type PageSource,
  serializeDatabase,
  VigilError,
} from '@vigil/engine';
import { nodeEnv } from './env.js';
import { readAt } from './scanfile.js';

/** ClamAV's default database directory (clamscan's default for -d). */
export const DEFAULT_DATABASE_DIR = '/var/lib/clamav';

/** Where compiled copies of text databases are kept between runs (see `loadDatabase`). */
export interface DatabaseCache {
  readonly dir: string;
}

/**
 * A database as threads share it: its bytes in shared memory and, when it was opened from a
 * compiled file, that file's descriptor, which its paged sections (the hash tables) are read from
 * as lookups need them. Descriptors are the process's, so every thread reads through the same one;
 * `closeDatabase` closes it once no thread uses the database.
 */
export interface SharedDatabase {
  /** The whole compiled database, or its resident part when `fd` is set. */
  readonly shared: Uint8Array;
  readonly fd?: number;
  /** The file `fd` reads, to open it again from another thread (`reopenShared`). */
  readonly file?: PagedFile;
}

/** Which file a database's pages are in: its path and identity (a file put in its place is another). */
export interface PagedFile {
  readonly path: string;
  readonly dev: number;
  readonly ino: number;
}

export interface LoadedDatabase extends SharedDatabase {
  readonly database: Database;
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

/** Pages of an open compiled file, read as lookups need them (the page cache keeps them warm). */
function filePages(fd: number, size: number): PageSource {
  return {
    size,
    read(offset, length) {
      const out = new Uint8Array(length);
      return out.subarray(0, readAt(fd, out, offset));
    },
  };
}

/** Opens a shared database in this thread (see SharedDatabase). */
export function openShared(db: SharedDatabase): Database {
  const pages = db.fd === undefined ? undefined : filePages(db.fd, fstatSync(db.fd).size);
  return openDatabase(db.shared, nodeEnv, pages);
}

/**
 * A database loaded by a thread that has ended (which closed its descriptors), with its file opened
 * again here. Throws E_IO when another file has taken its path meanwhile.
 */
export function reopenShared(db: SharedDatabase): SharedDatabase {
  const file = db.file;
  if (file === undefined) return { shared: db.shared };
  let fd: number | undefined;
  try {
    fd = openSync(file.path, 'r');
    const st = fstatSync(fd);
    if (st.dev !== file.dev || st.ino !== file.ino) throw new Error('another file took its place while it loaded');
    return { shared: db.shared, fd, file };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    throw ioError(file.path, e);
  }
}

/** Closes the file a shared database reads its pages from; call it once no thread scans with it. */
export function closeDatabase(db: SharedDatabase): void {
  if (db.fd === undefined) return;
  try {
    closeSync(db.fd);
  } catch {
    // Already closed: nothing is lost.
  }
}

/**
 * Opens a compiled database file: its resident part read straight into shared memory (one copy,
 * not two), its paged sections left in the file, read through the descriptor kept open.
 */
function openCompiledFile(path: string): SharedDatabase & { readonly database: Database } {
  let fd: number | undefined;
  try {
    fd = openSync(path, 'r');
    const head = new Uint8Array(64);
    readSync(fd, head, 0, head.length, 0);
    const { residentLength, totalLength } = compiledLayout(head);
    const st = fstatSync(fd);
    const shared = new Uint8Array(new SharedArrayBuffer(Math.min(residentLength, st.size)));
    const n = readAt(fd, shared, 0);
    if (n < shared.length) throw new Error(`the file shrank while being read (${n} of ${shared.length} bytes)`);
    const db = totalLength > residentLength ? { shared, fd, file: { path, dev: st.dev, ino: st.ino } } : { shared };
    const database = openShared(db);
    if (db.fd === undefined) closeSync(fd);
    return { ...db, database };
  } catch (e) {
    if (fd !== undefined) closeSync(fd);
    throw isVigilError(e) ? e : ioError(path, e);
  }
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
      return { ...openCompiledFile(only), diagnostics: [], precompiled: true };
    }
  }
  if (cache !== undefined) {
    let file: string | undefined;
    try {
      file = join(cache.dir, `${cacheKey(paths, options)}.vdb`);
      const st = statSync(file, { throwIfNoEntry: false });
      if (st?.isFile()) {
        return { ...openCompiledFile(file), diagnostics: [], precompiled: false, cacheFile: file, fromCache: true };
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
        // Opened again from the file, so that its hash tables leave memory as they would next run.
        return { ...openCompiledFile(file), diagnostics: [], precompiled: false, cacheFile: file, fromCache: false };
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
