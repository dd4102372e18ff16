// Containers against the real clamscan: ClamAV's 44 wrappings of its test program with its one
// hash signature, and archives, mail and PDFs made by the standard tools, with the same detections.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { copyFileSync, mkdirSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
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
  // PDFs whose one stream holds clam.exe through each filter vigil decodes.
  const pdf = `
import base64, binascii, sys, zlib
exe = open(sys.argv[1], 'rb').read()
for name, filt, data in (('flate', '/FlateDecode', zlib.compress(exe)),
                         ('hex', '/ASCIIHexDecode', binascii.hexlify(exe) + b'>'),
                         ('a85', '/ASCII85Decode', base64.a85encode(exe, adobe=True)[2:]),
                         ('a85-flate', '[/ASCII85Decode /FlateDecode]', base64.a85encode(zlib.compress(exe), adobe=True)[2:])):
    body = b'%PDF-1.4\\n1 0 obj\\n<< /Type /Catalog /Pages 2 0 R >>\\nendobj\\n'
    body += b'2 0 obj\\n<< /Type /Pages /Kids [] /Count 0 >>\\nendobj\\n'
    body += b'3 0 obj\\n<< /Length %d /Filter %s >>\\nstream\\n' % (len(data), filt.encode()) + data + b'\\nendstream\\nendobj\\n'
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
