// The engine's database API used by packages/node and packages/cli: compile, serialize, open.
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';
import type { Diagnostic } from '../signatures/diagnostics.js';
import { type PageSource, readHeader } from './format.js';
import { CompiledDatabase, openCompiled } from './open.js';

/** One database file as read from disk: its base name (the extension picks the format) and bytes. */
export interface DatabaseInput {
  readonly name: string;
  readonly bytes: Uint8Array;
}

/** Options of a database load. */
export interface LoadOptions {
  /** Load the PUA variants (.hdu .hsu .mdu .msu .ndu .ldu), as clamscan's --detect-pua. */
  readonly detectPua: boolean;
}

/** Counts per signature kind, as `sigtool --info` / `vigil db info` print them. */
export interface DatabaseInfo {
  readonly counts: Readonly<Record<string, number>>;
  readonly total: number;
  /** Per source file: name, signature count, and the CVD header fields when it was a container. */
  readonly sources: readonly {
    readonly name: string;
    readonly signatures: number;
    readonly version?: number;
    readonly builtAt?: string;
    /** For a container: its digital signature verified with ClamAV's key. */
    readonly official?: boolean;
  }[];
}

/** An immutable compiled database. Created by `compileDatabase` or `openDatabase`. */
export interface Database {
  readonly info: DatabaseInfo;
}

/** The result of compiling text or CVD inputs. `diagnostics` holds every bad line found. */
export interface CompileResult {
  readonly database: Database;
  readonly diagnostics: readonly Diagnostic[];
}

export { compileDatabase } from './compile.js';
export type { Allocate, PageSource } from './format.js';

/** The compiled database as one buffer: magic, version, checksum, sections (paged ones read back). */
export function serializeDatabase(db: Database): Uint8Array {
  if (!(db instanceof CompiledDatabase)) throw new VigilError('E_INTERNAL', 'not a database made by this engine');
  return db.serialize();
}

/**
 * Reads and checks every page that opening left in the file (the hash tables): a damaged page is
 * otherwise found only when a lookup reads it. Throws E_DATABASE_FORMAT naming the page.
 */
export function checkDatabase(db: Database): void {
  if (!(db instanceof CompiledDatabase)) throw new VigilError('E_INTERNAL', 'not a database made by this engine');
  db.checkPages();
}

/** True when `bytes` begins with the compiled database's magic. */
export function isCompiledDatabase(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(0, 8)) === 'VIGILDB\0';
}

/**
 * Opens a serialized database without copying its arrays (so a SharedArrayBuffer is shared by
 * every worker). Checks magic, version and checksum first; throws E_DATABASE_FORMAT otherwise.
 * `bytes` is the whole file, or its resident part (`compiledLayout`) with `pages` reading the rest
 * of the file when a hash lookup needs it.
 */
export function openDatabase(bytes: Uint8Array, env: EngineEnv, pages?: PageSource): Database {
  return openCompiled(bytes, env, pages);
}

/** From a compiled database's first 64 bytes: how much of it to hold in memory, and its whole length. */
export function compiledLayout(head: Uint8Array): { readonly residentLength: number; readonly totalLength: number } {
  const { residentLength, totalLength } = readHeader(head);
  return { residentLength, totalLength };
}
