// Conformance: the fast matcher and the naive reference agree on which patterns match, and every
// start the fast one reports is a real match start, on hand-written cases and on random ones.
import assert from 'node:assert/strict';
import { describe, it } from 'node:test';
import fc from 'fast-check';
import type { FileFacts } from '../filetypes/types.js';
import { type ByteRun, NO_MODIFIERS, type OffsetSpec, type Pattern, type PatternNode } from '../signatures/types.js';
import { compileMatcher, type MatcherPattern } from './compile.js';
import { Matcher } from './matcher.js';
import { naiveStarts } from './naive.js';

const enc = new TextEncoder();
const lit = (s: string): ByteRun => ({ bytes: enc.encode(s), mask: new Uint8Array(s.length).fill(0xff) });
const run = (s: string): PatternNode => ({ t: 'run', run: lit(s) });
const ANY: OffsetSpec = { kind: 'any' };
const FACTS: FileFacts = { type: 'CL_TYPE_BINARY_DATA', size: 0 };

function check(patterns: MatcherPattern[], data: Uint8Array, facts: FileFacts = FACTS): Map<number, number[]> {
  const m = new Matcher(compileMatcher(patterns));
  const got = m.scan(data, facts);
  const result = new Map<number, number[]>();
  for (const p of patterns) {
    const want = naiveStarts(p, data, facts);
    const offs = got.offsets(p.id);
    assert.equal(
      offs.length > 0,
      want.length > 0,
      `pattern ${p.id} matched: fast ${offs.length > 0}, naive ${want.length > 0}`,
    );
    for (const o of offs) assert.ok(want.includes(o), `pattern ${p.id}: start ${o} is not a match (naive: ${want})`);
    result.set(p.id, [...offs]);
  }
  return result;
}

const pat = (id: number, pattern: Pattern, extra: Partial<MatcherPattern> = {}): MatcherPattern => ({
  id,
  pattern,
  offset: ANY,
  modifiers: NO_MODIFIERS,
  ...extra,
});

describe('matcher', () => {
  it('finds literal, gapped and alternative patterns where they are', () => {
    const data = enc.encode('xxhello world, hello there; abcXYZdef');
    const r = check(
      [
        pat(0, [run('hello')]),
        pat(1, [run('hello'), { t: 'gap', min: 1, max: 1 }, run('world')]),
        pat(2, [run('abc'), { t: 'gap', min: 0, max: Number.POSITIVE_INFINITY }, run('def')]),
        pat(3, [{ t: 'alt', options: [lit('zz'), lit('th')], negate: false }, run('ere')]),
        pat(4, [run('nothere')]),
        pat(5, [run('hel'), { t: 'gap', min: 5, max: 9 }, run('ld')]),
      ],
      data,
    );
    assert.deepEqual(r.get(0), [2, 15]);
    assert.deepEqual(r.get(4), []);
    assert.equal(r.get(2)?.length, 1);
  });

  it('honours offsets: absolute with shift, EOF-n, entry point and sections', () => {
    const data = enc.encode('MZ....payload....tail');
    const facts: FileFacts = {
      type: 'CL_TYPE_PE',
      size: data.length,
      exe: {
        format: 'pe',
        entryPoint: 6,
        sections: [{ rva: 0, virtualSize: 7, rawOffset: 6, rawSize: 7 }],
        malformed: false,
      },
    };
    const r = check(
      [
        pat(0, [run('payload')], { offset: { kind: 'abs', n: 6, shift: 0 } }),
        pat(1, [run('payload')], { offset: { kind: 'abs', n: 2, shift: 3 } }),
        pat(2, [run('payload')], { offset: { kind: 'abs', n: 2, shift: 4 } }),
        pat(3, [run('tail')], { offset: { kind: 'eof', n: 4, shift: 0 } }),
        pat(4, [run('payload')], { offset: { kind: 'ep', n: 0, shift: 0 } }),
        pat(5, [run('load')], { offset: { kind: 'section', index: 0, n: 3, shift: 0 } }),
        pat(6, [run('payload')], { offset: { kind: 'section-entire', index: 0 } }),
        pat(7, [run('payload.')], { offset: { kind: 'section-entire', index: 0 } }),
        pat(8, [run('payload')], { offset: { kind: 'ep', n: 0, shift: 0 } }),
      ],
      data,
      facts,
    );
    assert.deepEqual(
      [0, 1, 2, 3, 4, 5, 6, 7].map((i) => (r.get(i)?.length ?? 0) > 0),
      [true, false, true, true, true, true, true, false],
    );
    // Without executable facts an EP offset cannot apply.
    assert.equal(
      new Matcher(compileMatcher([pat(0, [run('payload')], { offset: { kind: 'ep', n: 0, shift: 0 } })]))
        .scan(data, FACTS)
        .count(0),
      0,
    );
  });

  it('applies nocase, wide, ascii and fullword modifiers', () => {
    const wide = new Uint8Array([...'xx'].map((c) => c.charCodeAt(0)).concat([0x48, 0, 0x69, 0, 0x21, 0]));
    const text = enc.encode('say HELLO, ahello');
    const m = (o: Partial<typeof NO_MODIFIERS>) => ({ ...NO_MODIFIERS, ...o });
    const r1 = check([pat(0, [run('Hi!')], { modifiers: m({ wide: true }) })], wide);
    assert.deepEqual(r1.get(0), [2]);
    const r2 = check(
      [
        pat(0, [run('hello')], { modifiers: m({ nocase: true }) }),
        pat(1, [run('hello')], { modifiers: m({ nocase: true, fullword: true }) }),
        pat(2, [run('hello')], { modifiers: m({ fullword: true }) }),
      ],
      text,
    );
    assert.deepEqual(r2.get(0), [4, 12]);
    assert.deepEqual(r2.get(1), [4]);
    assert.deepEqual(r2.get(2), []);
  });

  it('agrees with the naive matcher on random patterns and data', () => {
    const alphabet = [0x61, 0x62, 0x63, 0x41, 0x00, 0x0a, 0x20];
    const byte = fc.constantFrom(...alphabet);
    const litRun = fc.array(byte, { minLength: 1, maxLength: 4 }).map((b) => ({
      bytes: Uint8Array.from(b),
      mask: new Uint8Array(b.length).fill(0xff),
    }));
    const maskedRun = fc
      .array(fc.tuple(byte, fc.constantFrom(0xff, 0xff, 0xf0, 0x0f, 0x00)), { minLength: 1, maxLength: 4 })
      .map((xs) => ({
        bytes: Uint8Array.from(xs.map(([b, m]) => b & m)),
        mask: Uint8Array.from(xs.map(([, m]) => m)),
      }));
    const node: fc.Arbitrary<PatternNode> = fc.oneof(
      litRun.map((r) => ({ t: 'run' as const, run: r })),
      maskedRun.map((r) => ({ t: 'run' as const, run: r })),
      fc.tuple(fc.nat(3), fc.nat(4), fc.boolean()).map(([a, b, inf]) => ({
        t: 'gap' as const,
        min: a,
        max: inf ? Number.POSITIVE_INFINITY : a + b,
      })),
      fc.array(litRun, { minLength: 1, maxLength: 3 }).map((o) => ({ t: 'alt' as const, options: o, negate: false })),
      fc.array(byte, { minLength: 1, maxLength: 3 }).map((bs) => ({
        t: 'alt' as const,
        options: bs.map((b) => ({ bytes: Uint8Array.of(b), mask: Uint8Array.of(0xff) })),
        negate: true,
      })),
      fc.constantFrom('B', 'L', 'W').map((k) => ({ t: 'anchor' as const, kind: k as 'B' | 'L' | 'W' })),
    );
    const offset: fc.Arbitrary<OffsetSpec> = fc.oneof(
      fc.constant({ kind: 'any' } as const),
      fc.tuple(fc.nat(20), fc.nat(80)).map(([n, shift]) => ({ kind: 'abs' as const, n, shift })),
      fc.tuple(fc.nat(30), fc.nat(10)).map(([n, shift]) => ({ kind: 'eof' as const, n, shift })),
    );
    const mods = fc.record({ nocase: fc.boolean(), wide: fc.boolean(), ascii: fc.boolean(), fullword: fc.boolean() });
    const pattern = fc.tuple(litRun, fc.array(node, { maxLength: 5 }), offset, mods);
    let matched = 0;
    fc.assert(
      fc.property(
        fc.array(pattern, { minLength: 1, maxLength: 6 }),
        fc.uint8Array({ minLength: 20, maxLength: 120 }),
        fc.nat(),
        (ps, noise, seed) => {
          const patterns = ps.map(([head, rest, o, md], id) =>
            pat(id, [{ t: 'run', run: head }, ...rest], { offset: o, modifiers: md }),
          );
          // Plant an instance of one pattern so that most runs have something to find.
          const planted = instance(patterns[seed % patterns.length] as MatcherPattern, seed, alphabet);
          const body = noise.map((b) => alphabet[b % alphabet.length] as number);
          const at = seed % (body.length + 1);
          const data = Uint8Array.from([...body.subarray(0, at), ...planted, ...body.subarray(at)]);
          for (const [, offs] of check(patterns, data)) if (offs.length > 0) matched++;
        },
      ),
      { numRuns: 400 },
    );
    // The property is only as good as the matches it sees.
    assert.ok(matched > 120, `only ${matched} matches in 400 runs`);
  });
});

/** Bytes that one variant of `p` matches (gaps filled, alternatives chosen, case and width applied). */
function instance(p: MatcherPattern, seed: number, alphabet: readonly number[]): number[] {
  let r = seed;
  const next = () => {
    r = (Math.imul(r, 1103515245) + 12345) >>> 0;
    return r >>> 8;
  };
  const out: number[] = [];
  const fill = (run: ByteRun) => {
    run.bytes.forEach((b, i) => {
      const m = run.mask[i] as number;
      let v = (b & m) | ((alphabet[next() % alphabet.length] as number) & ~m & 0xff);
      if (p.modifiers.nocase && m === 0xff && v >= 0x61 && v <= 0x7a && next() % 2 === 0) v -= 0x20;
      out.push(v);
    });
  };
  for (const n of p.pattern) {
    if (n.t === 'run') fill(n.run);
    else if (n.t === 'gap') {
      const len = n.min + (next() % (Math.min(n.max, n.min + 3) - n.min + 1));
      for (let i = 0; i < len; i++) out.push(alphabet[next() % alphabet.length] as number);
    } else if (n.t === 'alt' && !n.negate) fill(n.options[next() % n.options.length] as ByteRun);
    else if (n.t === 'alt') out.push(0x7e);
  }
  return p.modifiers.wide && !p.modifiers.ascii ? out.flatMap((b) => [b, 0]) : out;
}
