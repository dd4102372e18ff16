// The SQLite store: the conformance suite every store passes (store-conformance.ts), then what
// only SQLite does: a committed transaction is in the file, private to its owner, what a failing
// one wrote is not, a failed file write undoes the change in memory too, one process at a time
// holds a database, and files that are not licence databases are refused.
import assert from 'node:assert/strict';
import { readdirSync, readFileSync, statSync, writeFileSync } from 'node:fs';
import { mkdir, rm } from 'node:fs/promises';
import { join } from 'node:path';
import { test } from 'node:test';
import { isLicenceError } from './errors.js';
import { tempDir } from './fixtures.js';
import { SerialQueue } from './queue.js';
import { SqliteLicenceStore } from './sqlite-store.js';
import { seed, storeConformance } from './store-conformance.js';

storeConformance({
  name: 'sqlite',
  skip: false,
  async fresh() {
    const { dir, remove } = await tempDir();
    const path = join(dir, 'l.db');
    return { open: (options) => SqliteLicenceStore.open(path, options), remove };
  },
});

test('sqlite: a committed transaction is in the file, private to its owner, with no file left beside it', async () => {
  const { dir, remove } = await tempDir();
  const path = join(dir, 'l.db');
  const store = await SqliteLicenceStore.open(path);
  await seed(store);
  assert.equal(statSync(path).mode & 0o777, 0o600);
  await store.close();
  assert.deepEqual(readdirSync(dir), ['l.db'], 'no temporary or lock file is left');
  const again = await SqliteLicenceStore.open(path);
  assert.equal((await again.transaction((tx) => tx.getLicence('L-1')))?.id, 'L-1');
  await again.close();
  await remove();
});

test('sqlite: a transaction that throws leaves the file as it was', async () => {
  const { dir, remove } = await tempDir();
  const path = join(dir, 'l.db');
  const store = await SqliteLicenceStore.open(path);
  await seed(store);
  const before = readFileSync(path);
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.clearActivations('L-1');
      await tx.addActivation({ licenceId: 'L-1', machineId: 'm-2', activatedAt: 'x' });
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  await assert.rejects(
    store.transaction((tx) => tx.addActivation({ licenceId: 'L-1', machineId: 'm-1', activatedAt: 'x' })),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /UNIQUE/.test(e.message),
  );
  assert.deepEqual(readFileSync(path), before);
  await store.close();
  await remove();
});

test('sqlite: when the file cannot be written, the change is undone in memory as well', async () => {
  const { dir, remove } = await tempDir();
  const sub = join(dir, 'sub');
  await mkdir(sub);
  const store = await SqliteLicenceStore.open(join(sub, 'l.db'));
  await seed(store);
  await rm(sub, { recursive: true });
  await assert.rejects(
    store.transaction((tx) => tx.removeActivation('L-1', 'm-1')),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /the change was undone/.test(e.message),
  );
  await mkdir(sub);
  assert.equal((await store.transaction((tx) => tx.listActivations('L-1'))).length, 1);
  assert.equal(await store.transaction((tx) => tx.removeActivation('L-1', 'm-1')), true);
  await store.close();
  await remove();
});

test('sqlite: one process holds a database at a time; a stale lock is taken over', async () => {
  const { dir, remove } = await tempDir();
  const path = join(dir, 'l.db');
  const store = await SqliteLicenceStore.open(path);
  await assert.rejects(SqliteLicenceStore.open(path), (e: unknown) => {
    return isLicenceError(e, 'E_STORE') && e.message.includes(`in use by process ${process.pid}`);
  });
  await store.close();
  await assert.rejects(
    store.transaction(async () => 1),
    /the store is closed/,
  );
  writeFileSync(`${path}.lock`, '999999999\n');
  const again = await SqliteLicenceStore.open(path);
  await again.close();
  await remove();
});

test('sqlite: a file that is not a licence database is refused with E_STORE', async () => {
  const { dir, remove } = await tempDir();
  const path = join(dir, 'l.db');
  writeFileSync(path, 'this is not SQLite, just some text that is long enough to look like a header. '.repeat(20));
  await assert.rejects(SqliteLicenceStore.open(path), (e: unknown) => {
    return isLicenceError(e, 'E_STORE') && e.message.startsWith(`Cannot open the licence database ${path}`);
  });
  assert.deepEqual(readdirSync(dir), ['l.db'], 'the lock is released after a failed open');
  await remove();
});

test('sqlite: the queue runs tasks one at a time, in order, and refuses past its cap', async () => {
  const queue = new SerialQueue(3);
  const log: string[] = [];
  const task =
    (name: string, fail = false) =>
    async () => {
      log.push(`start ${name}`);
      await new Promise((r) => setTimeout(r, 5));
      log.push(`end ${name}`);
      if (fail) throw new Error(name);
      return name;
    };
  const a = queue.run(task('a'));
  const b = queue.run(task('b', true));
  const c = queue.run(task('c'));
  await assert.rejects(queue.run(task('d')), (e: unknown) => isLicenceError(e, 'E_BUSY'));
  assert.equal(await a, 'a');
  await assert.rejects(b, /b/);
  assert.equal(await c, 'c');
  assert.deepEqual(log, ['start a', 'end a', 'start b', 'end b', 'start c', 'end c']);
  assert.equal(queue.size, 0);
});
