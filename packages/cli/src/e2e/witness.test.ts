// `vigil witness` as a process: keygen writes a private key and prints the verifier key; serve
// cosigns a log's checkpoint over HTTP with that key and stops cleanly on SIGTERM.
import assert from 'node:assert/strict';
import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, statSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import {
  generateSigner,
  hashLeaf,
  parseNote,
  parseVerifier,
  requestCosignature,
  signCheckpoint,
  treeRoot,
  verifyCosignatures,
} from '@vigil/updates';
import { run, vigilBin } from './peer.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-witness-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('vigil witness keygen and serve: a cosignature a client can check, and clear refusals', async () => {
  const keyFile = join(dir, 'w.key');
  const gen = run(vigilBin, ['witness', 'keygen', 'witness.example/ci', '-o', keyFile]);
  assert.equal(gen.status, 0, gen.stderr);
  const vkey = parseVerifier(gen.stdout.trim());
  assert.equal(statSync(keyFile).mode & 0o777, 0o600);
  const again = run(vigilBin, ['witness', 'keygen', 'witness.example/ci', '-o', keyFile]);
  assert.equal(again.status, 2);
  assert.match(again.stderr, /exists: a witness key is never overwritten/);

  const log = generateSigner('updates.example/log');
  const noLog = run(vigilBin, ['witness', 'serve', '--key', keyFile]);
  assert.equal(noLog.status, 2);
  assert.match(noLog.stderr, /serve needs at least one --log/);
  const badLog = run(vigilBin, ['witness', 'serve', '--key', keyFile, '--log', 'nonsense']);
  assert.match(badLog.stderr, /^ERROR: not a verifier key: expected/m);
  assert.doesNotMatch(badLog.stderr, /at .*\.js/, 'no stack trace for a bad key');

  const child = spawn(vigilBin, [
    'witness',
    'serve',
    '--key',
    keyFile,
    '--log',
    log.vkey,
    '--state',
    join(dir, 'state'),
    '--listen',
    '127.0.0.1:0',
  ]);
  after(() => child.kill('SIGKILL'));
  const url = await new Promise<string>((resolve, reject) => {
    child.stdout.once('data', (d: Buffer) => resolve(/http:\/\/[^\s,]+/.exec(d.toString())?.[0] ?? ''));
    child.once('exit', (code) => reject(new Error(`the witness exited with ${code}`)));
  });
  const leaves = [hashLeaf(Buffer.from('daily-1'))];
  const checkpoint = signCheckpoint({ origin: log.name, size: 1, root: treeRoot(leaves), extensions: [] }, log);
  const r = await requestCosignature(url, { oldSize: 0, proof: [], checkpoint });
  assert.equal(r.kind, 'cosigned');
  const note = parseNote(`${checkpoint}${r.kind === 'cosigned' ? r.lines.join('\n') : ''}\n`);
  assert.deepEqual(
    verifyCosignatures(note, [vkey]).map((c) => c.witness.name),
    ['witness.example/ci'],
  );
  const exited = new Promise<number | null>((resolve) => child.once('exit', resolve));
  child.kill('SIGTERM');
  assert.equal(await exited, 0);
});
