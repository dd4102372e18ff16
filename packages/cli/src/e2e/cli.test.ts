// Black-box tests of the vigil command: clamscan's lines and exit codes, the bad inputs the issue
// names (missing files, malformed signatures, truncated CVD, corrupt compiled database), --json,
// --jobs, --file-list, filters, and db compile/info.
import assert from 'node:assert/strict';
import { execFileSync } from 'node:child_process';
import { createHash } from 'node:crypto';
import {
  existsSync,
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
import { tar } from '@vigil/engine/test-support/archives';
import { foundLines, run, vigilBin } from './peer.js';

let dir = '';
let sigs = '';
let files = '';
const EICARISH = 'X5O!P%@AP[4\\PZX54(P^)7CC)7}$VIGIL-TEST-FILE!$H+H*';

before(() => {
  dir = mkdtempSync(join(tmpdir(), 'vigil-cli-'));
  sigs = join(dir, 'sigs');
  files = join(dir, 'files');
  mkdirSync(sigs);
  mkdirSync(join(files, 'sub'), { recursive: true });
  writeFileSync(join(sigs, 'test.ndb'), `Test.Body:0:*:${Buffer.from('VIGIL-TEST-FILE').toString('hex')}\n`);
  writeFileSync(join(files, 'bad.txt'), `hello ${EICARISH} world\n`);
  writeFileSync(join(files, 'good.txt'), 'nothing to see here\n');
  writeFileSync(join(files, 'sub', 'deep.txt'), `deep ${EICARISH}\n`);
  writeFileSync(join(files, 'empty.txt'), '');
  symlinkSync(join(files, 'bad.txt'), join(files, 'link.txt'));
  symlinkSync(files, join(files, 'sub', 'loop'));
});

after(() => {
  if (dir) rmSync(dir, { recursive: true, force: true });
});

const vigil = (args: string[], input?: string) => run(vigilBin, args, input);

test('clamscan lines and exit codes: found is 1, clean is 0, symbolic links and empty files are noted, not followed', () => {
  const r = vigil(['scan', '-r', '--no-summary', '-d', sigs, files]);
  assert.equal(r.status, 1, r.stderr);
  assert.deepEqual(r.stdout.trim().split('\n').sort(), [
    `${files}/bad.txt: Test.Body.UNOFFICIAL FOUND`,
    `${files}/empty.txt: Empty file`,
    `${files}/good.txt: OK`,
    `${files}/link.txt: Symbolic link`,
    `${files}/sub/deep.txt: Test.Body.UNOFFICIAL FOUND`,
    `${files}/sub/loop: Symbolic link`,
  ]);
  const clean = vigil(['scan', '--no-summary', '-d', sigs, join(files, 'good.txt')]);
  assert.equal(clean.status, 0);
  assert.equal(clean.stdout, `${files}/good.txt: OK\n`);
});

test("without -r a directory's own files are scanned, not its subdirectories; -i prints infected files only", () => {
  const r = vigil(['scan', '-i', '--no-summary', '-d', sigs, files]);
  assert.equal(r.stdout, `${files}/bad.txt: Test.Body.UNOFFICIAL FOUND\n`);
});

test('the summary counts what clamscan counts', () => {
  const r = vigil(['scan', '-r', '-d', sigs, files]);
  assert.match(
    r.stdout,
    /----------- SCAN SUMMARY -----------\nKnown viruses: 1\nEngine version: Vigil [\d.]+\nScanned directories: 2\nScanned files: 3\nInfected files: 2\n/,
  );
});

test("a missing file is an error (exit 2) with clamscan's lines, and the other files are still scanned", () => {
  const r = vigil(['scan', '--no-summary', '-d', sigs, join(dir, 'nope'), join(files, 'bad.txt')]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, `${dir}/nope: No such file or directory\n${files}/bad.txt: Test.Body.UNOFFICIAL FOUND\n`);
  assert.equal(r.stderr, `WARNING: ${dir}/nope: Can't access file\n`);
});

test('a malformed signature line stops the load with file, line, column and reason (exit 2)', () => {
  const bad = join(dir, 'bad-sigs');
  mkdirSync(bad);
  writeFileSync(join(bad, 'x.ndb'), 'Good:0:*:414243\nBad:0:*:41zz43\n');
  const r = vigil(['scan', '-d', bad, files]);
  assert.equal(r.status, 2);
  assert.equal(r.stdout, '');
  assert.match(
    r.stderr,
    /ERROR: Malformed database: 1 bad line\(s\)\nx\.ndb:2:11: error S004: 'zz' is not a hex byte, wildcard or operator/,
  );
});

test("a ClamAV container kept under another name (an update client's daily.db) is read as one", () => {
  const members = tar([
    { name: 'test.ndb', data: new TextEncoder().encode('Test.Container:0:*:766967696c2d636c64\n') },
  ]);
  const md5 = createHash('md5').update(members).digest('hex');
  const header = `ClamAV-VDB:24 Nov 2026 10-00 +0000:7:1:90:${md5}:x:vigil-test:0`.padEnd(512, ' ');
  const db = join(dir, 'daily.db');
  writeFileSync(db, Buffer.concat([Buffer.from(header), members]));
  const sample = join(dir, 'cld-sample.txt');
  writeFileSync(sample, 'a vigil-cld sample\n');
  const r = vigil(['scan', '--no-summary', '-d', db, sample]);
  // A .cld's names are official: no .UNOFFICIAL suffix, as clamscan prints them.
  assert.equal(r.stdout, `${sample}: Test.Container FOUND\n`, r.stderr);
  assert.equal(r.status, 1);
});

test('a truncated CVD and a corrupt compiled database are refused with the reason (exit 2)', () => {
  const cvd = join(dir, 'daily.cvd');
  writeFileSync(cvd, `${`ClamAV-VDB:x:1:1:90:${'0'.repeat(32)}:x:x:0`.padEnd(512, ' ')}truncated`);
  const r1 = vigil(['scan', '-d', cvd, files]);
  assert.equal(r1.status, 2);
  assert.match(r1.stderr, /daily\.cvd:0:0: error S013: the MD5 of the contents does not match the header/);
  const vdb = join(dir, 'x.vdb');
  assert.equal(vigil(['db', 'compile', '-d', sigs, '-o', vdb]).status, 0);
  const bytes = readFileSync(vdb);
  bytes[bytes.length - 3] = (bytes[bytes.length - 3] as number) ^ 0xff;
  writeFileSync(vdb, bytes);
  const r2 = vigil(['scan', '-d', vdb, files]);
  assert.equal(r2.status, 2);
  assert.match(r2.stderr, /ERROR: Cannot open compiled database: checksum mismatch \(the file is corrupt\)/);
});

test('db compile writes a database that scans the same as the text files, atomically; db info counts', () => {
  const vdb = join(dir, 'ok.vdb');
  const c = vigil(['db', 'compile', '-d', sigs, '-o', vdb]);
  assert.equal(c.status, 0, c.stderr);
  assert.deepEqual(
    readdirSync(dir).filter((f) => f.includes('.tmp-')),
    [],
  );
  const fromText = vigil(['scan', '-r', '--no-summary', '-d', sigs, files]);
  const fromVdb = vigil(['scan', '-r', '--no-summary', '-d', vdb, files]);
  assert.deepEqual(foundLines(fromVdb.stdout), foundLines(fromText.stdout));
  const info = vigil(['db', 'info', vdb]);
  assert.match(info.stdout, /Compiled: yes\nTotal signatures: 1\n {2}ndb: 1/);
  // A failed compile leaves the previous file whole.
  const before = readFileSync(vdb);
  writeFileSync(join(dir, 'broken.ndb'), 'X:0:*:zz\n');
  assert.equal(vigil(['db', 'compile', '-d', join(dir, 'broken.ndb'), '-o', vdb]).status, 2);
  assert.deepEqual(readFileSync(vdb), before);
});

test('--json: one document per file, then a summary', () => {
  const r = vigil(['scan', '-r', '--json', '-d', sigs, files]);
  const docs = r.stdout
    .trim()
    .split('\n')
    .map((l) => JSON.parse(l));
  const bad = docs.find((d) => d.path === `${files}/bad.txt`);
  assert.deepEqual(bad, {
    type: 'file',
    path: `${files}/bad.txt`,
    status: 'infected',
    detections: [{ name: 'Test.Body.UNOFFICIAL', kind: 'body', path: [], offset: 34, location: `${files}/bad.txt` }],
    fileType: 'CL_TYPE_TEXT_ASCII',
    size: 62,
  });
  assert.deepEqual(
    docs.find((d) => d.path === `${files}/empty.txt`),
    { type: 'file', path: `${files}/empty.txt`, status: 'skipped', detections: [], reason: 'Empty file' },
  );
  const summary = docs[docs.length - 1];
  assert.equal(summary.type, 'summary');
  assert.equal(summary.infected, 2);
});

test('--file-list, --exclude, --include, --max-filesize and standard input', () => {
  const list = join(dir, 'list.txt');
  writeFileSync(list, `${files}/good.txt\n${files}/sub/deep.txt\n`);
  assert.deepEqual(
    foundLines(vigil(['scan', '--no-summary', '-f', list, '-d', sigs]).stdout),
    new Set([`${files}/sub/deep.txt: Test.Body.UNOFFICIAL FOUND`]),
  );
  const ex = vigil(['scan', '-r', '--no-summary', '--exclude=deep', '-d', sigs, files]);
  assert.ok(ex.stdout.includes(`${files}/sub/deep.txt: Excluded\n`));
  const inc = vigil(['scan', '-r', '--no-summary', '-i', '--include=deep', '-d', sigs, files]);
  assert.equal(inc.stdout, `${files}/sub/deep.txt: Test.Body.UNOFFICIAL FOUND\n`);
  const big = vigil(['scan', '--no-summary', '--max-filesize=10', '-d', sigs, join(files, 'bad.txt')]);
  assert.equal(big.stdout, `${files}/bad.txt: OK\n`);
  const stdin = vigil(['scan', '--no-summary', '-d', sigs, '-'], `stdin ${EICARISH}`);
  assert.equal(stdin.stdout, 'stdin: Test.Body.UNOFFICIAL FOUND\n');
});

test('--jobs N gives the same lines in the same order as one job', () => {
  const many = join(dir, 'many');
  mkdirSync(many);
  for (let i = 0; i < 40; i++)
    writeFileSync(join(many, `f${String(i).padStart(2, '0')}.txt`), i % 3 === 0 ? `x ${EICARISH}` : `clean ${i} file`);
  const one = vigil(['scan', '--no-summary', '-j', '1', '-d', sigs, many]);
  const two = vigil(['scan', '--no-summary', '-j', '2', '-d', sigs, many]);
  assert.equal(two.stdout, one.stdout);
  assert.equal(foundLines(one.stdout).size, 14);
});

test('a FIFO is never opened: skipped inside a directory, refused on the command line (exit 2), as clamscan', () => {
  const special = join(dir, 'special');
  mkdirSync(special);
  writeFileSync(join(special, 'a.txt'), 'plain text file');
  execFileSync('mkfifo', [join(special, 'pipe')]);
  const inDir = vigil(['scan', '--no-summary', '-d', sigs, special]);
  assert.equal(inDir.status, 0);
  assert.equal(inDir.stdout, `${special}/a.txt: OK\n`);
  const direct = vigil(['scan', '--no-summary', '-d', sigs, join(special, 'pipe')]);
  assert.equal(direct.status, 2);
  assert.equal(direct.stdout, '');
  assert.equal(direct.stderr, `WARNING: ${special}/pipe: Not supported file type\n`);
});

test('text databases are compiled once into the cache, reused, and recompiled when a file changes', () => {
  const cache = mkdtempSync(join(tmpdir(), 'vigil-cache-test-'));
  const sigDir = join(dir, 'cached-sigs');
  mkdirSync(sigDir);
  writeFileSync(join(sigDir, 'a.ndb'), readFileSync(join(sigs, 'test.ndb')));
  const scanWith = () =>
    run(vigilBin, ['scan', '-v', '--no-summary', '-d', sigDir, join(files, 'bad.txt')], undefined, {
      VIGIL_CACHE_DIR: cache,
    });
  const first = scanWith();
  assert.match(first.stderr, /^Compiled the database into .+\.vdb\n$/);
  const second = scanWith();
  assert.match(second.stderr, /^Loaded the compiled database .+\.vdb\n$/);
  assert.equal(second.stdout, first.stdout);
  writeFileSync(join(sigDir, 'a.ndb'), 'Other.Sig:0:*:776f726c640a\n');
  const third = scanWith();
  assert.match(third.stderr, /^Compiled the database into/);
  assert.equal(third.stdout, `${files}/bad.txt: Other.Sig.UNOFFICIAL FOUND\n`);
  const none = run(
    vigilBin,
    ['scan', '-v', '--no-cache', '--no-summary', '-d', sigDir, join(files, 'bad.txt')],
    undefined,
    { VIGIL_CACHE_DIR: cache },
  );
  assert.equal(none.stderr, '');
  assert.ok(readdirSync(cache).filter((f) => f.endsWith('.vdb')).length <= 2, 'old entries are pruned');
  rmSync(cache, { recursive: true, force: true });
});

test('unknown options and bad values are errors that name the option', () => {
  const r = vigil(['scan', '--colour', files]);
  assert.equal(r.status, 2);
  assert.equal(r.stderr, 'ERROR: unknown option --colour (see --help)\n');
  assert.equal(
    vigil(['scan', '--max-filesize=lots', files]).stderr,
    "ERROR: --max-filesize: 'lots' is not a size (a number with an optional K, M or G)\n",
  );
  assert.ok(existsSync(vigilBin));
});

test('a reader that closes the pipe early ends the scan quietly, with no stack trace', () => {
  // `true` exits before vigil has loaded its database, so vigil's first write meets a closed pipe.
  const errFile = join(dir, 'epipe.err');
  const status = execFileSync(
    'bash',
    ['-c', `"${vigilBin}" scan -r -d "${sigs}" "${files}" 2>"${errFile}" | true; echo \${PIPESTATUS[0]}`],
    { encoding: 'utf8' },
  );
  assert.equal(status.trim(), '141', 'the exit status of a program ended by a closed pipe');
  assert.equal(readFileSync(errFile, 'utf8'), '');
});
