// Compiles body and logical subsignature patterns into the matcher's typed arrays: the encoded
// programs of every variant, per-pattern offsets and flags, and the atom tables. Patterns whose
// offset pins their start to a few positions skip the atom tables and are checked in place.
import type { SectionArray } from '../database/format.js';
import type { OffsetSpec, Pattern, PatternModifiers } from '../signatures/types.js';
import { type Atom, type AtomTable, buildTable, chooseAtom } from './atoms.js';
import { encodeOffset, OP_RUN, ProgramWriter, RUN_NOCASE, VAR_FULLWORD, VAR_WIDE, variantsOf } from './program.js';

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
    const isPinned = p.offset.kind !== 'any' && p.offset.kind !== 'section-entire' && off.shift <= DIRECT_MAX_SHIFT;
    const flags = p.modifiers.fullword ? VAR_FULLWORD : 0;
    for (const [vi, nodes] of variantsOf(p.pattern, p.modifiers).entries()) {
      const v = vId.length;
      vFirst.push(prog.write(nodes, p.modifiers.nocase));
      vCount.push(nodes.length);
      vId.push(p.id);
      const wide = p.modifiers.wide && !(p.modifiers.ascii && vi === 0);
      vFlags.push(flags | (wide ? VAR_WIDE : 0));
      if (isPinned) {
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
  const pinned = groupPinned(direct, vFirst, vId, { pKind, pN, pShift, pIndex }, prog);
  const arrays: Record<string, SectionArray> = {
    ...pinned,
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

/** The first byte a variant must start with, or 256 when its first node is not a literal byte. */
function firstByte(prog: ProgramWriter, first: number): number {
  const ops = prog.ops.peek();
  if (ops[first * 4] !== OP_RUN || ((ops[first * 4 + 3] as number) & RUN_NOCASE) !== 0) return 256;
  const off = ops[first * 4 + 1] as number;
  const len = ops[first * 4 + 2] as number;
  return prog.lit.peek()[off + len] === 0xff ? (prog.lit.peek()[off] as number) : 256;
}

/**
 * Pinned variants grouped by their offset (kind, n, shift, section), each group sorted by first
 * byte, so a scan computes each group's window once and checks only the variants whose first
 * byte is the one at each start position.
 */
function groupPinned(
  direct: readonly number[],
  vFirst: readonly number[],
  vId: readonly number[],
  p: { pKind: Uint8Array; pN: Int32Array; pShift: Int32Array; pIndex: Int32Array },
  prog: ProgramWriter,
): Record<string, SectionArray> {
  const keyOf = (v: number) => {
    const id = vId[v] as number;
    return `${p.pKind[id]}:${p.pN[id]}:${p.pShift[id]}:${p.pIndex[id]}`;
  };
  const groups = new Map<string, { v: number; b: number }[]>();
  for (const v of direct) {
    const k = keyOf(v);
    let g = groups.get(k);
    if (g === undefined) {
      g = [];
      groups.set(k, g);
    }
    g.push({ v, b: firstByte(prog, vFirst[v] as number) });
  }
  const gStart = new Uint32Array(groups.size + 1);
  const gPattern = new Uint32Array(groups.size);
  const dVariant = new Uint32Array(direct.length);
  const dByte = new Uint16Array(direct.length);
  let at = 0;
  let gi = 0;
  for (const members of groups.values()) {
    members.sort((a, b) => a.b - b.b);
    gPattern[gi] = vId[(members[0] as { v: number }).v] as number;
    gStart[gi] = at;
    for (const m of members) {
      dVariant[at] = m.v;
      dByte[at] = m.b;
      at++;
    }
    gi++;
  }
  gStart[gi] = at;
  return { gStart, gPattern, dVariant, dByte };
}
