// CONTRACT (being implemented): the engine's database API used by packages/node and packages/cli.
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';
import type { Diagnostic } from '../signatures/diagnostics.js';

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

/** Parses and compiles signature files. Throws E_SIGNATURE (with diagnostics) when any line is bad. */
export function compileDatabase(
  _inputs: readonly DatabaseInput[],
  _env: EngineEnv,
  _options: LoadOptions,
): CompileResult {
  throw new VigilError('E_INTERNAL', 'compileDatabase: not implemented yet');
}

/** The compiled database as one buffer: magic, version, checksum, sections. */
export function serializeDatabase(_db: Database): Uint8Array {
  throw new VigilError('E_INTERNAL', 'serializeDatabase: not implemented yet');
}

/** True when `bytes` begins with the compiled database's magic. */
export function isCompiledDatabase(bytes: Uint8Array): boolean {
  return bytes.length >= 8 && String.fromCharCode(...bytes.subarray(0, 8)) === 'VIGILDB\0';
}

/**
 * Opens a serialized database without copying its arrays (so a SharedArrayBuffer is shared by
 * every worker). Checks magic, version and checksum first; throws E_DATABASE_FORMAT otherwise.
 */
export function openDatabase(_bytes: Uint8Array, _env: EngineEnv): Database {
  throw new VigilError('E_INTERNAL', 'openDatabase: not implemented yet');
}
