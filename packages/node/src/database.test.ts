import assert from 'node:assert/strict';
import { createHash } from 'node:crypto';
import { fstatSync, mkdtempSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { fileURLToPath } from 'node:url';
import {
  checkDatabase,
  compiledLayout,
  createScanner,
  isVigilError,
  resolveScanOptions,
  serializeDatabase,
} from '@vigil/engine';
import { closeDatabase, loadDatabase, reopenShared } from './database.js';
import { nodeEnv } from './env.js';
import { ScanPool } from './pool.js';
import { type FileOutcome, scanFile } from './scanfile.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-node-db-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const md5 = (b: Uint8Array) => createHash('md5').update(b).digest('hex');
const te = new TextEncoder();

/** A file to detect, and a compiled database of `extra` other hashes plus its own, as `name`. */
function database(name: string, sig: string, extra = 20_000): { file: string; sample: string } {
  const body = te.encode(`${name} sample\n`);
  const sample = join(dir, `${name}.txt`);
  writeFileSync(sample, body);
  const lines = Array.from({ length: extra }, (_, i) => `${md5(te.encode(`${name}${i}`))}:${i + 1}:Other.${i}`);
  lines.push(`${md5(body)}:${body.length}:${sig}`);
  const text = join(dir, `${name}.hdb`);
  writeFileSync(text, `${lines.join('\n')}\n`);
  const file = join(dir, `${name}.vdb`);
  const compiled = loadDatabase([text], { detectPua: false });
  writeFileSync(file, serializeDatabase(compiled.database));
  return { file, sample };
}

const options = resolveScanOptions();
const names = (o: FileOutcome) => (o.status === 'scanned' ? o.result.detections.map((d) => d.name) : [o.message]);

test('a compiled file is opened with its hash tables left in it, and workers read them through its descriptor', async () => {
  const { file, sample } = database('one', 'Test.One');
  const loaded = loadDatabase([file], { detectPua: false });
  const { residentLength, totalLength } = compiledLayout(readFileSync(file).subarray(0, 64));
  assert.equal(loaded.shared.length, residentLength);
  assert.ok(residentLength < totalLength / 2, `${residentLength} of ${totalLength} bytes in memory`);
  assert.ok(loaded.fd !== undefined && fstatSync(loaded.fd).size === totalLength);
  const pool = new ScanPool(2, { database: loaded, options });
  try {
    const outcomes = await Promise.all([pool.scan(sample), pool.scan(sample), pool.scan(file)]);
    assert.deepEqual(outcomes.map(names), [['Test.One.UNOFFICIAL'], ['Test.One.UNOFFICIAL'], []]);
  } finally {
    await pool.close();
    closeDatabase(loaded);
  }
});

test('a damaged page passes opening and is named when read; nothing is reported from it', () => {
  const { file } = database('damaged', 'Test.Damaged');
  const bytes = readFileSync(file);
  bytes[bytes.length - 10] = (bytes[bytes.length - 10] as number) ^ 0xff;
  writeFileSync(file, bytes);
  const loaded = loadDatabase([file], { detectPua: false });
  try {
    assert.throws(
      () => checkDatabase(loaded.database),
      (e) =>
        isVigilError(e, 'E_DATABASE_FORMAT') && /page \d+ of section hash\.file\.md5\.records@paged/.test(String(e)),
    );
  } finally {
    closeDatabase(loaded);
  }
});

test('setDatabase resolves once every worker left the old database, which may then be closed; scans go on', async () => {
  const a = database('old', 'Test.Old');
  const b = database('new', 'Test.New');
  const first = loadDatabase([a.file], { detectPua: false });
  const second = loadDatabase([b.file], { detectPua: false });
  const pool = new ScanPool(2, { database: first, options });
  try {
    assert.deepEqual(names(await pool.scan(a.sample)), ['Test.Old.UNOFFICIAL']);
    const running = [pool.scan(a.sample), pool.scan(a.sample)];
    await pool.setDatabase(second);
    closeDatabase(first);
    for (const o of await Promise.all(running)) assert.equal(o.status, 'scanned');
    const after = await Promise.all([pool.scan(a.sample), pool.scan(b.sample), pool.scan(b.sample)]);
    assert.deepEqual(after.map(names), [[], ['Test.New.UNOFFICIAL'], ['Test.New.UNOFFICIAL']]);
  } finally {
    await pool.close();
    closeDatabase(second);
  }
});

test('a database loaded elsewhere is opened again only if its file is still the one it was loaded from', () => {
  const { file } = database('moved', 'Test.Moved', 100);
  const loaded = loadDatabase([file], { detectPua: false });
  closeDatabase(loaded);
  const again = reopenShared(loaded);
  assert.ok(again.fd !== undefined);
  closeDatabase(again);
  const other = database('other', 'Test.Other', 100);
  renameSync(other.file, file);
  assert.throws(
    () => reopenShared(loaded),
    (e) => isVigilError(e, 'E_IO') && /another file took its place/.test(String(e)),
  );
});

test('a text database compiled into the cache is served from the cache file, its tables out of memory', () => {
  const { sample } = database('cached', 'Test.Cached');
  const cache = { dir: join(dir, 'cache') };
  const text = join(dir, 'cached.hdb');
  for (const fromCache of [false, true]) {
    const loaded = loadDatabase([text], { detectPua: false }, cache);
    try {
      assert.equal(loaded.fromCache, fromCache);
      assert.ok(loaded.fd !== undefined, 'read from the cache file');
      assert.equal(loaded.shared.length, compiledLayout(loaded.shared).residentLength);
      const found = scanFile(createScanner(loaded.database, nodeEnv), sample, options);
      assert.deepEqual(names(found), ['Test.Cached.UNOFFICIAL']);
    } finally {
      closeDatabase(loaded);
    }
  }
});

test('workers that cannot start are replaced after a growing delay, not in a loop; their jobs get the error', async () => {
  const broken = { shared: new Uint8Array(new SharedArrayBuffer(64)) };
  const pool = new ScanPool(2, { database: broken, options });
  const outcomes: FileOutcome[] = [];
  const jobs = Array.from({ length: 200 }, () =>
    pool.scan(fileURLToPath(import.meta.url)).then((o) => outcomes.push(o)),
  );
  // Starting a thread takes about 0.2 s here: replaced at once, some 20 would have died by now.
  await new Promise((r) => setTimeout(r, 4000));
  const early = outcomes.length;
  await pool.close();
  await Promise.all(jobs);
  assert.ok(early >= 2 && early <= 12, `${early} workers died in 4 s`);
  assert.match(names(outcomes[0] as FileOutcome)[0] ?? '', /scanner thread failed: .*not a Vigil database/);
  assert.equal(outcomes.length, 200);
  assert.match(names(outcomes[199] as FileOutcome)[0] ?? '', /shutting down/);
});
