// Compiles body and logical subsignature patterns into the matcher's typed arrays: the encoded
// programs of every variant, per-pattern offsets and flags, and the atom tables. Patterns whose
// offset pins their start to a few positions skip the atom tables and are checked in place.
import type { SectionArray } from '../database/format.js';
import type { OffsetSpec, Pattern, PatternModifiers } from '../signatures/types.js';
import { type Atom, type AtomTable, buildTable, chooseAtom } from './atoms.js';
import { encodeOffset, ProgramWriter, VAR_FULLWORD, VAR_WIDE, variantsOf } from './program.js';

/** One pattern to compile: `id` is dense from 0 and is what MatchSet reports. */
export interface MatcherPattern {
  readonly id: number;
  readonly pattern: Pattern;
  readonly offset: OffsetSpec;
  readonly modifiers: PatternModifiers;
  /** Only whether it matches matters (a body signature), not how often or where else. */
  readonly firstOnly?: boolean;
}

/** A compiled matcher: typed arrays (stored as database sections) and JSON-able meta. */
export interface MatcherTables {
  readonly arrays: Record<string, SectionArray>;
  readonly meta: MatcherMeta;
}

export interface MatcherMeta {
  readonly patterns: number;
  readonly variants: number;
  readonly tables: readonly {
    readonly k: number;
    readonly fold: boolean;
    readonly bucketBits: number;
    readonly bloomBits: number;
  }[];
}

/** Offsets pinned to at most this many start positions are checked in place, not through atoms. */
export const DIRECT_MAX_SHIFT = 64;

/** Pattern flags. */
export const PAT_FIRST_ONLY = 1;

export function tableName(k: number, fold: boolean): string {
  return `t${k}${fold ? 'i' : 's'}`;
}

export function compileMatcher(patterns: readonly MatcherPattern[]): MatcherTables {
  const prog = new ProgramWriter();
  const n = patterns.length;
  const pKind = new Uint8Array(n);
  const pN = new Int32Array(n);
  const pShift = new Int32Array(n);
  const pIndex = new Int32Array(n);
  const pFlags = new Uint8Array(n);
  const vFirst: number[] = [];
  const vCount: number[] = [];
  const vId: number[] = [];
  const vFlags: number[] = [];
  const direct: number[] = [];
  const everywhere: number[] = [];
  const byTable = new Map<string, { k: number; fold: boolean; entries: { v: number; atom: Atom }[] }>();
  for (const p of patterns) {
    const off = encodeOffset(p.offset);
    pKind[p.id] = off.kind;
    pN[p.id] = off.n;
    pShift[p.id] = Math.min(off.shift, 0x7fffffff);
    pIndex[p.id] = off.index;
    pFlags[p.id] = p.firstOnly === true ? PAT_FIRST_ONLY : 0;
    const pinned = p.offset.kind !== 'any' && p.offset.kind !== 'section-entire' && off.shift <= DIRECT_MAX_SHIFT;
    const flags = p.modifiers.fullword ? VAR_FULLWORD : 0;
    for (const [vi, nodes] of variantsOf(p.pattern, p.modifiers).entries()) {
      const v = vId.length;
      vFirst.push(prog.write(nodes, p.modifiers.nocase));
      vCount.push(nodes.length);
      vId.push(p.id);
      const wide = p.modifiers.wide && !(p.modifiers.ascii && vi === 0);
      vFlags.push(flags | (wide ? VAR_WIDE : 0));
      if (pinned) {
        direct.push(v);
        continue;
      }
      const atom = chooseAtom(nodes, p.modifiers.nocase);
      if (atom === undefined) {
        everywhere.push(v);
        continue;
      }
      const name = tableName(atom.k, p.modifiers.nocase);
      let t = byTable.get(name);
      if (t === undefined) {
        t = { k: atom.k, fold: p.modifiers.nocase, entries: [] };
        byTable.set(name, t);
      }
      t.entries.push({ v, atom });
    }
  }
  const arrays: Record<string, SectionArray> = {
    ops: prog.ops.done(),
    opts: prog.opts.done(),
    lit: prog.lit.done(),
    pKind,
    pN,
    pShift,
    pIndex,
    pFlags,
    vFirst: Uint32Array.from(vFirst),
    vCount: Uint32Array.from(vCount),
    vId: Uint32Array.from(vId),
    vFlags: Uint8Array.from(vFlags),
    direct: Uint32Array.from(direct),
    everywhere: Uint32Array.from(everywhere),
  };
  const tables: AtomTable[] = [];
  for (const [name, t] of [...byTable].sort(([a], [b]) => (a < b ? 1 : -1))) {
    const table = buildTable(t.k, t.fold, t.entries);
    tables.push(table);
    for (const field of ['start', 'key', 'variant', 'node', 'pos', 'bloom'] as const) {
      arrays[`${name}.${field}`] = table[field];
    }
  }
  const meta: MatcherMeta = {
    patterns: n,
    variants: vId.length,
    tables: tables.map(({ k, fold, bucketBits, bloomBits }) => ({ k, fold, bucketBits, bloomBits })),
  };
  return { arrays, meta };
}
