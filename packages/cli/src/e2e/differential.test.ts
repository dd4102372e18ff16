// Differential test: vigil and the real clamscan scan the same reduced corpus with the same generated
// database (../shared/bench: gen-clamav-db.mjs at a small scale) and must report the same set of
// (file, signature) lines. Containers are the subject of a later stage, so both run without
// unpacking archives, mail and documents; everything else (hashes, body and logical signatures,
// HTML and text normalisation, PE and ELF offsets) is compared as is.
import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import {
  copyFileSync,
  existsSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  statSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { after, before, test } from 'node:test';
import { isRunDegenerate, patternsByName } from './explain.js';
import { benchKit, CLAMSCAN_NO_CONTAINERS, foundLines, requireClamscan, run, vigilBin } from './peer.js';

let dir = '';
let corpus = '';
let db = '';

/** A small corpus in the shape of the kit's: some shared objects, many small docs, ClamAV's test files. */
function buildCorpus(into: string): void {
  const take = (from: string, to: string, limitBytes: number, limitFiles: number) => {
    const files: string[] = [];
    const walk = (d: string, depth: number) => {
      let entries: string[];
      try {
        entries = readdirSync(d).sort();
      } catch {
        return;
      }
      for (const e of entries) {
        const p = join(d, e);
        const st = statSync(p, { throwIfNoEntry: false });
        if (st?.isDirectory() && depth > 0) walk(p, depth - 1);
        else if (st?.isFile() && !/clamav|yara/.test(p)) files.push(p);
      }
    };
    walk(from, 2);
    let bytes = 0;
    for (const f of files.slice(0, limitFiles)) {
      const size = statSync(f).size;
      if (size > 4 << 20) continue;
      bytes += size;
      if (bytes > limitBytes) break;
      const dest = join(to, f.slice(from.length));
      mkdirSync(dirname(dest), { recursive: true });
      copyFileSync(f, dest);
    }
  };
  take('/usr/lib/x86_64-linux-gnu', join(into, 'lib'), 24 << 20, 400);
  take('/usr/share/doc', join(into, 'doc'), 8 << 20, 1500);
  take('/usr/share/clamav-testfiles', join(into, 'testfiles'), 8 << 20, 100);
}

before(() => {
  requireClamscan();
  dir = mkdtempSync(join(tmpdir(), 'vigil-diff-'));
  corpus = join(dir, 'corpus');
  db = join(dir, 'db');
  buildCorpus(corpus);
  if (existsSync(join(benchKit, 'gen-clamav-db.mjs'))) {
    const gen = run('node', [
      join(benchKit, 'gen-clamav-db.mjs'),
      '--out',
      db,
      '--corpus',
      corpus,
      '--scale',
      '0.02',
      '--seed',
      '7',
    ]);
    assert.equal(gen.status, 0, `gen-clamav-db failed: ${gen.stderr}`);
  } else {
    // Without the benchmark kit beside the checkout (../shared/bench or $SHARED), a database of the
    // same kinds, planted from the corpus by the small generator below.
    console.error(`differential: no benchmark kit at ${benchKit}; using the built-in generator`);
    plantDatabase(corpus, db);
  }
});

/** Deterministic xorshift32, so a run can be repeated. */
function random(seed: number): () => number {
  let x = seed >>> 0 || 1;
  return () => {
    x ^= x << 13;
    x >>>= 0;
    x ^= x >>> 17;
    x ^= x << 5;
    x >>>= 0;
    return x / 2 ** 32;
  };
}

/**
 * Hash, body (with wildcards, gaps and offsets) and logical signatures cut from corpus files, plus
 * random background hashes: what the kit's generator makes, at a small scale.
 */
function plantDatabase(corpusDir: string, out: string): void {
  const rnd = random(7);
  const files: string[] = [];
  const walk = (d: string) => {
    for (const e of readdirSync(d, { withFileTypes: true }).sort((a, b) => (a.name < b.name ? -1 : 1))) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size >= 256) files.push(p);
    }
  };
  walk(corpusDir);
  const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');
  const cut = (b: Uint8Array, len: number) => {
    const at = Math.floor(rnd() * (b.length - len));
    return { at, bytes: b.subarray(at, at + len) };
  };
  const wild = (b: Uint8Array) => {
    const h = hex(b);
    const mid = 2 * Math.floor(b.length / 2);
    return `${h.slice(0, mid - 4)}??${h.slice(mid - 2, mid)}{0-3}${h.slice(mid)}`;
  };
  const lines = { hdb: [] as string[], ndb: [] as string[], ldb: [] as string[] };
  for (let i = 0; i < 2000; i++) {
    lines.hdb.push(`${hex(Uint8Array.from({ length: 16 }, () => Math.floor(rnd() * 256)))}:${1000 + i}:Bg.Hash-${i}`);
  }
  // Each file is planted once: two names for one digest and size leave ClamAV's choice to the order
  // its hash table happens to sort them in (it reports the first or the last loaded, depending on
  // the rest of the table), which no other scanner can be held to.
  const planted = new Set<string>();
  for (let k = 0; k < 60; k++) {
    let f = files[Math.floor(rnd() * files.length)] as string;
    while (planted.has(f)) f = files[Math.floor(rnd() * files.length)] as string;
    planted.add(f);
    const b = new Uint8Array(readFileSync(f));
    if (k % 3 === 0) lines.hdb.push(`${createHash('md5').update(b).digest('hex')}:${b.length}:Planted.Hash-${k}`);
    if (k % 3 === 1) {
      const { at, bytes } = cut(b, 24);
      const off = ['*', String(at), `${Math.max(0, at - 50)},100`, `EOF-${b.length - at}`][k % 4];
      lines.ndb.push(`Planted.Body-${k}:0:${off}:${wild(bytes)}`);
    }
    if (k % 3 === 2) {
      const subs = [0, 1, 2].map(() => hex(cut(b, 16).bytes));
      lines.ldb.push(`Planted.Logical-${k};Engine:51-255,Target:0;(0&1)|2;${subs.join(';')}`);
    }
  }
  mkdirSync(out, { recursive: true });
  for (const [ext, ls] of Object.entries(lines)) writeFileSync(join(out, `planted.${ext}`), `${ls.join('\n')}\n`);
}

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

test('vigil and clamscan report the same (file, signature) set on the reduced corpus', () => {
  const clam = run('clamscan', ['--allmatch', '-r', '--no-summary', '-i', '-d', db, corpus]);
  assert.ok(clam.status === 0 || clam.status === 1, `clamscan failed: ${clam.stderr}`);
  const vig = run(vigilBin, ['scan', '--allmatch', '-r', '--no-summary', '-i', '-d', db, corpus]);
  assert.ok(vig.status === 0 || vig.status === 1, `vigil failed (${vig.status}): ${vig.stderr}`);
  const want = foundLines(clam.stdout);
  const got = foundLines(vig.stdout);
  assert.ok(want.size > 20, `the corpus should hold detections (clamscan found ${want.size})`);
  const missing = [...want].filter((l) => !got.has(l));
  const patterns = patternsByName(db);
  const explained = (line: string) => {
    const name = line.slice(line.lastIndexOf(': ') + 2, -' FOUND'.length);
    return (patterns.get(name) ?? []).some(isRunDegenerate);
  };
  const extra = [...got].filter((l) => !want.has(l) && !explained(l));
  assert.deepEqual(missing, [], `vigil misses ${missing.length} of clamscan's ${want.size} detections`);
  assert.deepEqual(extra, [], `vigil reports ${extra.length} detections clamscan does not`);
});

/** Body and logical signatures cut from ClamAV's test program, for the 44 wrappings of it. */
const TESTFILE_SIGNATURES = {
  'testfiles.ndb': [
    'ClamTest.Body.Any:0:*:4b45524e454c33322e444c4c0000457869745072',
    'ClamTest.Body.PE:1:*:434c414d657373616765426f78',
    'ClamTest.Body.EP:1:EP+0:bb711040',
    'ClamTest.Body.Wild:0:*:5b434c??4d41{1-3}5d0010',
    'ClamTest.Body.Sect:1:S0+0:bb711040',
  ],
  'testfiles.ldb': ['ClamTest.Logical;Engine:51-255,Target:1;0&1;434c414d;4b45524e454c'],
};

test('the explanation of extra detections applies only to split patterns of one repeated byte', () => {
  assert.equal(isRunDegenerate('0000000000{0-6}000000??00000000'), true);
  assert.equal(isRunDegenerate('00000000000000000000'), false, 'not split: ClamAV matches it whole');
  assert.equal(isRunDegenerate('4142434445{0-6}464748494a'), false, 'ordinary bytes');
});

test("ClamAV's test files: the same detections with body and logical signatures (unpacking off on both sides)", () => {
  const sigs = join(dir, 'testfile-sigs');
  mkdirSync(sigs);
  for (const [name, lines] of Object.entries(TESTFILE_SIGNATURES))
    writeFileSync(join(sigs, name), `${lines.join('\n')}\n`);
  const target = '/usr/share/clamav-testfiles';
  // The same command line for both: containers and PE section hashes off.
  const args = ['--allmatch', '-r', '--no-summary', ...CLAMSCAN_NO_CONTAINERS, '--scan-pe=no', '-d', sigs, target];
  const clam = run('clamscan', args);
  const vig = run(vigilBin, ['scan', ...args]);
  assert.ok(clam.status === 1, `clamscan: ${clam.stderr}`);
  assert.equal(vig.status, 1, `vigil: ${vig.stderr}`);
  const want = foundLines(clam.stdout);
  assert.ok(want.size >= 20, `clamscan found ${want.size}`);
  assert.deepEqual([...foundLines(vig.stdout)].sort(), [...want].sort());
});

test('PE section hashes (.mdb, made by sigtool --mdb): vigil finds each file by its own sections and the unpacked ones, as clamscan does', () => {
  const sigs = join(dir, 'mdb-sigs');
  mkdirSync(sigs);
  const files = ['clam.exe', 'clam-upx.exe', 'clam-fsg.exe'].map((f) => join('/usr/share/clamav-testfiles', f));
  const lines: string[] = [];
  for (const f of files) {
    // sigtool prints each section's `size:md5` in its debug output.
    const out = run('sigtool', ['--mdb', f]);
    const sections = [...`${out.stdout}${out.stderr}`.matchAll(/Section\{\d+\}: (\d+:[0-9a-f]{32})/g)].map((m) => m[1]);
    assert.ok(sections.length > 0, `sigtool printed no sections for ${f}`);
    for (const s of sections) lines.push(`${s}:Sect-${f.slice(f.lastIndexOf('/') + 1)}`);
  }
  writeFileSync(join(sigs, 'sections.mdb'), `${lines.join('\n')}\n`);
  const vig = run(vigilBin, ['scan', '--allmatch', '--no-summary', '-i', '-d', sigs, ...files]);
  const clam = run('clamscan', ['--allmatch', '--no-summary', '-i', '-d', sigs, ...files]);
  // Each file by its own sections, and clam.exe's (and clam-fsg.exe's) inside the packed files:
  // both unpack UPX and find the executable appended to what it unpacks to.
  const own = files.map((f) => `${f}: Sect-${f.slice(f.lastIndexOf('/') + 1)}.UNOFFICIAL FOUND`);
  for (const l of own) assert.ok(foundLines(vig.stdout).has(l), `vigil: ${l}`);
  assert.ok(foundLines(vig.stdout).size > own.length, 'sections found inside the packed files');
  assert.deepEqual(foundLines(vig.stdout), foundLines(clam.stdout));
});

test('without --allmatch, each file of the reduced corpus is named by the signature clamscan names it with', () => {
  const clam = run('clamscan', ['-r', '--no-summary', '-i', '-d', db, corpus]);
  const vig = run(vigilBin, ['scan', '-r', '--no-summary', '-i', '-d', db, corpus]);
  assert.ok(clam.status === 0 || clam.status === 1, `clamscan failed: ${clam.stderr}`);
  assert.ok(vig.status === 0 || vig.status === 1, `vigil failed (${vig.status}): ${vig.stderr}`);
  const byFile = (out: string) => new Map([...foundLines(out)].map((l) => [l.slice(0, l.lastIndexOf(': ')), l]));
  const want = byFile(clam.stdout);
  const got = byFile(vig.stdout);
  assert.ok(want.size > 20, `clamscan found ${want.size}`);
  // Where vigil names a file otherwise, it must be by a match ClamAV loses (explained above).
  const patterns = patternsByName(db);
  const explained = (line: string) => {
    const name = line.slice(line.lastIndexOf(': ') + 2, -' FOUND'.length);
    return (patterns.get(name) ?? []).some(isRunDegenerate);
  };
  const files = [...new Set([...want.keys(), ...got.keys()])];
  const differ = files.filter((f) => want.get(f) !== got.get(f) && !explained(got.get(f) ?? ''));
  assert.deepEqual(
    differ.map((f) => ({ clamscan: want.get(f), vigil: got.get(f) })),
    [],
  );
});

/** Deterministic bytes that hold no pattern by chance. */
function noise(seed: number, length: number): Buffer {
  const rnd = random(seed);
  return Buffer.from(Uint8Array.from({ length }, () => Math.floor(rnd() * 256)));
}

test("without --allmatch, the name reported is the one ClamAV's matchers meet first", () => {
  const work = join(dir, 'first-name');
  const files = join(work, 'files');
  mkdirSync(files, { recursive: true });
  const hexAt = (b: Buffer, at: number, len: number) => b.subarray(at, at + len).toString('hex');
  /** An Aho-Corasick pattern: a wildcard byte keeps it from ClamAV's Boyer-Moore matcher. */
  const acAt = (b: Buffer, at: number) => `${hexAt(b, at, 8)}??${hexAt(b, at + 9, 8)}`;
  const ndb: string[] = [];
  const expected = new Map<string, string>();

  // Boyer-Moore before Aho-Corasick in one window, whatever the offsets and the line order.
  const mixed = noise(11, 4096);
  writeFileSync(join(files, 'bm-after-ac.bin'), mixed);
  ndb.push(`First.Ac:0:*:${acAt(mixed, 10)}`, `First.Bm:0:*:${hexAt(mixed, 3000, 16)}`);
  expected.set('bm-after-ac.bin', 'First.Bm');

  // Window by window: a match in the first 128 KiB comes before a Boyer-Moore match past it.
  const big = noise(12, 300_000);
  writeFileSync(join(files, 'windows.bin'), big);
  ndb.push(`Window.Ac:0:*:${acAt(big, 100)}`, `Window.Bm:0:*:${hexAt(big, 250_000, 16)}`);
  expected.set('windows.bin', 'Window.Ac');

  // The file type's signatures before the generic ones.
  const exe = readFileSync('/usr/share/clamav-testfiles/clam.exe');
  writeFileSync(join(files, 'target.exe'), exe);
  ndb.push(`Target.Generic:0:*:${hexAt(exe, 0x40, 16)}`, `Target.Pe:1:*:${acAt(exe, 0x180)}`);
  expected.set('target.exe', 'Target.Pe');

  // Hashes after body signatures, before logical ones.
  const hashed = noise(13, 2048);
  writeFileSync(join(files, 'hash.bin'), hashed);
  const hdb = `${createHash('md5').update(hashed).digest('hex')}:${hashed.length}:Hash.File`;
  const ldb = `Hash.Logical;Engine:51-255,Target:0;0;${hexAt(hashed, 500, 16)}`;
  expected.set('hash.bin', 'Hash.File');

  // A zip's members before the zip's own bytes.
  const member = noise(14, 2048);
  writeFileSync(join(work, 'member-name.bin'), member);
  const zipped = run('zip', ['-0', '-j', '-q', join(files, 'stored.zip'), join(work, 'member-name.bin')]);
  assert.equal(zipped.status, 0, zipped.stderr);
  ndb.push(`Zip.Raw:0:*:${Buffer.from('member-name.bin').toString('hex')}`, `Zip.Member:0:*:${acAt(member, 700)}`);
  expected.set('stored.zip', 'Zip.Member');

  const sigs = join(work, 'sigs');
  mkdirSync(sigs);
  writeFileSync(join(sigs, 'first.ndb'), `${ndb.join('\n')}\n`);
  writeFileSync(join(sigs, 'first.hdb'), `${hdb}\n`);
  writeFileSync(join(sigs, 'first.ldb'), `${ldb}\n`);
  const names = (out: string) =>
    new Map(
      [...foundLines(out)].map((l) => [l.slice(files.length + 1, l.indexOf(': ')), l.slice(l.indexOf(': ') + 2)]),
    );
  const clam = names(run('clamscan', ['-r', '--no-summary', '-d', sigs, files]).stdout);
  const vig = names(run(vigilBin, ['scan', '-r', '--no-summary', '-d', sigs, files]).stdout);
  const want = new Map([...expected].map(([f, n]) => [f, `${n}.UNOFFICIAL FOUND`]));
  assert.deepEqual(clam, want, "clamscan's choices, which this test describes");
  assert.deepEqual(vig, clam);
});

test('text with HTML past its first 1024 bytes is matched raw as well; HTML within them is not', () => {
  const work = join(dir, 'html-late');
  mkdirSync(work, { recursive: true });
  const upper = 'UPPER CASE WORDS THAT HTML NORMALISATION LOWERS\n';
  writeFileSync(join(work, 'late.txt'), `${upper}${'plain text line\n'.repeat(80)}<script>var a = 1;</script>\n`);
  writeFileSync(join(work, 'early.txt'), `<script>var a = 1;</script>\n${upper}${'plain text line\n'.repeat(80)}`);
  const sigs = join(work, 'late.ndb');
  writeFileSync(sigs, `Late.Raw:0:*:${Buffer.from('THAT HTML NORMALISATION').toString('hex')}\n`);
  const args = ['--no-summary', '-d', sigs, join(work, 'late.txt'), join(work, 'early.txt')];
  const clam = foundLines(run('clamscan', args).stdout);
  assert.deepEqual(
    [...clam],
    [`${join(work, 'late.txt')}: Late.Raw.UNOFFICIAL FOUND`],
    'clamscan, as this test describes it',
  );
  assert.deepEqual(foundLines(run(vigilBin, ['scan', ...args]).stdout), clam);
});

test('HTML over MaxHTMLNoTags is matched in its whole normalised form only, as clamscan does', () => {
  const work = join(dir, 'html-notags');
  mkdirSync(work, { recursive: true });
  const head = '<html><body><a href="Page/CAPSLINK.HTML">Hel<b>lo there</b></a>\n';
  writeFileSync(join(work, 'big.html'), head + '<p>filler text line</p>\n'.repeat(400_000));
  const sigs = join(work, 'notags.ndb');
  const hex = (t: string) => Buffer.from(t).toString('hex');
  writeFileSync(sigs, `Link.Caps:0:*:${hex('Page/CAPSLINK')}\nText.Split:0:*:${hex('hel lo there')}\n`);
  for (const extra of [[], ['--max-htmlnotags=20M']]) {
    const args = ['--allmatch', '--no-summary', ...extra, '-d', sigs, join(work, 'big.html')];
    const clam = foundLines(run('clamscan', args).stdout);
    assert.equal(clam.size, extra.length === 0 ? 0 : 2, `clamscan ${extra.join(' ')}, as this test describes it`);
    assert.deepEqual(foundLines(run(vigilBin, ['scan', ...args]).stdout), clam);
  }
});

test("scripts are matched in ClamAV's normalised JavaScript form, as HTML and as text", () => {
  const work = join(dir, 'html-script');
  mkdirSync(work, { recursive: true });
  const files: Record<string, string> = {
    'rename.html':
      '<html><script type="text/javascript">\nvar Foo = \'Hello\' + "World";\n' +
      'function bar(x, y) { var z = x + y; return z * 007 + 1.50 + 0x41; }\n// note this\n</script></html>\n',
    'strings.html': '<p>t</p><SCRIPT>document.write("\\x41\\u0042\\tC", unescape("%64%u0065"));</SCRIPT>\n',
    'two.html': '<script src="a.js"></script>\n<script language="vbscript">Dim A\nA = 1</script>\n',
    'eval.html': '<body><script>eval("var Secret = 1; Secret++;"); f((1, "open\n',
    'plain.html': '<html><body><p>var n000="helloworld";</p></body></html>\n',
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(work, name), text);
  const hex = (t: string) => Buffer.from(t, 'latin1').toString('hex');
  const sigs = join(work, 'script.ndb');
  const probes: [string, number, string][] = [
    ['Js.Rename', 3, '<script>var n000="helloworld";function n001(n002,n003){var n004=n002+n003;'],
    ['Js.Numbers', 3, 'return n004*7+1.5+0 x41;}note this</script>'],
    ['Js.Strings', 3, '<script>document.write("ab c","de");</script>'],
    ['Js.Separator', 3, '<script></script>\n<script>dim a a=1</script>'],
    ['Js.Eval', 3, '<script>var n000=1;n000++;f((1,"open "))</script>'],
    ['Js.AsText', 7, '</script>\n<script>dim a'],
    ['Js.Raw', 0, 'function n001(n002,n003)'],
    ['Js.Original', 3, 'var foo = "hello"'],
  ];
  writeFileSync(sigs, probes.map(([n, t, p]) => `${n}:${t}:*:${hex(p)}\n`).join(''));
  const args = ['--allmatch', '--no-summary', '-d', sigs, ...Object.keys(files).map((f) => join(work, f))];
  const clam = foundLines(run('clamscan', args).stdout);
  const at = (f: string, n: string) => `${join(work, f)}: ${n}.UNOFFICIAL FOUND`;
  const want = [
    at('rename.html', 'Js.Rename'),
    at('rename.html', 'Js.Numbers'),
    at('rename.html', 'Js.Raw'),
    at('strings.html', 'Js.Strings'),
    at('two.html', 'Js.Separator'),
    at('two.html', 'Js.AsText'),
    at('eval.html', 'Js.Eval'),
  ];
  assert.deepEqual([...clam].sort(), want.sort(), 'clamscan, as this test describes it');
  assert.deepEqual(foundLines(run(vigilBin, ['scan', ...args]).stdout), clam);
});
