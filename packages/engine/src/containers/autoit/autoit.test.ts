// The AutoIt handler on ClamAV's two test executables and on archives built here (with a small
// encoder of the format): members, their bytes, damage and hostile sizes.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { le } from '../../test-support/archives.js';
import { runHandler } from '../../test-support/extract.js';
import { CLAM_EXE_SHA256, md5, sha256, skipWithout, testFile } from '../../test-support/testfiles.js';
import { adler32 } from './archive.js';
import { lameDecrypt, mtDecrypt } from './ciphers.js';
import { autoitHandler } from './index.js';
import { unpack } from './lzss.js';

const MARKER = Uint8Array.from([
  0xa3, 0x48, 0x4b, 0xbe, 0x98, 0x6c, 0x4a, 0xa9, 0x99, 0x4c, 0x53, 0x0a, 0x86, 0xd6, 0x48, 0x7d,
]);
const te = new TextEncoder();
const run = (data: Uint8Array, maxMemberSize = 1 << 24) => runHandler(autoitHandler, data, maxMemberSize);

/** MSB-first writer of 16-bit big-endian words. */
class BitWriter {
  private readonly out: number[] = [];
  private cur = 0;
  private n = 0;
  put(v: number, bits: number): void {
    for (let i = bits - 1; i >= 0; i--) {
      this.cur = (this.cur << 1) | ((v >>> i) & 1);
      if (++this.n === 16) {
        this.out.push(this.cur >>> 8, this.cur & 0xff);
        this.cur = 0;
        this.n = 0;
      }
    }
  }
  bytes(): number[] {
    if (this.n > 0) this.put(0, 16 - this.n);
    return this.out;
  }
}

/** The format's length code for a match of `len` bytes. */
function putLength(w: BitWriter, len: number): void {
  let v = len - 3;
  for (const [width, base] of [
    [2, 0],
    [3, 3],
    [5, 10],
    [8, 41],
  ] as const) {
    const max = (1 << width) - 1;
    if (v - base < max) {
      w.put(v - base, width);
      return;
    }
    w.put(max, width);
  }
  v -= 296;
  for (; v >= 255; v -= 255) w.put(255, 8);
  w.put(v, 8);
}

/** A greedy encoder: "EA0x", the big-endian size, then literals and matches. */
function compress(data: Uint8Array, version: 5 | 6): Uint8Array {
  const literal = version === 5 ? 0 : 1;
  const w = new BitWriter();
  for (let i = 0; i < data.length; ) {
    let best = 0;
    let dist = 0;
    for (let j = Math.max(0, i - 32767); j < i; j++) {
      let k = 0;
      while (i + k < data.length && data[j + k] === data[i + k] && k < 2000) k++;
      if (k > best) [best, dist] = [k, i - j];
    }
    if (best >= 3) {
      w.put(1 - literal, 1);
      w.put(dist, 15);
      putLength(w, best);
      i += best;
    } else {
      w.put(literal, 1);
      w.put(data[i++] ?? 0, 8);
    }
  }
  const n = data.length;
  return Uint8Array.from([
    ...te.encode(`EA0${version}`),
    n >>> 24,
    (n >>> 16) & 0xff,
    (n >>> 8) & 0xff,
    n & 0xff,
    ...w.bytes(),
  ]);
}

const u32 = (v: number) => le(v >>> 0, 4);

interface Entry {
  kind: string;
  path: string;
  data: Uint8Array;
  compress?: boolean;
  /** Replaces the stream's size word (a hostile claim). */
  claim?: number;
}

/** An AutoIt archive as AutoIt writes one, from its marker; `starts` where each entry begins. */
function build(version: 5 | 6, entries: readonly Entry[]): { bytes: Uint8Array; starts: number[] } {
  const starts: number[] = [];
  const six = version === 6;
  const pad = Array.from({ length: 16 }, (_, i) => (i * 37 + 11) & 0xff);
  const out: number[] = [...MARKER, ...te.encode(`AU3!EA0${version}`), ...pad];
  const crypt = (b: Uint8Array, seed: number) => (six ? lameDecrypt(b, seed) : mtDecrypt(b, seed));
  const str = (s: string, seed: number) => {
    const b = six ? Uint8Array.from([...s].flatMap((c) => [c.charCodeAt(0), 0])) : te.encode(s);
    crypt(b, s.length + seed);
    return [...b];
  };
  const dataSeed = six ? 0x2477 : 0x22af + pad.reduce((a, b) => a + b, 0);
  const [tag, kKind, kPath, kSize, kSum] = six
    ? [0x52ca436b, 0xadbc, 0xf820, 0x87bc, 0xa685]
    : [0xceb06dff, 0x29bc, 0x29ac, 0x45aa, 0xc3d2];
  for (const e of entries) {
    starts.push(out.length);
    const packed = e.compress ? compress(e.data, version) : e.data.slice();
    if (e.claim !== undefined)
      packed.set([e.claim >>> 24, (e.claim >>> 16) & 0xff, (e.claim >>> 8) & 0xff, e.claim & 0xff], 4);
    const sum = adler32(packed);
    crypt(packed, dataSeed);
    out.push(...u32(tag), ...u32(e.kind.length ^ kKind), ...str(e.kind, six ? 0xb33f : 0xa25e));
    out.push(...u32(e.path.length ^ kPath), ...str(e.path, six ? 0xf479 : 0xf25e));
    out.push(e.compress ? 1 : 0, ...u32(packed.length ^ kSize), ...u32(e.data.length ^ kSize), ...u32(sum ^ kSum));
    out.push(...new Array(16).fill(7), ...packed);
  }
  starts.push(out.length);
  return { bytes: Uint8Array.from([...out, ...te.encode(`AU3!EA0${version}`)]), starts };
}

const archive = (version: 5 | 6, entries: readonly Entry[]) => build(version, entries).bytes;

const PAYLOAD = Uint8Array.from({ length: 3000 }, (_, i) => (i % 7 === 0 ? i & 0xff : 0x41 + (i % 5)));
const SCRIPT_TEXT = te.encode('MsgBox(0, "hi", "there")\r\n'.repeat(20));
/** An EA06 script: one line, a function ID (MSGBOX) and an end of line, then a spare end. */
const TOKENS = Uint8Array.from([1, 0, 0, 0, 1, ...u32(249), 0x7f, 0x7f]);

function sampleBuilt(version: 5 | 6) {
  return build(version, [
    {
      kind: version === 6 ? '>>>AUTOIT SCRIPT<<<' : '>AUTOIT UNICODE SCRIPT<',
      path: 'C:\\t\\aut1.tmp',
      data: version === 6 ? TOKENS : SCRIPT_TEXT,
      compress: true,
    },
    { kind: 'C:\\payload.bin', path: 'C:\\payload.bin', data: PAYLOAD, compress: true },
    { kind: 'C:\\notes.txt', path: 'C:\\notes.txt', data: te.encode('stored as it is'), compress: false },
  ]);
}
const sample = (version: 5 | 6) => sampleBuilt(version).bytes;

test('LZSS: the encoder here and the decoder agree, for literals, near and far matches, long runs', () => {
  const data = Uint8Array.from([...PAYLOAD, ...new Array(5000).fill(9), ...PAYLOAD.subarray(0, 700)]);
  for (const v of [5, 6] as const) {
    const out = unpack(compress(data, v), data.length, v === 5 ? 0 : 1);
    assert.ok(out.ok);
    assert.deepEqual(out.data, data);
  }
});

test('built EA05 and EA06 archives: every member, named by its path, with its bytes', () => {
  for (const v of [5, 6] as const) {
    const r = run(sample(v));
    assert.deepEqual(r.broken, [], `EA0${v}`);
    assert.deepEqual(
      r.members.map((m) => m.name),
      ['C:\\t\\aut1.tmp', 'C:\\payload.bin', 'C:\\notes.txt'],
    );
    assert.deepEqual(r.members[0]?.data, v === 6 ? te.encode('MSGBOX \n') : SCRIPT_TEXT, 'the script');
    assert.deepEqual(r.members[1]?.data, PAYLOAD);
    assert.equal(new TextDecoder().decode(r.members[2]?.data), 'stored as it is');
  }
});

for (const [file, script] of [
  ['clam.ea05.exe', '144d97bc59d6944c6cf31e3fca78f432'],
  ['clam.ea06.exe', '8903cae272bf36a778c2f361ba282d42'],
] as const) {
  test(`${file}: the script as ClamAV writes it, and clam.exe`, { skip: skipWithout(file) }, () => {
    const d = testFile(file);
    const at = Buffer.from(d).indexOf(Buffer.from(MARKER));
    assert.ok(at > 0);
    const r = run(d.subarray(at));
    assert.deepEqual(r.broken, []);
    assert.equal(r.members.length, 2);
    // The MD5 of the file ClamAV extracts for the script (clamscan --leave-temps).
    assert.equal(md5(r.members[0]?.data ?? new Uint8Array()), script);
    assert.equal(r.members[1]?.name, 'C:\\clam.exe');
    assert.equal(sha256(r.members[1]?.data ?? new Uint8Array()), CLAM_EXE_SHA256);
    // Cut short: it ends, and says so unless the cut falls between two entries.
    const from = d.subarray(at);
    const tag = from.subarray(40, 44);
    const starts = [...from.keys()].filter((o) => tag.every((b, i) => from[o + i] === b));
    for (let cut = 41; cut < from.length - 8; cut += 7) {
      const t = run(from.subarray(0, cut));
      assert.ok(t.members.length < 2, `cut at ${cut}`);
      if (!starts.includes(cut)) assert.ok(t.broken.length > 0, `cut at ${cut}`);
    }
    // Bit-flipped anywhere: it ends within the cap; in clam.exe's packed bytes, the checksum tells.
    for (let o = 40; o < from.length; o += 37) {
      const f = from.slice();
      f[o] = (f[o] ?? 0) ^ 0x04;
      run(f, 1 << 16);
    }
    for (let o = from.length - 130; o < from.length - 8; o += 5) {
      const f = from.slice();
      f[o] = (f[o] ?? 0) ^ 0x40;
      assert.ok(run(f).broken.length > 0, `flip at ${o}`);
    }
  });
}

test('truncated anywhere: no throw, members before the cut intact, a cut inside an entry reported', () => {
  for (const v of [5, 6] as const) {
    const { bytes: full, starts } = sampleBuilt(v);
    const whole = run(full).members;
    for (let cut = 0; cut < full.length; cut++) {
      const r = run(full.subarray(0, cut));
      for (const [i, m] of r.members.entries()) assert.deepEqual(m.data, whole[i]?.data, `EA0${v} cut at ${cut}`);
      // A cut between entries reads as the archive's end; one inside an entry is damage.
      const inside = cut > (starts[0] ?? 0) && cut < (starts.at(-1) ?? 0) && !starts.includes(cut);
      if (inside) assert.ok(r.broken.length > 0, `EA0${v} cut at ${cut}`);
    }
  }
});

test('bit flips: no throw, every member within the cap, damage to packed data reported', () => {
  let seed = 12345;
  const rand = (n: number) => {
    seed = (Math.imul(seed, 1103515245) + 12345) >>> 0;
    return seed % n;
  };
  for (const v of [5, 6] as const) {
    const full = sample(v);
    for (let k = 0; k < 300; k++) {
      const d = full.slice();
      const o = rand(d.length);
      d[o] = (d[o] ?? 0) ^ (1 << rand(8));
      run(d, 4096);
    }
    // A flip in the payload's packed bytes: its checksum no longer matches.
    const d = full.slice();
    d[full.length - 200] = (d[full.length - 200] ?? 0) ^ 0x10;
    assert.ok(run(d).broken.length > 0);
  }
});

test('hostile sizes: a packed size or a stream size past maxMemberSize is reported, not allocated', () => {
  for (const v of [5, 6] as const) {
    const claim = archive(v, [{ kind: 'x', path: 'C:\\big', data: PAYLOAD, compress: true, claim: 0x7ffffff0 }]);
    const r = run(claim, 1 << 20);
    assert.deepEqual(r.members, []);
    assert.deepEqual(r.tooBig, [['C:\\big', 0x7ffffff0]]);
    const packed = run(sample(v), 100);
    assert.ok(packed.tooBig.some(([n]) => n === 'C:\\payload.bin'));
    assert.ok(packed.members.every((m) => m.data.length <= 100));
    // A stream that claims more than it holds stops where its bits run out, with a report.
    const short = archive(v, [
      { kind: 'x', path: 'C:\\s', data: PAYLOAD, compress: true, claim: PAYLOAD.length + 5000 },
    ]);
    const s = run(short);
    assert.ok(s.broken.some((b) => /damaged compressed data/.test(b)));
    assert.deepEqual(s.members[0]?.data.subarray(0, PAYLOAD.length), PAYLOAD);
  }
});
