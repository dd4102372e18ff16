// Patterns to and from JSON (their byte runs as hex), for the few structures kept in the meta section.
import type { ByteRun, Pattern, PatternNode } from '../signatures/types.js';

type RunJson = { readonly b: string; readonly m: string };
export type PatternJson = readonly (
  | { readonly t: 'run'; readonly run: RunJson }
  | { readonly t: 'alt'; readonly options: readonly RunJson[]; readonly negate: boolean }
  | { readonly t: 'gap'; readonly min: number; readonly max: number | null }
  | { readonly t: 'anchor'; readonly kind: 'B' | 'L' | 'W' }
)[];

const toHex = (a: Uint8Array) => Array.from(a, (x) => x.toString(16).padStart(2, '0')).join('');
const fromHex = (s: string) =>
  Uint8Array.from({ length: s.length / 2 }, (_, i) => Number.parseInt(s.slice(2 * i, 2 * i + 2), 16));
const runToJson = (r: ByteRun): RunJson => ({ b: toHex(r.bytes), m: toHex(r.mask) });
const runFromJson = (r: RunJson): ByteRun => ({ bytes: fromHex(r.b), mask: fromHex(r.m) });

export function encodePattern(p: Pattern): PatternJson {
  return p.map((n) => {
    switch (n.t) {
      case 'run':
        return { t: 'run', run: runToJson(n.run) };
      case 'alt':
        return { t: 'alt', options: n.options.map(runToJson), negate: n.negate };
      case 'gap':
        return { t: 'gap', min: n.min, max: Number.isFinite(n.max) ? n.max : null };
      default:
        return n;
    }
  });
}

export function decodePattern(p: PatternJson): Pattern {
  return p.map((n): PatternNode => {
    switch (n.t) {
      case 'run':
        return { t: 'run', run: runFromJson(n.run) };
      case 'alt':
        return { t: 'alt', options: n.options.map(runFromJson), negate: n.negate };
      case 'gap':
        return { t: 'gap', min: n.min, max: n.max ?? Number.POSITIVE_INFINITY };
      default:
        return n;
    }
  });
}
