// Golden tests per signature format: good lines and what they parse to, bad lines and the exact
// diagnostic (code, line, column, message) they produce. ClamAV's refusals were checked with
// clamscan 1.4 (a line it refuses is refused here, with the same reason).
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { compileDatabase } from '../database/api.js';
import { testEnv } from '../test-support/env.js';
import type { Diagnostic } from './diagnostics.js';
import { parseDatabaseFile } from './load.js';
import type {
  AuxiliaryKind,
  BodySignature,
  FileTypeMagic,
  HashSignature,
  IgnoreRule,
  LogicalSignature,
  SignatureSink,
} from './types.js';

class Collect implements SignatureSink {
  hashes: HashSignature[] = [];
  allows: HashSignature[] = [];
  bodies: BodySignature[] = [];
  logicals: LogicalSignature[] = [];
  ignores: IgnoreRule[] = [];
  types: FileTypeMagic[] = [];
  aux: AuxiliaryKind[] = [];
  pua = 0;
  hash(s: HashSignature, pua: boolean) {
    this.hashes.push(s);
    if (pua) this.pua++;
  }
  allow(s: HashSignature) {
    this.allows.push(s);
  }
  body(s: BodySignature, pua: boolean) {
    this.bodies.push(s);
    if (pua) this.pua++;
  }
  logical(s: LogicalSignature, pua: boolean) {
    this.logicals.push(s);
    if (pua) this.pua++;
  }
  ignore(r: IgnoreRule) {
    this.ignores.push(r);
  }
  fileType(m: FileTypeMagic) {
    this.types.push(m);
  }
  auxiliary(k: AuxiliaryKind) {
    this.aux.push(k);
  }
}

function parse(name: string, text: string, detectPua = false): { sink: Collect; diagnostics: Diagnostic[] } {
  const sink = new Collect();
  const diagnostics: Diagnostic[] = [];
  parseDatabaseFile({ name, bytes: new TextEncoder().encode(text) }, sink, { env: testEnv, detectPua, diagnostics });
  return { sink, diagnostics };
}

/** The one diagnostic of a one-line file, as `code line:column message`. */
function bad(name: string, line: string): string {
  const { diagnostics } = parse(name, `${line}\n`);
  assert.equal(diagnostics.length, 1, `expected one diagnostic for ${line}, got ${JSON.stringify(diagnostics)}`);
  const d = diagnostics[0] as Diagnostic;
  return `${d.code} ${d.line}:${d.column} ${d.message}`;
}

const MD5 = '44d88612fea8a8f36de82e1278abb02f';
const SHA256 = '275a021bbfb6489e54d471899f7db9d1663fc695ec2fe2a2c4538aabf651fd0f';

test('.hdb/.hsb: digest, size or *, name, flevel; comment lines skipped', () => {
  const { sink, diagnostics } = parse(
    'x.hdb',
    `# comment\n# another\n${MD5}:68:Eicar-Test\r\n${SHA256.toUpperCase()}:*:Any.Size:73\n${MD5}0:1:X\n`,
  );
  assert.deepEqual(
    diagnostics.map((d) => d.code),
    ['S002'],
  );
  assert.deepEqual(
    sink.hashes.map((h) => [h.algo, h.digest.slice(0, 8), h.size, h.name, h.flevel?.min, h.source.line]),
    [
      ['md5', '44d88612', 68, 'Eicar-Test', undefined, 3],
      ['sha256', '275a021b', null, 'Any.Size', 73, 4],
    ],
  );
});

test('hash lines: each bad field named, with its column', () => {
  assert.equal(bad('x.hdb', `${MD5}:68`), 'S001 1:0 expected 3 to 5 fields (Hash:Size:Name[:MinFL[:MaxFL]]), found 2');
  assert.equal(
    bad('x.hdb', `${MD5.slice(1)}:68:N`),
    `S002 1:1 hash '${MD5.slice(1)}' has 31 hex digits (MD5 32, SHA1 40, SHA256 64)`,
  );
  assert.equal(bad('x.hdb', `${MD5.slice(1)}z:68:N`), `S002 1:1 hash '${MD5.slice(1)}z' is not hexadecimal`);
  assert.equal(bad('x.hdb', `${MD5}:6x8:N`), "S003 1:34 size must be a decimal number, not '6x8'");
  assert.equal(bad('x.hdb', `${MD5}:68:`), 'S012 1:37 the signature name is empty');
  assert.equal(bad('x.hdb', `${MD5}:68:N:90:80`), 'S007 1:39 functionality level range 90-80 is empty');
});

test('.mdb/.msb/.imp put the size first; .fp/.sfp are allow lists; .hdu only with --detect-pua', () => {
  const mdb = parse('x.mdb', `4096:${MD5}:Sect\n`).sink;
  assert.deepEqual([mdb.hashes[0]?.scope, mdb.hashes[0]?.size], ['section', 4096]);
  assert.equal(parse('x.imp', `512:${MD5}:Imp\n`).sink.hashes[0]?.scope, 'import');
  assert.equal(parse('x.fp', `${MD5}:68:Allowed\n`).sink.allows.length, 1);
  assert.equal(parse('x.hdu', `${MD5}:68:Pua\n`).sink.hashes.length, 0);
  assert.equal(parse('x.hdu', `${MD5}:68:Pua\n`, true).sink.pua, 1);
  assert.equal(bad('x.mdb', `${MD5}:4096:Sect`), "S002 1:34 hash '4096' has 4 hex digits (MD5 32, SHA1 40, SHA256 64)");
});

test('.ndb: every offset form and hex feature parses', () => {
  const lines = [
    'A:0:*:414243',
    'B:1:EP+10,20:4142??4344{2}4546*4748{-3}4950{4-}5152{5-6}5354',
    'C:1:EP-4:4142(43|4445|)46',
    'D:6:S2+8:4142!(43|44)45',
    'E:1:SE1:4142(B)4344(L)(W)',
    'F:0:EOF-100:4142[1-2]43',
    'G:1:SL+0:a?4142?b',
    'H:0:100,50:414243:51:255',
    'I:7:VI:414243',
  ];
  const { sink, diagnostics } = parse('x.ndb', `${lines.join('\n')}\n`);
  assert.deepEqual(diagnostics, []);
  assert.deepEqual(
    sink.bodies.map((b) => [b.name, b.target, b.offset]),
    [
      ['A', 0, { kind: 'any' }],
      ['B', 1, { kind: 'ep', n: 10, shift: 20 }],
      ['C', 1, { kind: 'ep', n: -4, shift: 0 }],
      ['D', 6, { kind: 'section', index: 2, n: 8, shift: 0 }],
      ['E', 1, { kind: 'section-entire', index: 1 }],
      ['F', 0, { kind: 'eof', n: 100, shift: 0 }],
      ['G', 1, { kind: 'last-section', n: 0, shift: 0 }],
      ['H', 0, { kind: 'abs', n: 100, shift: 50 }],
      ['I', 7, { kind: 'version-info' }],
    ],
  );
  const b = sink.bodies[1] as BodySignature;
  assert.deepEqual(
    b.pattern.map((n) => (n.t === 'gap' ? `gap${n.min}-${n.max}` : n.t)),
    ['run', 'gap2-2', 'run', 'gap0-Infinity', 'run', 'gap0-3', 'run', 'gap4-Infinity', 'run', 'gap5-6', 'run'],
  );
  const g = (sink.bodies[6] as BodySignature).pattern[0];
  assert.deepEqual(g?.t === 'run' ? [...g.run.mask] : [], [0xf0, 0xff, 0xff, 0x0f]);
  const alt = (sink.bodies[2] as BodySignature).pattern[1];
  assert.deepEqual(alt?.t === 'alt' ? alt.options.map((o) => o.bytes.length) : [], [1, 2, 0]);
});

test('.ndb: bad lines, and the patterns ClamAV refuses, with ClamAV reasons', () => {
  assert.equal(
    bad('x.ndb', 'A:0:*'),
    'S001 1:0 expected 4 to 6 fields (Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]), found 3',
  );
  assert.equal(bad('x.ndb', 'A:15:*:414243'), 'S006 1:3 target type 15 is not one of 0-14');
  assert.equal(
    bad('x.ndb', 'A:0:EP+x:414243'),
    "S005 1:8 offset 'x' is not a decimal number (offsets: *, n, EOF-n, EP+n, EP-n, Sx+n, SEx, SL+n (with an optional ,MaxShift))",
  );
  assert.equal(bad('x.ndb', 'A:0:*:41424g'), "S004 1:11 '4g' is not a hex byte, wildcard or operator");
  assert.equal(bad('x.ndb', 'A:0:*:4142{3-1}43'), 'S004 1:11 gap {3-1}: the maximum is below the minimum');
  assert.equal(bad('x.ndb', 'A:0:*:4142(4344'), "S004 1:11 '(' without a closing ')'");
  assert.equal(bad('x.ndb', 'A:0:*:4142'), 'S015 1:7 the pattern is too short (2 bytes; ClamAV needs at least 3)');
  assert.equal(bad('x.ndb', 'A:0:*:4142*43'), 'S015 1:7 part 2 of the pattern is shorter than 2 bytes');
  assert.equal(
    bad('x.ndb', 'A:0:*:41??4243'.replace('4243', '42')),
    'S015 1:7 part 1 of the pattern has no 2 consecutive literal bytes',
  );
  assert.equal(bad('x.ndb', 'A:0:*:*414243'), "S015 1:7 part 1 of the pattern (between '*' or gap ranges) is empty");
  assert.equal(
    bad('x.ndb', 'A:0:*:4142!(4141|42)43'),
    "S015 1:11 negation '!(...)' needs options of one length without wildcards",
  );
  assert.equal(bad('x.ndb', 'A:0:*:4142[1-2]4344'), 'S015 1:11 [x-y] needs one literal byte on one side and y <= 32');
  assert.equal(bad('x.ndb', 'A:0:SE1,4:414243'), 'S005 1:8 SEx takes no MaxShift');
});

test('.ldb: target description, expressions with counts, modifiers, PCRE and byte compare', () => {
  const line =
    'Sig.L;Engine:81-255,Target:1,FileSize:100-2000,EntryPoint:0-512,NumberOfSections:3,Container:CL_TYPE_ZIP;' +
    '(0&1)|2=3,2|(3>1&4<5)|5;41424344::iw;EP+0:4142??43;4445{2}4647::fa;0/ab+c/si;5(>>4#he2#>512,<1000);6162636465';
  const { sink, diagnostics } = parse('x.ldb', `${line}\n`);
  assert.deepEqual(diagnostics, []);
  const l = sink.logicals[0] as LogicalSignature;
  assert.deepEqual(l.tdb, {
    engine: { min: 81, max: 255 },
    target: 1,
    fileSize: { min: 100, max: 2000 },
    entryPoint: { min: 0, max: 512 },
    numberOfSections: { min: 3, max: 3 },
    container: 'CL_TYPE_ZIP',
  });
  assert.deepEqual(
    l.subsigs.map((s) => s.kind),
    ['pattern', 'pattern', 'pattern', 'pcre', 'bytecompare', 'pattern'],
  );
  const s0 = l.subsigs[0];
  assert.deepEqual(s0?.kind === 'pattern' ? s0.modifiers : undefined, {
    nocase: true,
    wide: true,
    ascii: false,
    fullword: false,
  });
  const pcre = l.subsigs[3];
  assert.deepEqual(pcre?.kind === 'pcre' ? [pcre.regex, pcre.flags, pcre.trigger] : [], [
    'ab+c',
    'si',
    { op: 'sub', index: 0 },
  ]);
  const bc = l.subsigs[4];
  assert.deepEqual(bc?.kind === 'bytecompare' ? bc.compare : undefined, {
    subsig: 5,
    offset: 4,
    base: 'hex',
    endian: 'big',
    exact: true,
    length: 2,
    comparisons: [
      { op: '>', value: 512 },
      { op: '<', value: 1000 },
    ],
  });
  // `a|b|c` and `x=3,2` as ClamAV reads them: split at the first operator.
  assert.equal(l.expr.op, 'or');
});

test('.ldb: bad lines with their diagnostics', () => {
  assert.equal(
    bad('x.ldb', 'S;Target:0;0'),
    'S001 1:0 expected Name;TargetDescription;Expression;Subsig0[;Subsig1...], found 3 fields',
  );
  assert.equal(bad('x.ldb', 'S;Engine:51-255;0;414243'), 'S008 1:3 the target description block needs a Target');
  assert.equal(bad('x.ldb', 'S;Target:0,Colour:3;0;414243'), "S008 1:12 unknown target description key 'Colour'");
  assert.equal(
    bad('x.ldb', 'S;Target:0;0&2;414243;444546'),
    'S009 1:14 subsignature 2 does not exist (the line has 2)',
  );
  assert.equal(
    bad('x.ldb', 'S;Target:0;0;414243;444546'),
    "S009 1:12 the expression uses 1 of the line's 2 subsignatures (ClamAV needs all)",
  );
  assert.equal(bad('x.ldb', 'S;Target:0;(0&1;414243;444546'), "S009 1:16 expected ')'");
  assert.equal(bad('x.ldb', 'S;Target:0;0;414243::q'), "S010 1:14 bad modifiers in '414243::q' (i, w, a, f)");
  assert.equal(
    bad('x.ldb', 'S;Target:0;0&1;414243;0/abc/z'),
    "S010 1:29 unknown PCRE flag in 'z' (i s m x A E U g r e)",
  );
  assert.equal(
    bad('x.ldb', 'S;Target:0;0&1;414243;0(>>4#q2#>5)'),
    "S010 1:23 unknown byte compare option 'q' (h d a i l b e)",
  );
  assert.equal(bad('x.ldb', 'S;Target:0;0;41'), 'S015 1:14 part 1 of the pattern is shorter than 2 bytes');
});

test('.ftm, .ign/.ign2 and the auxiliary formats', () => {
  const ftm = parse(
    'x.ftm',
    '0:0:4d5a:EXE:CL_TYPE_ANY:CL_TYPE_MSEXE\n1:*:3c68746d6c:HTML:CL_TYPE_ANY:CL_TYPE_HTML:30\n',
  ).sink;
  assert.deepEqual(
    ftm.types.map((t) => [t.magicType, t.offset, t.detectedType]),
    [
      [0, 0, 'CL_TYPE_MSEXE'],
      [1, '*', 'CL_TYPE_HTML'],
    ],
  );
  assert.equal(bad('x.ftm', '2:0:4d5a:EXE:CL_TYPE_ANY:CL_TYPE_MSEXE'), 'S011 1:1 magic type 2 is not 0, 1 or 4');
  assert.equal(
    bad('x.ftm', '0:0:4d5a:EXE:ANY:CL_TYPE_MSEXE'),
    "S011 1:14 required type must be a CL_TYPE_ name, not 'ANY'",
  );
  const ign = parse('x.ign2', `Eicar-Test\nOther:${MD5}\n`).sink;
  assert.deepEqual(
    ign.ignores.map((r) => [r.name, r.md5]),
    [
      ['Eicar-Test', undefined],
      ['Other', MD5],
    ],
  );
  assert.equal(parse('x.ign', 'daily.ndb:12:Old.Name\n').sink.ignores[0]?.name, 'Old.Name');
  const ok = [
    ['x.cdb', 'Name:CL_TYPE_ZIP:*:.*\\.exe:*:*:*:*:*:*'],
    ['x.crb', 'Trusted.Cert;1;;;;;1;0;0;;comment'],
    ['x.idb', 'Icon:G1:G2:0123456789abcdef'],
    ['x.pdb', 'H:amazon.com'],
    ['x.wdb', 'X:.+\\.example\\.com:.+\\.example\\.org:17-'],
    ['x.gdb', 'S:P:0123456789abcdef'],
    ['x.cfg', 'DOCUMENT:0x3:17:'],
    ['x.pwdb', 'Pw;Engine:81-255,Container:CL_TYPE_ZIP;0;infected'],
  ];
  for (const [name, line] of ok)
    assert.deepEqual(parse(name as string, `${line}\n`).diagnostics, [], `${name}: ${line}`);
  assert.equal(
    bad('x.pdb', 'Q:amazon.com'),
    "S011 1:1 'Q' does not start a .pdb line (R[Filter]:RealURL:DisplayedURL[:FLevel] or H[Filter]:DisplayedHostname[:FLevel])",
  );
  assert.equal(bad('x.cfg', 'DOCUMENT:3'), 'S011 1:10 the flags of a .cfg line must be hexadecimal (0x...)');
});

test('bytecode and YARA files are counted with a warning that they do not run; an unknown kind is an error', () => {
  const cbc = parse('x.cbc', 'ClamBC...');
  assert.deepEqual([cbc.sink.aux, cbc.diagnostics.map((d) => d.code)], [['cbc'], ['W001']]);
  const yar = parse('x.yar', 'rule a { condition: true }\nprivate rule b { condition: false }\n');
  assert.deepEqual(yar.sink.aux, ['yara', 'yara']);
  assert.equal(parse('x.zzz', 'x').diagnostics[0]?.code, 'S014');
});

test('an empty file and an empty line are refused where ClamAV refuses them', () => {
  assert.deepEqual(
    parse('x.ndb', '').diagnostics.map((d) => `${d.code} ${d.line} ${d.message}`),
    ['S016 0 the database file is empty'],
  );
  assert.deepEqual(
    parse('x.hdb', `${MD5}:68:A\n\n`).diagnostics.map((d) => `${d.code} ${d.line} ${d.message}`),
    ['S016 2 empty line'],
  );
  assert.deepEqual(parse('x.ign2', '').diagnostics, [], '.ign2 may be empty');
  assert.deepEqual(parse('x.ndb', '# only a comment\n').diagnostics, [], 'a comment is not emptiness');
});

test('a bad line does not stop the lines after it', () => {
  const { sink, diagnostics } = parse('x.ndb', 'A:0:*:414243\nB:0:*:zz\nC:0:*:444546\n');
  assert.deepEqual(
    sink.bodies.map((b) => b.name),
    ['A', 'C'],
  );
  assert.deepEqual(
    diagnostics.map((d) => [d.file, d.line]),
    [['x.ndb', 2]],
  );
});

test('a PCRE that JavaScript cannot run loads with a warning naming it, not silently', () => {
  const { diagnostics } = compileDatabase(
    [{ name: 'p.ldb', bytes: new TextEncoder().encode('P;Engine:81-255,Target:0;0&1;414243;0/a++b/\n') }],
    testEnv,
    { detectPua: false },
  );
  assert.deepEqual(
    diagnostics.map((d) => `${d.severity} ${d.code} ${d.file}:${d.line} ${d.message}`),
    [
      'warning W001 p.ldb:1 P: subsignature 1 (PCRE /a++b/) cannot run as a JavaScript regular expression; it never matches',
    ],
  );
});

test('lines for another engine level are skipped before parsing (new syntax is not an error), and counted', () => {
  const file = (name: string, line: string) => ({ name, bytes: new TextEncoder().encode(`${line}\n`) });
  const { database, diagnostics } = compileDatabase(
    [
      file('x.ldb', `New;Engine:300-400,Target:0,FutureKey:1;0;${'$'}{futuresyntax}`),
      file('x.ndb', 'Old.Body:0:*:4142zz:1:100\nOk:0:*:414243'),
      file('x.hdb', `${MD5}:68:Future.Hash:250`),
    ],
    testEnv,
    { detectPua: false },
  );
  assert.deepEqual(diagnostics, []);
  assert.equal(database.info.counts.skippedByFlevel, 3);
  assert.equal(database.info.counts.ndb, 1);
});

test('a macro subsignature loads, never matches, and is reported', () => {
  const { diagnostics } = compileDatabase(
    [{ name: 'm.ldb', bytes: new TextEncoder().encode(`M;Engine:51-255,Target:0;0&1;414243;${'$'}{6-7}0$\n`) }],
    testEnv,
    { detectPua: false },
  );
  assert.deepEqual(
    diagnostics.map((d) => d.message),
    ['M: subsignature 1 is a macro subsignature, which is not supported; it never matches'],
  );
});
