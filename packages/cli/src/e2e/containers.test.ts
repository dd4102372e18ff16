// Containers against the real clamscan: ClamAV's 44 wrappings of its test program with its one
// hash signature, and archives, mail and PDFs made by the standard tools, with the same detections.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { ole2Handler } from '@vigil/engine/containers/ole2/index';
import { zip } from '@vigil/engine/test-support/archives';
import { testEnv } from '@vigil/engine/test-support/env';
import { type VbaProjectSpec, vbaProjectBin, wordDocument } from '@vigil/engine/test-support/vbadoc';
import { foundLines, requireClamscan, run, vigilBin } from './peer.js';

const TESTFILES = '/usr/share/clamav-testfiles';
const CLAM_EXE_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';

/** The wrappings vigil unpacks today; the README lists the rest. */
const REACHED = [
  'clam-upx.exe',
  'clam-aspack.exe',
  'clam-fsg.exe',
  'clam.exe',
  'clam.zip',
  'clam.bz2.zip',
  'clam.tar.gz',
  'clam_cache_emax.tgz',
  'clam.exe.bz2',
  'clam.bin-be.cpio',
  'clam.bin-le.cpio',
  'clam.newc.cpio',
  'clam.odc.cpio',
  'clam.mail',
  'clam.exe.mbox.base64',
  'clam.exe.mbox.uu',
  'clam.exe.binhex',
  'clam.exe.szdd',
  'clam.cab',
  'clam.chm',
  'clam.exe.html',
  'clam.tnef',
  'clam.ole.doc',
  'clam.pdf',
  'clam.exe.rtf',
  'clam.d64.zip',
  'clam.7z',
  'clam.arj',
  'clam.sis',
  'clam.impl.zip',
  'clam.ppt',
  'clam-nsis.exe',
  'clam.ea05.exe',
  'clam.ea06.exe',
  'clam_IScab_ext.exe',
  'clam_IScab_int.exe',
  'clam_ISmsi_ext.exe',
  'clam_ISmsi_int.exe',
  'clam-mew.exe',
  'clam-upack.exe',
  'clam-petite.exe',
  'clam-wwpack.exe',
  'clam-yc.exe',
  'clam-pespin.exe',
];

let dir = '';
before(() => {
  requireClamscan();
  dir = mkdtempSync(join(tmpdir(), 'vigil-containers-'));
  writeFileSync(join(dir, 'test.hsb'), `${CLAM_EXE_SHA256}:544:ClamAV-Test-File\n`);
});
after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const line = (path: string) => `${path}: ClamAV-Test-File.UNOFFICIAL FOUND`;

test("ClamAV's test files with its one hash signature: vigil finds clam.exe in every wrapping it unpacks, as clamscan does", () => {
  const db = join(dir, 'test.hsb');
  const clam = foundLines(run('clamscan', ['--no-summary', '-r', '-d', db, TESTFILES]).stdout);
  const vig = run(vigilBin, ['scan', '--no-summary', '-r', '-d', db, TESTFILES]);
  assert.ok(vig.status === 1, `vigil: ${vig.stderr}`);
  const all = readdirSync(TESTFILES);
  assert.equal(clam.size, all.length, 'clamscan finds it in all of them');
  const want = REACHED.map((f) => line(join(TESTFILES, f))).sort();
  assert.deepEqual([...foundLines(vig.stdout)].sort(), want);
  for (const l of want) assert.ok(clam.has(l), `clamscan agrees: ${l}`);
});

function sh(cmd: string, args: readonly string[], cwd: string): void {
  execFileSync(cmd, args, { cwd, stdio: ['ignore', 'ignore', 'pipe'] });
}

/** Archives, mail and PDFs built with zip, tar, gzip, bzip2, xz, 7z, arj, cpio and Python. */
function buildWrappings(into: string): void {
  const src = join(into, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  copyFileSync(join(TESTFILES, 'clam.exe'), join(src, 'sub', 'clam.exe'));
  writeFileSync(join(src, 'readme.txt'), 'nothing to see here\n'.repeat(50));
  const out = join(into, 'made');
  mkdirSync(out);
  const o = (name: string) => join(out, name);
  sh('zip', ['-q', '-r', '-0', o('stored.zip'), '.'], src);
  sh('zip', ['-q', '-r', '-9', o('deflated.zip'), '.'], src);
  sh('zip', ['-q', '-r', '-Z', 'bzip2', o('bzip2.zip'), '.'], src);
  for (const format of ['gnu', 'pax', 'ustar', 'v7'])
    sh('tar', [`--format=${format}`, '-cf', o(`${format}.tar`), '.'], src);
  sh('tar', ['-czf', o('t.tar.gz'), '.'], src);
  sh('tar', ['-cjf', o('t.tar.bz2'), '.'], src);
  sh('tar', ['-cJf', o('t.tar.xz'), '.'], src);
  for (const m of ['0', '1', '2', '3', '4']) sh('arj', ['a', '-r', `-m${m}`, o(`m${m}.arj`), '*'], src);
  for (const [name, args] of [
    ['default.7z', []],
    ['bcj.7z', ['-mf=BCJ']],
    ['lzma2-solid.7z', ['-m0=LZMA2']],
    ['lzma.7z', ['-m0=LZMA']],
    ['copy.7z', ['-mx0']],
    ['lzma2-files.7z', ['-m0=LZMA2', '-ms=off']],
  ] as const)
    sh('7z', ['a', '-bd', ...args, o(name), '.'], src);
  sh('sh', ['-c', `xz -c sub/clam.exe > ${o('clam.exe.xz')}`], src);
  sh('sh', ['-c', `xz -c --x86 --lzma2 sub/clam.exe > ${o('clam.exe.bcj.xz')}`], src);
  sh('sh', ['-c', `gzip -c sub/clam.exe > ${o('clam.exe.gz')}`], src);
  sh('sh', ['-c', `bzip2 -c sub/clam.exe > ${o('clam.exe.bz2')}`], src);
  for (const format of ['newc', 'odc', 'bin', 'crc'])
    sh('sh', ['-c', `find . | cpio --quiet -o -H ${format} > ${o(`${format}.cpio`)}`], src);
  // ISO 9660 images: plain, and with Rock Ridge, Joliet and long names in a subdirectory.
  sh('genisoimage', ['-quiet', '-o', o('plain.iso'), '.'], src);
  sh('genisoimage', ['-R', '-J', '-graft-points', '-o', o('rrj.iso'), 'long dir/long name.exe=sub/clam.exe'], src);
  // A zip inside a tar inside gzip.
  sh('sh', ['-c', `tar -cf - -C ${out} deflated.zip | gzip > ${o('nested.tgz')}`], src);
  const python = `
import email.message, email.policy, sys
exe = open(sys.argv[1], 'rb').read()
for enc in ('base64', 'quoted-printable'):
    m = email.message.EmailMessage(policy=email.policy.SMTP)
    m['From'] = 'a@example.com'
    m['To'] = 'b@example.com'
    m['Subject'] = 'test ' + enc
    m.set_content('see the attachment')
    m.add_attachment(exe, maintype='application', subtype='octet-stream', filename='clam.exe', cte=enc)
    outer = email.message.EmailMessage(policy=email.policy.SMTP)
    outer['From'] = 'c@example.com'
    outer['Subject'] = 'forwarded'
    outer.set_content('forwarding')
    outer.add_attachment(m)
    open(sys.argv[2] + '/' + enc + '.eml', 'wb').write(m.as_bytes())
    open(sys.argv[2] + '/forwarded-' + enc + '.eml', 'wb').write(outer.as_bytes())
`;
  sh('/usr/bin/python3', ['-c', python, join(src, 'sub', 'clam.exe'), out], src);
  // PDFs whose one stream holds clam.exe through each filter vigil decodes. ClamAV extracts a
  // stream with only RunLength or LZW filters when something marks it (an embedded file, a page's
  // contents); it applies no predictor, so no predictor case is here (see pdf/index.test.ts).
  const pdf = `
import base64, binascii, sys, zlib
exe = open(sys.argv[1], 'rb').read()
def lzw(data):
    # LZW with early change: a clear code, 9 to 12 bit codes MSB first, the end code.
    table, out, st = {bytes([i]): i for i in range(256)}, bytearray(), {'acc': 0, 'n': 0, 'w': 9, 'next': 258}
    def put(code):
        st['acc'] = (st['acc'] << st['w']) | code; st['n'] += st['w']
        while st['n'] >= 8:
            st['n'] -= 8; out.append((st['acc'] >> st['n']) & 0xff)
    put(256)
    w = b''
    for c in data:
        if w + bytes([c]) in table or not w:
            w += bytes([c]); continue
        put(table[w])
        if st['next'] < 4096:
            table[w + bytes([c])] = st['next']; st['next'] += 1
            if st['next'] >= (1 << st['w']) and st['w'] < 12: st['w'] += 1
        w = bytes([c])
    put(table[w]); put(257)
    if st['n']: out.append((st['acc'] << (8 - st['n'])) & 0xff)
    return bytes(out)
def runlength(data):
    return b''.join(bytes([len(data[i:i + 128]) - 1]) + data[i:i + 128] for i in range(0, len(data), 128)) + b'\\x80'
page = b'4 0 obj\\n<< /Type /Page /Contents 3 0 R >>\\nendobj\\n'
for name, filt, data, mark, extra in (('flate', '/FlateDecode', zlib.compress(exe), b'', b''),
                         ('hex', '/ASCIIHexDecode', binascii.hexlify(exe) + b'>', b'', b''),
                         ('a85', '/ASCII85Decode', base64.a85encode(exe, adobe=True)[2:], b'', b''),
                         ('a85-flate', '[/ASCII85Decode /FlateDecode]', base64.a85encode(zlib.compress(exe), adobe=True)[2:], b'', b''),
                         ('runlength', '/RunLengthDecode', runlength(exe), b'/Type /EmbeddedFile ', b''),
                         ('lzw', '/LZWDecode', lzw(exe), b'/Type /EmbeddedFile ', b''),
                         ('lzw-page-contents', '/LZW', lzw(exe), b'', page),
                         ('flate-lzw', '[/FlateDecode /LZWDecode]', zlib.compress(lzw(exe)), b'', b''),
                         ('unknown-then-flate', '[/Unknown /FlateDecode]', zlib.compress(exe), b'', b'')):
    body = b'%PDF-1.4\\n1 0 obj\\n<< /Type /Catalog /Pages 2 0 R >>\\nendobj\\n'
    body += b'2 0 obj\\n<< /Type /Pages /Kids [] /Count 0 >>\\nendobj\\n' + extra
    body += b'3 0 obj\\n<< /Length %d %s/Filter %s >>\\nstream\\n' % (len(data), mark, filt.encode()) + data + b'\\nendstream\\nendobj\\n'
    body += b'trailer\\n<< /Root 1 0 R >>\\n%%EOF\\n'
    open(sys.argv[2] + '/' + name + '.pdf', 'wb').write(body)
`;
  sh('/usr/bin/python3', ['-c', pdf, join(src, 'sub', 'clam.exe'), out], src);
  // Files embedded in others: archives after an executable stub (SFX), an executable inside one,
  // a zip after text. The stub is a minimal PE of our own (no signature knows it).
  const sfx = `
import struct, sys
out = sys.argv[2]
pe = bytearray(0x400)
pe[0:2] = b'MZ'; struct.pack_into('<I', pe, 0x3c, 0x80)
pe[0x80:0x84] = b'PE\\0\\0'
struct.pack_into('<HHIIIHH', pe, 0x84, 0x14c, 1, 0, 0, 0, 0xe0, 0x10f)
struct.pack_into('<HBBIIIIIIIII', pe, 0x98, 0x10b, 8, 0, 0x200, 0, 0, 0x1000, 0x1000, 0x1000, 0x400000, 0x1000, 0x200)
struct.pack_into('<HHHHHHIIIIHH', pe, 0x98 + 40, 4, 0, 0, 0, 4, 0, 0, 0x2000, 0x200, 0, 2, 0)
struct.pack_into('<I', pe, 0x98 + 92, 16)
pe[0x178:0x180] = b'.text\\0\\0\\0'
struct.pack_into('<IIIIIIHHI', pe, 0x180, 0x1000, 0x1000, 0x200, 0x200, 0, 0, 0, 0, 0x60000020)
pe[0x200:0x201] = b'\\xc3'
exe = open(sys.argv[1], 'rb').read()
for name, tail in (('zip-sfx.exe', open(out + '/deflated.zip', 'rb').read()),
                   ('stored-sfx.exe', open(out + '/stored.zip', 'rb').read()),
                   ('arj-sfx.exe', open(out + '/m1.arj', 'rb').read()),
                   ('7z-sfx.exe', open(out + '/default.7z', 'rb').read()),
                   ('pe-in-pe.exe', exe)):
    open(out + '/' + name, 'wb').write(bytes(pe) + tail)
for name, archive in (('text-then-zip.bin', 'stored.zip'), ('text-then-7z.bin', 'default.7z')):
    open(out + '/' + name, 'wb').write(b'some notes\\n' * 40 + open(out + '/' + archive, 'rb').read())
`;
  sh('/usr/bin/python3', ['-c', sfx, join(src, 'sub', 'clam.exe'), out], src);
}

test('archives, mail and PDFs made with standard tools: the same detections as clamscan', () => {
  buildWrappings(dir);
  const made = join(dir, 'made');
  const db = join(dir, 'test.hsb');
  const clam = run('clamscan', ['--no-summary', '-r', '-d', db, made]);
  const vig = run(vigilBin, ['scan', '--no-summary', '-r', '-d', db, made]);
  const want = foundLines(clam.stdout);
  // Python writes a binary's line feeds in quoted-printable as line breaks, which decoders may read
  // back as CRLF: clamscan does not find clam.exe in those two, and neither may vigil.
  assert.equal(want.size, readdirSync(made).length - 2, `clamscan finds it in all but the two: ${clam.stdout}`);
  assert.deepEqual([...foundLines(vig.stdout)].sort(), [...want].sort(), vig.stderr);
});

// ClamAV 1.4 does not read Zstandard (its scanners have no zstd decoder): clamscan calls a .zst
// holding clam.exe clean, and vigil, which decodes the format, finds it. This one difference is
// deliberate, so these files are made apart from buildWrappings' `made`, which must equal clamscan.
test('Zstandard files made with zstd: vigil finds clam.exe, clamscan (which does not read zstd) does not', () => {
  const zdir = join(dir, 'zstd');
  const src = join(zdir, 'src');
  mkdirSync(join(src, 'sub'), { recursive: true });
  copyFileSync(join(TESTFILES, 'clam.exe'), join(src, 'sub', 'clam.exe'));
  const out = join(zdir, 'made');
  mkdirSync(out);
  sh('zstd', ['-q', '-19', 'sub/clam.exe', '-o', join(out, 'clam.exe.zst')], src);
  sh('tar', ['--zstd', '-cf', join(out, 'clam.tar.zst'), '.'], src);
  const db = join(dir, 'test.hsb');
  const clam = run('clamscan', ['--no-summary', '-r', '-d', db, out]);
  assert.equal(clam.status, 0, `clamscan finds nothing: ${clam.stdout}`);
  assert.deepEqual([...foundLines(clam.stdout)], []);
  const vig = run(vigilBin, ['scan', '--no-summary', '-r', '-d', db, out]);
  const want = ['clam.exe.zst', 'clam.tar.zst'].map((f) => line(join(out, f)));
  assert.deepEqual([...foundLines(vig.stdout)].sort(), want, vig.stderr);
});

// VBA macros: documents made here hold a project whose module source has a marker, MS-OVBA
// compressed (so the marker is nowhere in the file's raw bytes). A body signature on the marker
// finds it in the project's decoded text (target 0) and, when ClamAV's older walk can read the
// _VBA_PROJECT stream, in each module's raw source (target 2); neither finds it in a project whose
// dir stream ClamAV drops, nor in a module ClamAV's decoder fails on.
test('VBA projects in Word documents, vbaProject.bin and a .docm: the same detections as clamscan', () => {
  const vdir = join(dir, 'vba');
  mkdirSync(vdir);
  const marker = 'VigilVbaMarker_7f3a9c';
  const hex = Buffer.from(marker).toString('hex');
  writeFileSync(join(vdir, 'generic.ndb'), `Vigil.Test.VbaMarker:0:*:${hex}\n`);
  writeFileSync(join(vdir, 'ole2.ndb'), `Vigil.Test.VbaMarkerOle2:2:*:${hex}\n`);
  const out = join(vdir, 'made');
  mkdirSync(out);
  const source = `Attribute VB_Name = "Module1"\r\nSub AutoOpen()\r\n    MsgBox "${marker}"\r\nEnd Sub\r\n`;
  const spec = (more: Partial<VbaProjectSpec> = {}, src = source): VbaProjectSpec => ({
    modules: [
      { name: 'ThisDocument', source: 'Attribute VB_Name = "ThisDocument"\r\n', kind: 'class' },
      { name: 'Module1', source: src, pcode: 120 },
    ],
    ...more,
  });
  const record = (id: number, edit: (v: DataView, at: number) => void) => (d: Uint8Array) => {
    const c = d.slice();
    const v = new DataView(c.buffer);
    for (let o = 0; o + 6 <= c.length; o += 6 + v.getUint32(o + 2, true) + (v.getUint16(o, true) === 9 ? 2 : 0)) {
      if (v.getUint16(o, true) === id) {
        edit(v, o);
        break;
      }
    }
    return c;
  };
  const docm = (bin: Uint8Array) => {
    const te = new TextEncoder();
    return zip([
      {
        name: '[Content_Types].xml',
        data: te.encode(
          '<?xml version="1.0"?><Types xmlns="http://schemas.openxmlformats.org/package/2006/content-types"><Override PartName="/word/document.xml" ContentType="application/vnd.ms-word.document.macroEnabled.main+xml"/></Types>',
        ),
      },
      {
        name: 'word/document.xml',
        data: te.encode(
          '<?xml version="1.0"?><w:document xmlns:w="http://schemas.openxmlformats.org/wordprocessingml/2006/main"><w:body/></w:document>',
        ),
      },
      { name: 'word/vbaProject.bin', data: bin },
    ]);
  };
  const files: Record<string, Uint8Array> = {
    'word.doc': wordDocument(spec()),
    'word-legacy.doc': wordDocument(spec({ legacy: true })),
    'vbaProject.bin': vbaProjectBin(spec()),
    'macros.docm': docm(vbaProjectBin(spec())),
    'macros-legacy.docm': docm(vbaProjectBin(spec({ legacy: true }))),
    'no-dir-terminator.doc': wordDocument(spec({ editDir: (d) => d.subarray(0, d.length - 6) })),
    // What ClamAV gives up on: its project text is dropped, or the module fails to decode.
    'bad-module-terminator.doc': wordDocument(spec({ editDir: record(0x2b, (v, o) => v.setUint16(o, 0x2c, true)) })),
    'absurd-record-size.doc': wordDocument(
      spec({ editDir: record(0x04, (v, o) => v.setUint32(o + 2, 0xffffff00, true)) }),
    ),
    'cut-dir.doc': wordDocument(spec({ editDir: (d) => d.subarray(0, d.length - 30) })),
    'empty-dir.docm': docm(vbaProjectBin(spec({ editCompressedDir: (d) => d.subarray(0, 3) }))),
    'source-of-4096.doc': wordDocument(spec({ legacy: true }, source.padEnd(4096 - 2, "'").concat('\r\n'))),
  };
  for (const [name, data] of Object.entries(files)) writeFileSync(join(out, name), data);
  const path = (f: string) => join(out, f);
  const expect = {
    'generic.ndb': [
      'word.doc',
      'word-legacy.doc',
      'vbaProject.bin',
      'macros.docm',
      'macros-legacy.docm',
      'no-dir-terminator.doc',
    ],
    'ole2.ndb': ['word-legacy.doc', 'macros-legacy.docm'],
  };
  for (const [db, found] of Object.entries(expect)) {
    const name = db === 'generic.ndb' ? 'Vigil.Test.VbaMarker' : 'Vigil.Test.VbaMarkerOle2';
    const want = found.map((f) => `${path(f)}: ${name}.UNOFFICIAL FOUND`).sort();
    const clam = run('clamscan', ['--no-summary', '-r', '-d', join(vdir, db), out]);
    assert.deepEqual([...foundLines(clam.stdout)].sort(), want, `clamscan with ${db}: ${clam.stdout}`);
    const vig = run(vigilBin, ['scan', '--no-summary', '-r', '-d', join(vdir, db), out]);
    assert.deepEqual([...foundLines(vig.stdout)].sort(), want, `vigil with ${db}: ${vig.stdout}${vig.stderr}`);
  }
});

// The text ClamAV builds for a VBA project is the layer it scans; clamscan --debug prints the MD5
// and size of a layer a signature matched ("FP SIGNATURE"), so a signature on the text's first
// line shows it, to compare with what vigil's OLE2 handler yields: code pages included.
test("VBA projects' text, code pages included, is byte for byte clamscan's", () => {
  const vdir = join(dir, 'vba-text');
  mkdirSync(vdir);
  const db = join(vdir, 'rem.ndb');
  writeFileSync(db, `Vigil.Test.VbaText:0:*:${Buffer.from('REM VBA project extracted').toString('hex')}\n`);
  const b = (...parts: (string | number[])[]) =>
    Uint8Array.from(parts.flatMap((p) => (typeof p === 'string' ? [...Buffer.from(p, 'latin1')] : p)));
  const docs: Record<string, VbaProjectSpec> = {
    // 1252: accents and the euro sign convert; 0x81, undefined there, fails its whole module.
    'cp1252.doc': {
      modules: [
        { name: 'ModA', source: b('Sub A()\r\n  X = "caf', [0xe9, 0x80], '"  _\r\n   & "MORE"\r\nEnd Sub\r\n') },
        { name: 'ModB', source: b('Sub B()\r\n  Y = "', [0x81], '"\r\nEnd Sub\r\n') },
        { name: 'Mod\u00e9', source: 'Sub C()\r\nEnd Sub\r\n' },
      ],
    },
    'utf8.doc': {
      codepage: 65001,
      modules: [{ name: 'ModA', source: b('X = "', [0xc3, 0xa9], '"\r\nY = "', [0xc3]) }],
    },
    'shift-jis.doc': {
      codepage: 932,
      modules: [{ name: 'ModA', source: b('X = "', [0x82, 0xa0, 0x82, 0xa2], '"\r\n') }],
    },
  };
  for (const [name, spec] of Object.entries(docs)) {
    const file = join(vdir, name);
    const data = wordDocument(spec);
    writeFileSync(file, data);
    const clam = run('clamscan', ['--no-summary', '--debug', '-d', db, file]);
    const fp = /FP SIGNATURE: ([0-9a-f]{32}):(\d+):Vigil\.Test\.VbaText/.exec(clam.stderr);
    assert.ok(fp, `clamscan matched the project text of ${name}`);
    const ctx = { env: testEnv, name, maxMemberSize: 1 << 24, tooBig() {}, encrypted() {}, broken() {} };
    const text = [...ole2Handler.extract(data, ctx)].find((m) => m.name === 'vba_project');
    assert.ok(text, `vigil yields the project text of ${name}`);
    assert.deepEqual(
      [createHash('md5').update(text.data).digest('hex'), String(text.data.length)],
      [fp[1], fp[2]],
      name,
    );
  }
});
