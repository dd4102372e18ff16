// The reference matcher: tries every pattern at every allowed start, straight from the parsed
// Pattern, with full backtracking. Slow and obviously right; the conformance tests hold the fast
// matcher to it.
import type { FileFacts } from '../filetypes/types.js';
import type { ByteRun } from '../signatures/types.js';
import type { MatcherPattern } from './compile.js';
import { startWindow } from './offsets.js';
import { encodeOffset, FOLD, type VariantNodes, variantsOf } from './program.js';

const isWord = (b: number | undefined) =>
  b !== undefined && ((b >= 0x30 && b <= 0x39) || (b >= 0x41 && b <= 0x5a) || (b >= 0x61 && b <= 0x7a));

function runAt(r: ByteRun, d: Uint8Array, pos: number, nocase: boolean): boolean {
  if (pos < 0 || pos + r.bytes.length > d.length) return false;
  for (let i = 0; i < r.bytes.length; i++) {
    const m = r.mask[i] as number;
    let b = d[pos + i] as number;
    let p = r.bytes[i] as number;
    if (nocase && m === 0xff) {
      b = FOLD[b] as number;
      p = FOLD[p] as number;
    }
    if ((b & m) !== p) return false;
  }
  return true;
}

function anchorOk(kind: 'B' | 'L' | 'W', d: Uint8Array, idx: number): boolean {
  const outside = idx < 0 || idx >= d.length;
  const b = d[idx];
  if (kind === 'B') return outside || !isWord(b);
  if (kind === 'L') return outside || b === 0x0a || b === 0x0d;
  return !outside && !isWord(b);
}

/** All end positions of nodes[j..] matched from pos. */
function ends(nodes: VariantNodes, j: number, d: Uint8Array, pos: number, nocase: boolean, out: Set<number>): void {
  const n = nodes[j];
  if (n === undefined) {
    out.add(pos);
    return;
  }
  if (n.t === 'run') {
    if (runAt(n.run, d, pos, nocase)) ends(nodes, j + 1, d, pos + n.run.bytes.length, nocase, out);
  } else if (n.t === 'anchor') {
    if (anchorOk(n.kind, d, j === 0 ? pos - 1 : pos)) ends(nodes, j + 1, d, pos, nocase, out);
  } else if (n.t === 'gap') {
    const max = Math.min(d.length - pos, n.max);
    for (let g = n.min; g <= max; g++) ends(nodes, j + 1, d, pos + g, nocase, out);
  } else if (n.negate) {
    const len = n.options[0]?.bytes.length ?? 0;
    if (pos + len <= d.length && !n.options.some((o) => runAt(o, d, pos, nocase))) {
      ends(nodes, j + 1, d, pos + len, nocase, out);
    }
  } else {
    for (const o of n.options) if (runAt(o, d, pos, nocase)) ends(nodes, j + 1, d, pos + o.bytes.length, nocase, out);
  }
}

/** Every start at which `p` matches `data`, by brute force. */
export function naiveStarts(p: MatcherPattern, data: Uint8Array, facts: FileFacts): number[] {
  const off = encodeOffset(p.offset);
  const w = startWindow(off.kind, off, facts, data.length);
  if (w === undefined) return [];
  const starts = new Set<number>();
  variantsOf(p.pattern, p.modifiers).forEach((nodes, vi) => {
    const wide = p.modifiers.wide && !(p.modifiers.ascii && vi === 0);
    const step = wide ? 2 : 1;
    for (let s = w.lo; s <= w.hi; s++) {
      if (p.modifiers.fullword && isWord(data[s - step])) continue;
      const out = new Set<number>();
      ends(nodes, 0, data, s, p.modifiers.nocase, out);
      for (const e of out) {
        if (e > w.endMax) continue;
        if (p.modifiers.fullword && isWord(data[e])) continue;
        starts.add(s);
        break;
      }
    }
  });
  return [...starts].sort((a, b) => a - b);
}
