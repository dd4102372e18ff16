// PLACEHOLDER (being replaced): parse one database file into a sink.
import type { DatabaseInput } from '../database/api.js';
import type { EngineEnv } from '../env.js';
import type { Diagnostic } from './diagnostics.js';
import type { SignatureSink } from './types.js';

export interface ParseContext {
  readonly env: EngineEnv;
  readonly detectPua: boolean;
  readonly diagnostics: Diagnostic[];
}

export function parseDatabaseFile(_input: DatabaseInput, _sink: SignatureSink, _ctx: ParseContext): void {
  throw new Error('parsers not written yet');
}
