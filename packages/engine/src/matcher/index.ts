// PLACEHOLDER (being replaced): the multi-pattern matcher's public contract.
import type { FileFacts } from '../filetypes/types.js';
import type { SectionArray } from '../database/format.js';
import type { SubsigMeta } from '../database/layout.js';
import type { ByteCompare, LogicalExpr, OffsetSpec, Pattern, PatternModifiers } from '../signatures/types.js';

/** One pattern to compile: `id` is dense from 0 and is what MatchSet reports. */
export interface MatcherPattern {
  readonly id: number;
  readonly pattern: Pattern;
  readonly offset: OffsetSpec;
  readonly modifiers: PatternModifiers;
}

/** A compiled matcher as typed arrays (stored as database sections) plus JSON-able meta. */
export interface MatcherTables {
  readonly arrays: Record<string, SectionArray>;
  readonly meta: unknown;
}

export function compileMatcher(_patterns: readonly MatcherPattern[]): MatcherTables {
  throw new Error('matcher not written yet');
}

/** What one pass found. */
export interface MatchSet {
  ids(): Iterable<number>;
  count(id: number): number;
  offsets(id: number): readonly number[];
}

export class Matcher {
  constructor(readonly tables: MatcherTables) {}
  scan(_data: Uint8Array, _facts: FileFacts, _opts: { stop?: (id: number) => boolean }): MatchSet {
    throw new Error('matcher not written yet');
  }
}

export function evaluateLogical(_e: LogicalExpr, _countOf: (i: number) => number): boolean {
  throw new Error('not written yet');
}
export function runPcre(_s: Extract<SubsigMeta, { k: 'pcre' }>, _data: Uint8Array, _facts: FileFacts): number {
  throw new Error('not written yet');
}
export function evaluateByteCompare(_c: ByteCompare, _data: Uint8Array, _offsets: readonly number[]): boolean {
  throw new Error('not written yet');
}
