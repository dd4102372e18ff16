// `vigil daemon` against the real clamd, started with the same database and settings: the same
// replies to the same bytes, and the same output from the clients people use (Debian's clamdscan
// and Python's pyclamd).
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import {
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  rmSync,
  symlinkSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { CLAM_EXE_SHA256, instream, type RunningDaemon, request, startDaemon, until } from './harness.js';

const TESTFILES = '/usr/share/clamav-testfiles';
let work = '';
let files = '';
let clamd: RunningDaemon;
let vigil: RunningDaemon;

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'vigil-daemon-diff-'));
  const db = join(work, 'db');
  files = join(work, 'files');
  mkdirSync(db);
  mkdirSync(join(files, 'sub', 'deeper'), { recursive: true });
  mkdirSync(join(files, 'skipped'));
  mkdirSync(join(files, 'cleandir'));
  writeFileSync(join(files, 'cleandir', 'a.txt'), 'clean\n');
  writeFileSync(join(db, 'test.hsb'), `${CLAM_EXE_SHA256}:544:ClamAV-Test-File\n`);
  writeFileSync(join(db, 'test.ndb'), 'Test.Body:0:*:5649474954544553544d41524b4552\n');
  for (const f of ['clam.exe', 'clam.zip', 'clam.7z', 'clam.tar.gz', 'clam.pdf', 'clam.mail'])
    copyFileSync(join(TESTFILES, f), join(files, 'sub', f));
  copyFileSync(join(TESTFILES, 'clam.exe'), join(files, 'skipped', 'clam.exe'));
  writeFileSync(join(files, 'clean.txt'), 'nothing to see\n');
  writeFileSync(join(files, 'empty'), '');
  writeFileSync(join(files, 'sub', 'deeper', 'marker.txt'), 'xxVIGITTESTMARKERxx');
  symlinkSync(join(files, 'sub', 'clam.exe'), join(files, 'link.exe'));
  const settings = [
    `DatabaseDirectory ${db}`,
    'StreamMaxLength 64K',
    'CommandReadTimeout 2',
    'ReadTimeout 2',
    'IdleTimeout 2',
    `ExcludePath ^${files}/skipped`,
    'SelfCheck 0',
  ];
  [clamd, vigil] = await Promise.all([startDaemon('clamd', settings), startDaemon('vigil', settings)]);
});

after(async () => {
  await Promise.all([clamd?.stop(), vigil?.stop()]);
  if (work) rmSync(work, { recursive: true, force: true });
});

/**
 * What may differ between the two: the version text (Vigil names itself), the STATS figures, and
 * the order of MULTISCAN's lines (files finish in any order on both).
 */
function normalise(reply: string, sortLines = false): string {
  let r = reply.replace(/ClamAV [\d.]+|Vigil [\d.]+/g, 'VERSION').replace(/POOLS: 1[\s\S]*?END/g, 'STATS');
  if (sortLines)
    r = r
      .split(/(?<=[\n\0])/)
      .sort()
      .join('');
  return r;
}

const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};

test('the same replies as clamd to the same bytes: commands, framings, sessions, errors', async () => {
  const f = files;
  const exe = new Uint8Array(execFileSync('cat', [join(TESTFILES, 'clam.exe')]));
  const cases: [string, string | Uint8Array, boolean?][] = [
    ['ping, three framings', 'PING\n'],
    ['the old protocol: a bare command ends with its read', 'PING'],
    ['a bare SCAN', `SCAN ${f}/sub/clam.exe`],
    ['a bare VERSION', 'VERSION'],
    ['INSTREAM needs a prefix', 'INSTREAM\n'],
    ['n ping', 'nPING\n'],
    ['z ping', 'zPING\0'],
    ['version', 'nVERSION\n'],
    ['versioncommands', 'zVERSIONCOMMANDS\0'],
    ['unknown', 'nFOO\n'],
    ['lower case', 'nping\n'],
    ['empty line', '\n'],
    ['END outside a session', 'nEND\n'],
    ['the removed STREAM command', 'nSTREAM\n'],
    ['SCAN without a path', 'nSCAN\n'],
    ['SCAN of an empty path', 'nSCAN \n'],
    ['SCAN of a missing file', `nSCAN ${f}/nope\n`],
    ['SCAN of a relative path', 'nSCAN relative/nope\n'],
    ['SCAN keeps trailing spaces', `nSCAN ${f}/clean.txt  \n`],
    ['SCAN of a clean file', `zSCAN ${f}/clean.txt\0`],
    ['SCAN of an empty file', `nSCAN ${f}/empty\n`],
    ['SCAN of an infected file', `nSCAN ${f}/sub/clam.exe\n`],
    ['SCAN of an excluded path', `nSCAN ${f}/skipped/clam.exe\n`],
    ['SCAN of a symbolic link', `nSCAN ${f}/link.exe\n`],
    ['SCAN of a socket', `nSCAN ${clamd.socket}\n`],
    ['SCAN of a tree stops at the first', `nSCAN ${f}/sub\n`],
    ['CONTSCAN of a tree', `nCONTSCAN ${f}\n`],
    ['CONTSCAN, trailing slash', `nCONTSCAN ${f}/\n`],
    ['MULTISCAN of a tree', `nMULTISCAN ${f}\n`, true],
    ['ALLMATCHSCAN', `nALLMATCHSCAN ${f}/sub\n`],
    ['SCAN of a clean directory', `nSCAN ${f}/cleandir\n`],
    ['INSTREAM infected', instream(exe)],
    ['INSTREAM infected, n', instream(exe, 'n', 100)],
    ['INSTREAM empty', 'zINSTREAM\0\0\0\0\0'],
    ['INSTREAM clean', instream(new TextEncoder().encode('hello'))],
    ['INSTREAM over StreamMaxLength in one chunk', Buffer.concat([Buffer.from('zINSTREAM\0'), be32(70_000)])],
    ['INSTREAM over StreamMaxLength in chunks', instream(new Uint8Array(70_000), 'z', 30_000)],
    ['INSTREAM at StreamMaxLength', instream(new Uint8Array(65_536), 'z', 40_000)],
    ['session', `nIDSESSION\nnPING\nnVERSION\nnSCAN ${f}/sub/clam.exe\nnEND\n`],
    ['session z', Buffer.concat([Buffer.from('zIDSESSION\0'), instream(exe), Buffer.from('zPING\0zEND\0')])],
    ['session: END at once', 'nIDSESSION\nnEND\n'],
    ['session: nested', 'nIDSESSION\nnIDSESSION\n'],
    ['session: MULTISCAN is refused', `nIDSESSION\nnMULTISCAN ${f}\n`],
    ['session: stream over the limit', Buffer.concat([Buffer.from('nIDSESSION\nnINSTREAM\n'), be32(70_000)])],
    ['session: STATS', 'nIDSESSION\nnSTATS\nnEND\n'],
    ['unprefixed IDSESSION', 'IDSESSION\nnPING\nnEND\n'],
    ['two commands without a session', 'nPING\nnVERSION\n'],
    ['DETSTATS', 'nDETSTATS\n'],
    ['STATS', 'nSTATS\n'],
  ];
  for (const [name, bytes, sort] of cases) {
    const [c, v] = await Promise.all([request(clamd.socket, bytes), request(vigil.socket, bytes)]);
    assert.equal(normalise(v, sort), normalise(c, sort), name);
  }
});

test('timeouts: the same COMMAND READ TIMED OUT as clamd, for a silent client, a partial command, a stalled stream and an idle session', async () => {
  const cases: [string, string | Uint8Array][] = [
    ['nothing sent', ''],
    ['half a command', 'nPI'],
    ['a z command without its NUL', 'zPING\n'],
    ['a stream stopped mid-chunk', Buffer.concat([Buffer.from('zINSTREAM\0'), be32(100), Buffer.alloc(10)])],
    ['a session left idle', 'nIDSESSION\nnPING\n'],
  ];
  await Promise.all(
    cases.map(async ([name, data]) => {
      const [c, v] = await Promise.all([request(clamd.socket, data), request(vigil.socket, data)]);
      assert.equal(v, c, name);
      assert.match(v, /COMMAND READ TIMED OUT\n$/, name);
    }),
  );
});

/** Runs clamdscan against a daemon; the socket path is the only difference in its output. */
function clamdscan(d: RunningDaemon, args: readonly string[]): { out: string; status: number } {
  const conf = join(d.dir, 'client.conf');
  writeFileSync(conf, `LocalSocket ${d.socket}\n`);
  try {
    const out = execFileSync('clamdscan', [`--config-file=${conf}`, ...args], { encoding: 'utf8', stdio: 'pipe' });
    return { out, status: 0 };
  } catch (e) {
    const err = e as { stdout: string; stderr: string; status: number };
    return { out: err.stdout + err.stderr, status: err.status };
  }
}

test("Debian's clamdscan gives the same output and exit status against vigil daemon as against clamd", () => {
  const targets = [files, join(files, 'clean.txt'), join(work, 'missing')];
  const variants: (readonly string[])[] = [
    ['--no-summary'],
    ['--no-summary', '--stream'],
    ['--no-summary', '--multiscan'],
    ['--no-summary', '--allmatch'],
    ['--no-summary', '--infected'],
    ['--no-summary', '--stream', '--allmatch'],
    // Each file opened by clamdscan and its descriptor passed over the socket (FILDES).
    ['--no-summary', '--fdpass'],
    ['--no-summary', '--fdpass', '--multiscan'],
    ['--no-summary', '--fdpass', '--allmatch'],
    ['--ping', '1'],
    ['--reload'],
  ];
  for (const v of variants) {
    const args = v[0] === '--ping' || v[0] === '--reload' ? v : [...v, ...targets];
    const c = clamdscan(clamd, args);
    const g = clamdscan(vigil, args);
    const sort = (s: string) => s.split('\n').sort().join('\n');
    assert.equal(sort(g.out), sort(c.out), v.join(' '));
    assert.equal(g.status, c.status, `exit status of ${v.join(' ')}`);
  }
  // The summary's numbers (files, infected) match too; only timings differ.
  const summary = (s: string) => s.replace(/^(Time|Start Date|End Date):.*$/gm, '');
  assert.equal(summary(clamdscan(vigil, [files]).out), summary(clamdscan(clamd, [files]).out));
});

/**
 * Sends `parts` over a daemon's socket in turn, each with the descriptor it names passed along
 * (SCM_RIGHTS): a file, `pipe` (a pipe's read end) or none; returns everything the daemon answers.
 */
function passing(d: RunningDaemon, parts: readonly (readonly [string, string | null])[]): string {
  const script = `
import json, os, socket, sys
s = socket.socket(socket.AF_UNIX)
s.settimeout(10)
s.connect(sys.argv[1])
for data, what in json.loads(sys.argv[2]):
    data = data.encode('latin1')
    if what is None:
        s.sendall(data)
        continue
    fd = os.pipe()[0] if what == 'pipe' else os.open(what, os.O_RDONLY)
    socket.send_fds(s, [data], [fd])
    os.close(fd)
out = b''
try:
    while True:
        got = s.recv(65536)
        if not got:
            break
        out += got
except ConnectionResetError:
    pass
sys.stdout.write(out.decode('latin1'))
`;
  return execFileSync('/usr/bin/python3', ['-c', script, d.socket, JSON.stringify(parts)], { encoding: 'latin1' });
}

test('FILDES: the same replies as clamd for passed files, pipes, missing and stray descriptors', () => {
  const clean = join(files, 'clean.txt');
  const exe = join(files, 'sub', 'clam.exe');
  const cases: [string, [string, string | null][]][] = [
    [
      'a clean file',
      [
        ['zFILDES\0', null],
        ['\0', clean],
      ],
    ],
    [
      'an infected file',
      [
        ['zFILDES\0', null],
        ['\0', exe],
      ],
    ],
    ['the command and the descriptor in one message', [['nFILDES\n\0', exe]]],
    [
      'a pipe',
      [
        ['zFILDES\0', null],
        ['\0', 'pipe'],
      ],
    ],
    [
      'a directory',
      [
        ['zFILDES\0', null],
        ['\0', files],
      ],
    ],
    ['no descriptor', [['zFILDES\0\0', null]]],
    ['a descriptor with PING', [['zPING\0', exe]]],
    ['a descriptor with half a command', [['zPI', exe]]],
    [
      'a descriptor with PING in a session',
      [
        ['zIDSESSION\0', null],
        ['zPING\0', exe],
      ],
    ],
    [
      'a session of three',
      [
        ['zIDSESSION\0zFILDES\0', null],
        ['\0', exe],
        ['zFILDES\0', null],
        ['\0', clean],
        ['zPING\0zEND\0', null],
      ],
    ],
    ['a session: a FILDES without a descriptor ends it', [['zIDSESSION\0zPING\0zFILDES\0\0zPING\0zEND\0', null]]],
  ];
  // The descriptor's number is each daemon's own; a session's replies come in any order.
  const norm = (r: string) => normalise(r.replace(/fd\[\d+\]/g, 'fd[N]'), true);
  for (const [name, parts] of cases) {
    const c = passing(clamd, parts);
    assert.equal(norm(passing(vigil, parts)), norm(c), name);
  }
  assert.match(passing(vigil, cases[1]?.[1] ?? []), /^fd\[\d+\]: ClamAV-Test-File\.UNOFFICIAL FOUND\0$/);
});

test('FILDES leaves no descriptor open: scanned, refused or unclaimed, each is closed', async () => {
  const open = () => readdirSync(`/proc/${vigil.child.pid}/fd`).length;
  const exe = join(files, 'sub', 'clam.exe');
  const before = open();
  for (let i = 0; i < 20; i++) {
    passing(vigil, [
      ['zFILDES\0', null],
      ['\0', exe],
    ]);
    passing(vigil, [['zPING\0', exe]]);
    passing(vigil, [
      ['zFILDES\0', null],
      ['\0', 'pipe'],
    ]);
    passing(vigil, [
      ['zIDSESSION\0zFILDES\0', null],
      ['\0', exe],
      ['x', exe],
    ]);
  }
  // Each connection is closed a moment after its last reply.
  await until(() => open() <= before, 5_000, `descriptors back to ${before} (now ${open()})`);
});

test("Python's pyclamd gives the same results against vigil daemon as against clamd", () => {
  const script = `
import json, sys, pyclamd
c = pyclamd.ClamdUnixSocket(filename=sys.argv[1])
f = sys.argv[2]
out = {'ping': c.ping(), 'version': c.version().split(' ')[0] in ('ClamAV', 'Vigil')}
for m in ['scan_file', 'multiscan_file', 'contscan_file', 'allmatchscan']:
    for p in [f, f + '/sub/clam.exe', f + '/clean.txt', f + '/nope']:
        out[m + ' ' + p] = getattr(c, m)(p)
out['stream'] = c.scan_stream(open(f + '/sub/clam.exe', 'rb').read())
out['stream clean'] = c.scan_stream(b'hello')
try:
    c.scan_stream(b'x' * 70000)
except Exception as e:
    # Both daemons answer the size-limit error and close; whether pyclamd reads that answer or is
    # still writing (a broken pipe) depends on timing, for clamd as for vigil.
    n = type(e).__name__
    told = n == 'BufferTooLongError' and 'INSTREAM size limit exceeded' in str(e)
    out['stream big'] = 'refused' if told or n in ('BrokenPipeError', 'ConnectionResetError') else n + ': ' + str(e)
out['eicar'] = len(c.EICAR())
out['stats'] = c.stats().split('\\n')[0]
out['reload'] = c.reload()
print(json.dumps(out, sort_keys=True))
`;
  const py = (d: RunningDaemon) =>
    execFileSync('/usr/bin/python3', ['-c', script, d.socket, files], { encoding: 'utf8', stdio: 'pipe' });
  const c = py(clamd);
  assert.match(c, /ClamAV-Test-File/);
  assert.equal(py(vigil), c);
});

test("Node's clamscan package gives the same results against vigil daemon as against clamd", async () => {
  const { default: NodeClam } = await import('clamscan');
  const { Readable } = await import('node:stream');
  const results = async (d: RunningDaemon) => {
    const c = await new NodeClam().init({
      clamscan: { active: false },
      clamdscan: { socket: d.socket, localFallback: false, active: true, multiscan: true, timeout: 10_000 },
      preference: 'clamdscan',
    });
    const out: Record<string, unknown> = {
      version: (await c.getVersion()).split(' ')[0] === d.kind.replace('clamd', 'ClamAV').replace('vigil', 'Vigil'),
    };
    for (const f of [join(files, 'sub', 'clam.exe'), join(files, 'clean.txt'), join(files, 'sub', 'clam.7z')]) {
      const r = await c.isInfected(f);
      out[f] = [r.isInfected, r.viruses];
    }
    const s = await c.scanStream(Readable.from([readFileSync(join(TESTFILES, 'clam.exe'))]));
    out.stream = [s.isInfected, s.viruses];
    const dir = await c.scanDir(join(files, 'sub'));
    out.dir = [dir.goodFiles.length, [...dir.badFiles].sort(), [...(dir.viruses ?? [])].sort()];
    const list = await c.scanFiles([join(files, 'sub', 'clam.exe'), join(files, 'clean.txt')]);
    out.files = [list.goodFiles, list.badFiles, list.viruses];
    return out;
  };
  const c = await results(clamd);
  assert.deepEqual(c[join(files, 'sub', 'clam.exe')], [true, ['ClamAV-Test-File.UNOFFICIAL']]);
  assert.deepEqual(await results(vigil), c);
});
