// Property tests: random, truncated and bit-flipped inputs never throw out of the engine. Signature
// files give diagnostics, files give a verdict, damaged compiled databases give E_DATABASE_FORMAT.
import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import fc from 'fast-check';
import { bytesSource } from './bytesource.js';
import { checkDatabase, compileDatabase, compiledLayout, openDatabase, serializeDatabase } from './database/api.js';
import { isVigilError } from './errors.js';
import { resolveScanOptions } from './scan/options.js';
import { createScanner } from './scan/scanner.js';
import type { Diagnostic } from './signatures/diagnostics.js';
import { parseDatabaseFile } from './signatures/load.js';
import type { SignatureSink } from './signatures/types.js';
import { testEnv } from './test-support/env.js';

const KINDS = [
  'hdb',
  'hsb',
  'mdb',
  'imp',
  'fp',
  'ndb',
  'ldb',
  'ftm',
  'ign2',
  'cdb',
  'crb',
  'pdb',
  'wdb',
  'cfg',
  'cvd',
  'cld',
  'cud',
  'db',
];
const nullSink: SignatureSink = {
  hash() {},
  allow() {},
  body() {},
  logical() {},
  ignore() {},
  fileType() {},
  auxiliary() {},
};

/** Text that looks like signature lines: separators, hex, operators, and junk. */
const lineish = fc
  .array(
    fc.constantFrom(
      ':',
      ';',
      '*',
      '{',
      '}',
      '-',
      '(',
      ')',
      '|',
      '!',
      '[',
      ']',
      '?',
      '/',
      ',',
      '#',
      '4',
      '1',
      'a',
      'EP+',
      'S',
      'Target:',
      '0',
      '\n',
      '\r',
      '\u00ff',
      'CL_TYPE_',
    ),
    { maxLength: 120 },
  )
  .map((xs) => xs.join(''));

test('random signature files never throw out of the parser', () => {
  fc.assert(
    fc.property(fc.constantFrom(...KINDS), fc.oneof(lineish, fc.string({ maxLength: 200 })), (kind, text) => {
      const diagnostics: Diagnostic[] = [];
      parseDatabaseFile({ name: `f.${kind}`, bytes: new TextEncoder().encode(text) }, nullSink, {
        env: testEnv,
        detectPua: true,
        diagnostics,
      });
      for (const d of diagnostics) assert.ok(d.message.length > 0 && d.line >= 0 && d.column >= 0);
    }),
    { numRuns: 3000 },
  );
});

const db = compileDatabase(
  [
    {
      name: 's.ndb',
      bytes: new TextEncoder().encode(
        'A:1:EP+0:4142434445\nB:6:S1+4,100:7f454c46??02\nC:0:EOF-20:4142*43444546\nD:1:SL+0:4d5a{10-}5045\nE:3:*:3c736372697074\nF:7:*:616263646566\n',
      ),
    },
    {
      name: 's.ldb',
      bytes: new TextEncoder().encode(
        'L;Engine:51-255,Target:1,NumberOfSections:1-9;0&1;4d5a;0/MZ.{4}/s\nM;Engine:51-255,Target:0;0&1;41424344;0(>>2#ib2#>10)\n',
      ),
    },
    { name: 's.mdb', bytes: new TextEncoder().encode('512:44d88612fea8a8f36de82e1278abb02f:Sect\n') },
  ],
  testEnv,
  { detectPua: false },
).database;
const scanner = createScanner(db, testEnv);
const options = resolveScanOptions({ allMatch: true });

function seedFiles(): Uint8Array[] {
  const out: Uint8Array[] = [];
  for (const p of ['/usr/share/clamav-testfiles/clam.exe', '/bin/true', '/usr/share/clamav-testfiles/clam.html']) {
    try {
      out.push(new Uint8Array(readFileSync(p)));
    } catch {
      // a seed that is not installed is simply not used
    }
  }
  assert.ok(out.length > 0, 'needs /bin/true at least');
  return out;
}

test('truncated and bit-flipped executables and documents scan to a verdict, never a throw', () => {
  const seeds = seedFiles();
  fc.assert(
    fc.property(
      fc.nat(seeds.length - 1),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat(255)), { maxLength: 8 }),
      (which, cut, flips) => {
        const seed = seeds[which] as Uint8Array;
        const data = seed.slice(0, Math.floor(seed.length * cut));
        for (const [at, v] of flips) if (data.length > 0) data[Math.floor(at * (data.length - 1))] = v;
        const r = scanner.scan(bytesSource(data), options);
        assert.ok(r.verdict === 'clean' || r.verdict === 'infected');
      },
    ),
    { numRuns: 400 },
  );
});

test('random bytes scan to a verdict', () => {
  fc.assert(
    fc.property(fc.uint8Array({ maxLength: 4096 }), (data) => {
      assert.ok(['clean', 'infected'].includes(scanner.scan(bytesSource(data), options).verdict));
    }),
  );
});

test('a damaged compiled database is refused with E_DATABASE_FORMAT, whatever the damage: at opening, or in a hash-table page when it is read', () => {
  const bytes = serializeDatabase(db);
  const paged = compiledLayout(bytes).residentLength;
  fc.assert(
    fc.property(fc.nat(bytes.length - 1), fc.nat(255), fc.boolean(), (at, v, truncate) => {
      const copy = new Uint8Array(new ArrayBuffer(bytes.length));
      copy.set(bytes);
      const damaged = truncate ? copy.subarray(0, at) : copy;
      if (!truncate) {
        if (damaged[at] === v) return;
        damaged[at] = v;
      }
      assert.throws(
        () => checkDatabase(openDatabase(damaged, testEnv)),
        (e) => isVigilError(e, 'E_DATABASE_FORMAT'),
      );
      // Damage in a page passes opening (it reads no page), and is found when the page is read.
      if (!truncate && at >= paged) assert.doesNotThrow(() => openDatabase(damaged, testEnv));
    }),
    { numRuns: 1000 },
  );
});
