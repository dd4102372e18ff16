// The container pipeline: each format's members are found and scanned with their path, and
// hostile containers end within their limits with a report, never a throw.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { test } from 'node:test';
import { deflateRawSync, deflateSync, gzipSync } from 'node:zlib';
import fc from 'fast-check';
import { bytesSource } from '../bytesource.js';
import { compileDatabase } from '../database/api.js';
import { resolveScanOptions, type ScanOptions } from '../scan/options.js';
import { createScanner } from '../scan/scanner.js';
import type { ScanResult } from '../scan/types.js';
import { concat, cpioNewc, gzipNested, ole2, tar, tarHeader, zip } from '../test-support/archives.js';
import { testEnv } from '../test-support/env.js';
import { bunzip2 } from './bzip2/decode.js';
import { inflate64 } from './zip/inflate64.js';

const te = new TextEncoder();
/** The "malware": 700 bytes no format recognises, found by its MD5. */
const PAYLOAD = Uint8Array.from({ length: 700 }, (_, i) => (i * 7 + 3) & 0xff);
const md5 = createHash('md5').update(PAYLOAD).digest('hex');
const { database } = compileDatabase(
  [{ name: 't.hdb', bytes: te.encode(`${md5}:${PAYLOAD.length}:Test.Payload\n`) }],
  testEnv,
  { detectPua: false },
);
const scanner = createScanner(database, testEnv);

function scan(data: Uint8Array, options: Partial<ScanOptions> = {}, name = 'input'): ScanResult {
  return scanner.scan(bytesSource(data), resolveScanOptions(options), name);
}
/** Where the payload was found, as `a//b` paths. */
const found = (r: ScanResult) => r.detections.map((d) => d.path.join('//'));
const limits = (r: ScanResult) => r.limitsHit.map((l) => l.limit);

test('zip: stored and deflated members are scanned under their names; --scan-archive=no leaves them', () => {
  const z = zip([
    { name: 'readme.txt', data: te.encode('hello there\n'), method: 0 },
    { name: 'dir/evil.bin', data: PAYLOAD, method: 8 },
  ]);
  assert.deepEqual(found(scan(z)), ['dir/evil.bin']);
  assert.deepEqual(found(scan(z, { scanArchive: false })), []);
  const stored = zip([{ name: 'evil', data: PAYLOAD, method: 0 }]);
  assert.deepEqual(found(scan(stored)), ['evil']);
});

test('zip without its central directory: members are found by their local headers', () => {
  const z = zip([{ name: 'evil', data: PAYLOAD }]);
  const centralSize = 46 + 'evil'.length + 22;
  const local = z.subarray(0, z.length - centralSize);
  const r = scan(local);
  assert.deepEqual(found(r), ['evil']);
});

test('zip: an encrypted member is reported, and alerted with --alert-encrypted', () => {
  const z = zip([{ name: 'secret', data: PAYLOAD, flags: 1 }]);
  const r = scan(z);
  assert.equal(r.verdict, 'clean');
  assert.match(r.warnings.join('\n'), /secret: encrypted/);
  assert.deepEqual(
    scan(z, { alertEncrypted: true }).detections.map((d) => d.name),
    ['Heuristics.Encrypted.Zip'],
  );
});

test('zip bomb by overlapping entries: the shared data is read once, the overlap reported', () => {
  const entries = [
    { name: 'a', data: new Uint8Array(1 << 20) },
    ...Array.from({ length: 50 }, (_, i) => ({ name: `x${i}`, data: new Uint8Array(1 << 20), sameDataAs: 0 })),
  ];
  const r = scan(zip(entries));
  assert.equal(r.bytesScanned, zip(entries).length + (1 << 20), 'one member of 1 MiB scanned');
  assert.match(r.warnings.join('\n'), /overlaps another member/);
});

test('zip bomb by nesting (42.zip style): scanning stops at MaxScanSize with a report, memory bounded by it', () => {
  let layer = zip(Array.from({ length: 16 }, (_, i) => ({ name: `${i}.bin`, data: new Uint8Array(4 << 20) })));
  for (let depth = 0; depth < 3; depth++) {
    layer = zip(Array.from({ length: 16 }, (_, i) => ({ name: `${depth}-${i}.zip`, data: layer })));
  }
  assert.ok(layer.length < 1 << 20, `the bomb is small (${layer.length} bytes) and unpacks to 4 GiB`);
  const maxScanSize = 64 << 20;
  const before = process.memoryUsage().rss;
  const r = scan(layer, { maxScanSize });
  const grew = process.memoryUsage().rss - before;
  assert.ok(r.bytesScanned <= maxScanSize, `scanned ${r.bytesScanned} bytes`);
  assert.ok(limits(r).includes('MaxScanSize'), `limits: ${limits(r)}`);
  assert.ok(grew < 4 * maxScanSize, `RSS grew by ${grew} bytes`);
  assert.deepEqual(
    scan(layer, { maxScanSize, alertExceedsMax: true }).detections[0]?.name,
    'Heuristics.Limits.Exceeded.MaxScanSize',
  );
});

test('a member that claims 4 GiB is not extracted: MaxFileSize is reported for it', () => {
  const z = zip([{ name: 'huge', data: PAYLOAD, claimedSize: 0xfffffffe }]);
  const r = scan(z);
  assert.deepEqual(
    r.limitsHit.map((l) => [l.limit, l.path.join('//')]),
    [['MaxFileSize', 'huge']],
  );
  const t = concat(tarHeader('huge', 2 ** 32), PAYLOAD);
  assert.deepEqual(limits(scan(t)), ['MaxFileSize']);
});

test('nesting deeper than MaxRecursion: the payload below the limit is not reached, and the limit is reported', () => {
  const deep = gzipNested(PAYLOAD, 20);
  const r = scan(deep, {}, 'deep.gz');
  assert.deepEqual(found(r), []);
  assert.deepEqual(limits(r), ['MaxRecursion']);
  assert.equal(found(scan(deep, { maxRecursion: 20 })).length, 1);
});

test('tar with 100,000 entries: MaxFiles stops it, with a report', () => {
  const one = tarHeader('e', 0);
  const many = new Uint8Array(100_000 * 512 + 1024);
  for (let i = 0; i < 100_000; i++) many.set(one, i * 512);
  const r = scan(many);
  assert.deepEqual(limits(r), ['MaxFiles']);
  assert.equal(limits(scan(many, { maxFiles: 200_000 })).length, 0);
});

test('tar: ustar, V7, GNU long names and pax paths name their members', () => {
  const longName = `${'d/'.repeat(70)}evil`;
  const pax = te.encode(`${`path=${longName}\n`.length + 4} path=${longName}\n`);
  const t = tar([
    { name: 'ok.txt', data: te.encode('fine\n') },
    { name: 'v7.bin', data: PAYLOAD, ustar: false },
    { name: '././@LongLink', data: te.encode(`${longName}\0`), type: 'L' },
    { name: 'cut', data: PAYLOAD },
    { name: 'PaxHeaders/x', data: pax, type: 'x' },
    { name: 'short', data: PAYLOAD },
  ]);
  assert.deepEqual(found(scan(t, { allMatch: true })), ['v7.bin', longName]);
  const v7 = tar([{ name: 'v7.bin', data: PAYLOAD, ustar: false }]);
  assert.equal(scan(v7).fileType, 'CL_TYPE_OLD_TAR');
});

test('tar.gz and cpio: members are found through every layer', () => {
  const tgz = new Uint8Array(gzipSync(tar([{ name: 'a/evil', data: PAYLOAD }])));
  assert.deepEqual(found(scan(tgz, {}, 'x.tgz')), ['x.tar//a/evil']);
  assert.deepEqual(found(scan(cpioNewc([{ name: 'evil', data: PAYLOAD }]))), ['evil']);
});

test('bzip2: the decoder matches the bzip2 tool, and stops at its output limit', () => {
  const text = te.encode('abcabcabd'.repeat(50_000) + 'x'.repeat(3000));
  const input = concat(text, PAYLOAD, new Uint8Array(300_000));
  const packed = new Uint8Array(execFileSync('bzip2', ['-c'], { input }));
  const out = bunzip2(packed, 1 << 30);
  assert.equal(out.status, 'ok');
  assert.deepEqual(Buffer.from(out.data), Buffer.from(input));
  assert.equal(bunzip2(packed, 1000).status, 'over-limit');
  assert.equal(bunzip2(packed.subarray(0, 100), 1 << 30).status, 'corrupt');
  assert.deepEqual(found(scan(new Uint8Array(execFileSync('bzip2', ['-c'], { input: PAYLOAD })), {}, 'p.bz2')), ['p']);
});

/** `data` uuencoded, as uuencode(1) writes it. */
function uuencode(data: Uint8Array, name: string): string {
  const c = (v: number) => String.fromCharCode(v === 0 ? 96 : v + 32);
  const lines = [`begin 644 ${name}`];
  for (let i = 0; i < data.length; i += 45) {
    const chunk = data.subarray(i, i + 45);
    let line = c(chunk.length);
    for (let k = 0; k < chunk.length; k += 3) {
      const [a = 0, b = 0, d = 0] = chunk.subarray(k, k + 3);
      line += c(a >> 2) + c(((a << 4) | (b >> 4)) & 63) + c(((b << 2) | (d >> 6)) & 63) + c(d & 63);
    }
    lines.push(line);
  }
  return [...lines, '`', 'end'].join('\n');
}

test('deflate64: members 7-Zip writes decode to the same bytes; damage and the limit are reported', () => {
  const dir = mkdtempSync(join(tmpdir(), 'vigil-d64-'));
  try {
    const text = te.encode('deflate64 reaches 64 KiB back; '.repeat(4000));
    const input = concat(text, PAYLOAD, new Uint8Array(70_000), text); // long runs use length code 285
    writeFileSync(join(dir, 'm.bin'), input);
    writeFileSync(join(dir, 'p.bin'), PAYLOAD);
    const files = [join(dir, 'm.bin'), join(dir, 'p.bin')];
    execFileSync('7z', ['a', '-tzip', '-mm=Deflate64', join(dir, 'a.zip'), ...files], { stdio: 'ignore' });
    const z = new Uint8Array(readFileSync(join(dir, 'a.zip')));
    assert.equal(z[8], 9, 'method 9 (Deflate64)');
    assert.deepEqual(found(scan(z)), ['p.bin']);
    const start = 30 + 'm.bin'.length + ((z[28] ?? 0) | ((z[29] ?? 0) << 8));
    const packed = z.subarray(start, start + ((z[18] ?? 0) | ((z[19] ?? 0) << 8) | ((z[20] ?? 0) << 16)));
    const out = inflate64(packed, 1 << 30);
    assert.equal(out.status, 'ok');
    assert.deepEqual(Buffer.from(out.data), Buffer.from(input));
    assert.equal(inflate64(packed, 1000).status, 'over-limit');
    assert.equal(inflate64(packed.subarray(0, 50), 1 << 30).status, 'corrupt');
  } finally {
    rmSync(dir, { recursive: true, force: true });
  }
});

test('xz: LZMA2 streams the xz tool writes decode to the same bytes; damage and the limit are reported', () => {
  const text = te.encode('an LZMA model of this line; '.repeat(20_000));
  const input = concat(
    text,
    PAYLOAD,
    new Uint8Array(300_000),
    Uint8Array.from({ length: 50_000 }, (_, i) => (i * i) & 0xff),
  );
  const packed = new Uint8Array(execFileSync('xz', ['-c', '-6'], { input }));
  const member = (r: ScanResult) => r.bytesScanned - packed.length;
  assert.equal(member(scan(packed, {}, 'm.xz')), input.length, 'the whole stream decoded');
  assert.deepEqual(found(scan(new Uint8Array(execFileSync('xz', ['-c'], { input: PAYLOAD })), {}, 'p.xz')), ['p']);
  const limited = scan(packed, { maxFileSize: 100_000 }, 'm.xz');
  assert.deepEqual(limits(limited), ['MaxFileSize']);
  const cut = scan(packed.subarray(0, packed.length >> 1), {}, 'm.xz');
  assert.match(cut.warnings.join('\n'), /XZ not fully read: the stream ends early/);
});

test('mail: base64, quoted-printable and uuencoded attachments, nested multiparts and attached messages', () => {
  const b64 = Buffer.from(PAYLOAD).toString('base64').replace(/.{76}/g, '$&\n');
  const qp = Array.from(PAYLOAD, (b) => `=${b.toString(16).toUpperCase().padStart(2, '0')}`)
    .join('')
    .replace(/.{72}/g, '$&=\n');
  const mail = (body: string, type: string, encoding: string, name: string) =>
    `Content-Type: ${type}; name="${name}"\nContent-Transfer-Encoding: ${encoding}\n\n${body}\n`;
  const inner = `From: a@b\nSubject: inner\nMIME-Version: 1.0\nContent-Type: multipart/mixed; boundary="in"\n\n--in\n${mail(qp, 'application/octet-stream', 'quoted-printable', 'q.bin')}--in--\n`;
  const msg = [
    'From: x@y',
    'To: z@w',
    'Subject: test',
    'MIME-Version: 1.0',
    'Content-Type: multipart/mixed;',
    ' boundary="outer"',
    '',
    '--outer',
    'Content-Type: text/plain',
    '',
    'see attached',
    '--outer',
    mail(b64, 'application/octet-stream', 'base64', 'b.bin'),
    '--outer',
    'Content-Type: message/rfc822',
    '',
    inner,
    '--outer',
    'Content-Type: text/plain',
    '',
    'an old-style attachment follows',
    uuencode(PAYLOAD, 'u.bin'),
    '--outer--',
    '',
  ].join('\n');
  assert.deepEqual(found(scan(te.encode(msg), { allMatch: true })).sort(), ['b.bin', 'q.bin', 'u.bin']);
  assert.deepEqual(found(scan(te.encode(msg), { scanMail: false })), []);
});

test('OLE2: a stream is a member; a looping sector chain is cut and reported, not followed forever', () => {
  assert.deepEqual(found(scan(ole2('Evil', PAYLOAD))), ['Evil']);
  assert.deepEqual(found(scan(ole2('Evil', PAYLOAD), { scanOle2: false })), []);
  const r = scan(ole2('Evil', PAYLOAD, { loop: true }));
  assert.match(r.warnings.join('\n'), /chain loops/);
});

test('PDF: streams decoded through filter chains; an encrypted document reported', () => {
  const pdf = (dict: string, data: Uint8Array) =>
    concat(
      te.encode(`%PDF-1.4\n7 0 obj\n<< /Length ${data.length} ${dict} >>\nstream\n`),
      data,
      te.encode('\nendstream\nendobj\n%%EOF\n'),
    );
  const hexed = te.encode(`${Buffer.from(deflateSync(PAYLOAD)).toString('hex')}>`);
  assert.deepEqual(found(scan(pdf('/Filter [/AHx /FlateDecode]', hexed))), ['obj 7 0']);
  assert.deepEqual(found(scan(pdf('', PAYLOAD), { scanPdf: false })), []);
  const locked = concat(pdf('', PAYLOAD), te.encode('trailer << /Encrypt 9 0 R >>\n'));
  assert.deepEqual(
    scan(locked, { alertEncrypted: true }).detections.map((d) => d.name),
    ['Heuristics.Encrypted.PDF'],
  );
});

test('HTML: a data: URI is decoded and scanned', () => {
  const html = `<html><body><a href="data:application/octet-stream;base64,${Buffer.from(PAYLOAD).toString('base64')}">x</a></body></html>`;
  assert.deepEqual(found(scan(te.encode(html))), ['data-uri-1']);
  assert.deepEqual(found(scan(te.encode(html), { scanHtml: false })), []);
  assert.deepEqual(found(scan(te.encode(html), { scanMail: false })), [], 'as ClamAV, which decodes them as mail');
});

test('the allow list (.fp) on a member clears what was found in it', () => {
  const fp = compileDatabase(
    [
      { name: 't.hdb', bytes: te.encode(`${md5}:${PAYLOAD.length}:Test.Payload\n`) },
      { name: 't.fp', bytes: te.encode(`${md5}:${PAYLOAD.length}:Known.Good\n`) },
    ],
    testEnv,
    { detectPua: false },
  ).database;
  const r = createScanner(fp, testEnv).scan(bytesSource(zip([{ name: 'evil', data: PAYLOAD }])), resolveScanOptions());
  assert.equal(r.verdict, 'clean');
});

/** Good containers of every kind, for the fuzzer, plus ClamAV's test files where installed. */
function samples(): Uint8Array[] {
  const own = [
    zip([
      { name: 'a', data: PAYLOAD },
      { name: 'b', data: PAYLOAD, method: 0 },
    ]),
    tar([{ name: 'evil', data: PAYLOAD }]),
    new Uint8Array(gzipSync(tar([{ name: 'evil', data: PAYLOAD }]))),
    cpioNewc([{ name: 'evil', data: PAYLOAD }]),
    new Uint8Array(deflateRawSync(PAYLOAD)),
  ];
  const dir = '/usr/share/clamav-testfiles';
  const theirs = existsSync(dir) ? readdirSync(dir).map((f) => new Uint8Array(readFileSync(join(dir, f)))) : [];
  return [...own, ...theirs.filter((b) => b.length < 64 * 1024)];
}

test('truncated and bit-flipped containers never throw out of the scanner', () => {
  const inputs = samples();
  fc.assert(
    fc.property(
      fc.nat({ max: inputs.length - 1 }),
      fc.double({ min: 0, max: 1, noNaN: true }),
      fc.array(fc.tuple(fc.double({ min: 0, max: 1, noNaN: true }), fc.nat({ max: 7 })), { maxLength: 8 }),
      (which, cut, flips) => {
        const orig = inputs[which] as Uint8Array;
        const bytes = orig.slice(0, Math.max(1, Math.floor(orig.length * cut)));
        for (const [at, bit] of flips) {
          const i = Math.floor(at * bytes.length);
          bytes[i] = (bytes[i] as number) ^ (1 << bit);
        }
        const r = scan(bytes, { allMatch: true, maxScanSize: 32 << 20 });
        assert.ok(r.verdict === 'clean' || r.verdict === 'infected');
      },
    ),
    { numRuns: 400, seed: 42 },
  );
});
