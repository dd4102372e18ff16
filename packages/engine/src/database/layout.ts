// The shapes stored in a compiled database's JSON meta section, shared by compile.ts and open.ts.
import type { ByteCompare, LogicalExpr, OffsetSpec, TargetDescription } from '../signatures/types.js';

/** The views a file is matched as: raw bytes, normalised HTML (target 3), normalised text (target 7). */
export const GROUPS = ['raw', 'html', 'text'] as const;
export type Group = (typeof GROUPS)[number];

/** A logical subsignature: a matcher pattern id in the signature's group, a PCRE, or a byte compare. */
export type SubsigMeta =
  | { readonly k: 'p'; readonly id: number }
  | {
      readonly k: 'pcre';
      readonly trigger: LogicalExpr;
      readonly offset: OffsetSpec;
      readonly regex: string;
      readonly flags: string;
    }
  | { readonly k: 'bc'; readonly compare: ByteCompare }
  /** A subsignature this engine cannot match (a macro): counts 0. */
  | { readonly k: 'never' };

/** One logical signature as stored. */
export interface LogicalMeta {
  readonly nameId: number;
  readonly group: Group;
  readonly tdb: TargetDescription;
  readonly expr: LogicalExpr;
  readonly subsigs: readonly SubsigMeta[];
  /** The expression holds with no subsignature matched: evaluate it for every file. */
  readonly always: boolean;
}
