// Encodes hex patterns into flat typed arrays (the "program" a verifier walks) and applies the
// subsignature modifiers: `::w` interleaves zero bytes, `::a` with `::w` keeps both forms, `::i`
// folds letters. One MatcherPattern becomes one or two variants; each variant is a node list.
import type { ByteRun, OffsetSpec, Pattern, PatternModifiers } from '../signatures/types.js';

/** Node opcodes: 4 Int32 per node. RUN [op, litOff, len, flags]; ALT [op, optStart, nOpts, negate];
 *  GAP [op, min, max (-1 unbounded), 0]; ANCHOR [op, kind, 0, 0]. Options: 3 Int32 [litOff, len, flags]. */
export const OP_RUN = 1;
export const OP_ALT = 2;
export const OP_GAP = 3;
export const OP_ANCHOR = 4;
/** Run flags: every mask byte is 0xff (no mask test needed); the run compares case-folded. */
export const RUN_LITERAL = 1;
export const RUN_NOCASE = 2;
/** Anchor kinds. */
export const ANCHOR_B = 0;
export const ANCHOR_L = 1;
export const ANCHOR_W = 2;
/** Variant flags. */
export const VAR_FULLWORD = 1;
export const VAR_WIDE = 2;

/** Offset kinds as stored. */
export const OFFSET_KINDS = [
  'any',
  'abs',
  'eof',
  'ep',
  'section',
  'section-entire',
  'last-section',
  'version-info',
  'macro',
] as const;

/** ASCII lower-casing table used for `::i` patterns and their data. */
export const FOLD: Uint8Array = (() => {
  const t = new Uint8Array(256);
  for (let i = 0; i < 256; i++) t[i] = i >= 0x41 && i <= 0x5a ? i + 0x20 : i;
  return t;
})();

/** A node list in source form, after modifiers (what atoms are chosen from). */
export type VariantNodes = readonly Pattern[number][];

function widenRun(r: ByteRun): ByteRun {
  const bytes = new Uint8Array(r.bytes.length * 2);
  const mask = new Uint8Array(r.mask.length * 2);
  for (let i = 0; i < r.bytes.length; i++) {
    bytes[2 * i] = r.bytes[i] as number;
    mask[2 * i] = r.mask[i] as number;
    mask[2 * i + 1] = 0xff;
  }
  return { bytes, mask };
}

/** The wide (UTF-16LE) form of a pattern: each byte followed by a zero, gaps doubled. */
function widen(p: Pattern): VariantNodes {
  return p.map((n) => {
    if (n.t === 'run') return { t: 'run', run: widenRun(n.run) };
    if (n.t === 'alt') return { t: 'alt', options: n.options.map(widenRun), negate: n.negate };
    if (n.t === 'gap') return { t: 'gap', min: n.min * 2, max: n.max * 2 };
    return n;
  });
}

/** The forms a pattern is matched in, given its modifiers. */
export function variantsOf(pattern: Pattern, mods: PatternModifiers): VariantNodes[] {
  if (!mods.wide) return [pattern];
  return mods.ascii ? [pattern, widen(pattern)] : [widen(pattern)];
}

/** Growable typed-array writer. */
export class IntWriter {
  private a = new Int32Array(1024);
  length = 0;
  push(...xs: number[]): void {
    if (this.length + xs.length > this.a.length) {
      const b = new Int32Array(Math.max(this.a.length * 2, this.length + xs.length));
      b.set(this.a);
      this.a = b;
    }
    for (const x of xs) this.a[this.length++] = x;
  }
  /** The contents so far (a view; valid until the next push). */
  peek(): Int32Array {
    return this.a.subarray(0, this.length);
  }
  done(): Int32Array {
    return this.a.slice(0, this.length);
  }
}

export class ByteWriter {
  private a = new Uint8Array(4096);
  length = 0;
  push(bytes: Uint8Array): number {
    const at = this.length;
    if (at + bytes.length > this.a.length) {
      const b = new Uint8Array(Math.max(this.a.length * 2, at + bytes.length));
      b.set(this.a);
      this.a = b;
    }
    this.a.set(bytes, at);
    this.length += bytes.length;
    return at;
  }
  peek(): Uint8Array {
    return this.a.subarray(0, this.length);
  }
  done(): Uint8Array {
    return this.a.slice(0, this.length);
  }
}

/** Writes the node lists of all variants into shared pools. */
export class ProgramWriter {
  readonly ops = new IntWriter();
  readonly opts = new IntWriter();
  readonly lit = new ByteWriter();

  private runEntry(r: ByteRun, nocase: boolean): [number, number, number] {
    const literal = r.mask.every((m) => m === 0xff);
    const bytes = nocase ? r.bytes.map((b, i) => (r.mask[i] === 0xff ? (FOLD[b] as number) : b)) : r.bytes;
    const off = this.lit.push(bytes);
    this.lit.push(r.mask);
    return [off, r.bytes.length, (literal ? RUN_LITERAL : 0) | (nocase ? RUN_NOCASE : 0)];
  }

  /** Appends one variant; returns the index of its first node. */
  write(nodes: VariantNodes, nocase: boolean): number {
    const first = this.ops.length / 4;
    for (const n of nodes) {
      if (n.t === 'run') this.ops.push(OP_RUN, ...this.runEntry(n.run, nocase));
      else if (n.t === 'alt') {
        const start = this.opts.length / 3;
        for (const o of n.options) this.opts.push(...this.runEntry(o, nocase));
        this.ops.push(OP_ALT, start, n.options.length, n.negate ? 1 : 0);
      } else if (n.t === 'gap') this.ops.push(OP_GAP, n.min, Number.isFinite(n.max) ? n.max : -1, 0);
      else this.ops.push(OP_ANCHOR, n.kind === 'B' ? ANCHOR_B : n.kind === 'L' ? ANCHOR_L : ANCHOR_W, 0, 0);
    }
    return first;
  }
}

/** Offset fields as stored per pattern. */
export interface EncodedOffset {
  readonly kind: number;
  readonly n: number;
  readonly shift: number;
  readonly index: number;
}

export function encodeOffset(o: OffsetSpec): EncodedOffset {
  const kind = OFFSET_KINDS.indexOf(o.kind);
  switch (o.kind) {
    case 'any':
      return { kind, n: 0, shift: 0, index: 0 };
    case 'section':
      return { kind, n: o.n, shift: o.shift, index: o.index };
    case 'section-entire':
      return { kind, n: 0, shift: 0, index: o.index };
    case 'version-info':
    case 'macro':
      return { kind, n: 0, shift: 0, index: 0 };
    default:
      return { kind, n: o.n, shift: o.shift, index: 0 };
  }
}
