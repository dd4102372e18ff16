import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import type { Sections } from './format.js';
import { StringTable, StringTableBuilder } from './strings.js';

test('every name reads back as added: shared prefixes, block edges, the .UNOFFICIAL bit, non-ASCII (property)', () => {
  const name = fc.oneof(fc.constantFrom('Win.Trojan.Agent-', 'Unix.Malware.', 'Bench.Hash.Md5-', ''));
  fc.assert(
    fc.property(
      fc.array(fc.tuple(name, fc.string({ unit: 'grapheme', maxLength: 12 }), fc.boolean()), { maxLength: 80 }),
      (entries) => {
        const b = new StringTableBuilder();
        const added = entries.map(([p, s, unofficial]) => `${p}${s}${unofficial ? '.UNOFFICIAL' : ''}`);
        const ids = added.map((s) => b.add(s));
        const t = new StringTable(b.toSections('n') as Sections, 'n');
        ids.forEach((id, i) => {
          assert.equal(t.get(id), added[i]);
        });
      },
    ),
  );
});

test('a name longer than 127 bytes (multi-byte lengths) reads back', () => {
  const b = new StringTableBuilder();
  const long = `Win.${'x'.repeat(300)}.UNOFFICIAL`;
  b.add('Win.a');
  const id = b.add(long);
  assert.equal(new StringTable(b.toSections('n') as Sections, 'n').get(id), long);
});
