// The PostgreSQL store against a private server (postgres-fixture.ts): the conformance suite every
// store passes, then what only PostgreSQL does. Two stores on one database stand for two service
// processes (two pools): 50 activations racing for the last seats never over-activate, audit
// numbers follow commit order (a pager never misses one), a deadlock between them is retried.
// Databases that hold other tables or another version are refused and left alone; a failing
// transaction leaves nothing, even when its function swallowed the database error.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import type { RequestContext } from './answers.js';
import { isLicenceError } from './errors.js';
import { generateLicenceKeys } from './licence-file.js';
import { postgresMissing, usePostgres } from './postgres-fixture.js';
import { describeDatabase, isPostgresUrl, PostgresLicenceStore } from './postgres-store.js';
import { LicensingService } from './service.js';
import type { AuditEntry } from './store.js';
import { deferred, entry, LICENCE, seed, storeConformance } from './store-conformance.js';

const skip = postgresMissing();
const postgres = usePostgres();

storeConformance({
  name: 'postgres',
  skip,
  async fresh() {
    const url = await (await postgres()).freshDatabase();
    return { open: (options) => PostgresLicenceStore.open(url, options), remove: async () => undefined };
  },
});

const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

/** Two stores (two pools, as two service processes would have) on one new database. */
async function twoStores(): Promise<{ url: string; a: PostgresLicenceStore; b: PostgresLicenceStore }> {
  const url = await (await postgres()).freshDatabase();
  const [a, b] = await Promise.all([PostgresLicenceStore.open(url), PostgresLicenceStore.open(url)]);
  // Transactions side by side, so that each pool has its connections open before any race.
  const idle = () => new Promise((r) => setTimeout(r, 10));
  await Promise.all([a, b].flatMap((s) => Array.from({ length: 10 }, () => s.transaction(idle))));
  return { url, a, b };
}

test('postgres: two processes race 50 activations for the last 3 seats: 3 win, and a pager misses no audit entry', {
  skip,
}, async () => {
  const { a, b } = await twoStores();
  const keys = generateLicenceKeys();
  const [one, two] = [a, b].map((store) => new LicensingService({ store, signingKey: keys.privateKey }));
  if (one === undefined || two === undefined) throw new Error('unreachable');
  const ctx: RequestContext = { now: new Date('2024-06-01T00:00:00Z'), actor: 'test' };
  await one.createProduct({ id: 'vigil', name: 'Vigil' }, ctx);
  await two.createPlan({ product: 'vigil', name: 'pro', seats: 5, days: 365 }, ctx);
  const { licence } = await one.issue({ product: 'vigil', plan: 'pro', customer: 'C-1', billingCountry: 'DE' }, ctx);
  await one.activate(licence.id, 'm-a', ctx);
  await two.activate(licence.id, 'm-b', ctx);
  // A reader paging with afterSeq while the race runs, as an audit exporter would.
  const paged: AuditEntry[] = [];
  let racing = true;
  const pager = (async () => {
    for (let last = 0, more = true; more; ) {
      more = racing;
      const page = await b.transaction((tx) => tx.listAudit({ afterSeq: last }));
      paged.push(...page);
      last = page.at(-1)?.seq ?? last;
      await sleep(1);
    }
  })();
  const racers = Array.from({ length: 50 }, (_, i) => `race-${i}`);
  const results = await Promise.allSettled(
    racers.map((m, i) => (i % 2 === 0 ? one : two).activate(licence.id, m, ctx)),
  );
  racing = false;
  await pager;
  const won = results.filter((r) => r.status === 'fulfilled');
  assert.equal(won.length, 3);
  for (const r of results)
    if (r.status === 'rejected') assert.ok(isLicenceError(r.reason, 'E_SEATS'), String(r.reason));
  assert.deepEqual(won.map((r) => r.value.seatsUsed).sort(), [3, 4, 5]);
  assert.equal((await two.getLicence(licence.id, ctx)).seatsUsed, 5);
  const all = await a.transaction((tx) => tx.listAudit({}));
  assert.deepEqual(
    all.map((e) => e.seq),
    all.map((_, i) => i + 1),
    'numbered 1, 2, 3… without a gap',
  );
  assert.deepEqual(paged, all, 'the pager saw every entry, in order, none skipped');
  const race = all.filter((e) => racers.includes(String(e.detail.machineId)));
  assert.deepEqual(
    race.map((e) => (e.outcome === 'ok' ? e.detail.seatsUsed : e.detail.code)),
    [3, 4, 5, ...Array(47).fill('E_SEATS')],
    'in commit order: the three winners, then the refusals',
  );
  await Promise.all([a.close(), b.close()]);
});

test('postgres: an audit append waits for an earlier one to commit or roll back; numbers follow commit order', {
  skip,
}, async () => {
  const { a, b } = await twoStores();
  const gate = deferred();
  const appended = deferred();
  const first = a.transaction(async (tx) => {
    const e = await tx.appendAudit(entry(1));
    appended.resolve();
    await gate.promise;
    return e.seq;
  });
  await appended.promise;
  let secondSeq: number | undefined;
  const second = b
    .transaction((tx) => tx.appendAudit(entry(2)))
    .then((e) => {
      secondSeq = e.seq;
    });
  await sleep(200);
  assert.equal(secondSeq, undefined, 'the second append waits for the first transaction');
  assert.deepEqual(await b.transaction((tx) => tx.listAudit({})), [], 'nothing is committed yet');
  gate.resolve();
  assert.equal(await first, 1);
  await second;
  assert.equal(secondSeq, 2);
  // A rolled-back append leaves no gap: the next entry takes its number.
  const held = deferred();
  const appendedAgain = deferred();
  const rolledBack = a.transaction(async (tx) => {
    await tx.appendAudit(entry(3));
    appendedAgain.resolve();
    await held.promise;
    throw new Error('roll back');
  });
  await appendedAgain.promise;
  const third = b.transaction((tx) => tx.appendAudit(entry(4)));
  held.resolve();
  await assert.rejects(rolledBack, /roll back/);
  assert.equal((await third).seq, 3);
  await Promise.all([a.close(), b.close()]);
});

test('postgres: a deadlock between two processes is retried, and both transactions commit', { skip }, async () => {
  const url = await (await postgres()).freshDatabase();
  const setup = await PostgresLicenceStore.open(url);
  await seed(setup);
  await setup.transaction((tx) => tx.insertLicence({ ...LICENCE, id: 'L-2' }));
  await setup.close();
  const crossLock = async (retries: number) => {
    const [a, b] = await Promise.all([0, 1].map(() => PostgresLicenceStore.open(url, { maxRetries: retries })));
    if (a === undefined || b === undefined) throw new Error('unreachable');
    const aHolds = deferred();
    const bHolds = deferred();
    let runs = 0;
    const lockBoth = (
      store: PostgresLicenceStore,
      order: [string, string],
      mine: typeof aHolds,
      theirs: typeof aHolds,
    ) =>
      store.transaction(async (tx) => {
        runs++;
        await tx.getLicence(order[0]);
        mine.resolve();
        await theirs.promise;
        await tx.getLicence(order[1]);
        await tx.updateLicence(order[0], { customer: `C-${order[0]}` });
        return order[0];
      });
    const results = await Promise.allSettled([
      lockBoth(a, ['L-1', 'L-2'], aHolds, bHolds),
      lockBoth(b, ['L-2', 'L-1'], bHolds, aHolds),
    ]);
    await Promise.all([a.close(), b.close()]);
    return { results, runs };
  };
  const once = await crossLock(0);
  const failed = once.results.filter((r) => r.status === 'rejected');
  assert.equal(failed.length, 1, 'without retries, PostgreSQL aborts one of the two');
  const reason = (failed[0] as PromiseRejectedResult).reason;
  assert.ok(isLicenceError(reason, 'E_STORE') && /deadlock detected/.test(reason.message), String(reason));
  const retried = await crossLock(3);
  assert.deepEqual(
    retried.results.map((r) => r.status === 'fulfilled' && r.value),
    ['L-1', 'L-2'],
  );
  assert.equal(retried.runs, 3, 'the victim ran twice');
});

test('postgres: a database with a foreign table of the same name is refused and left as it was', { skip }, async () => {
  const server = await postgres();
  const url = await server.freshDatabase();
  await server.sql(url, "CREATE TABLE licences (id INTEGER, note TEXT); INSERT INTO licences VALUES (1, 'theirs')");
  await assert.rejects(PostgresLicenceStore.open(url), (e: unknown) => {
    return (
      isLicenceError(e, 'E_STORE') &&
      e.message.startsWith(`Cannot open the licence database ${describeDatabase(url)}: it has tables named licences`) &&
      e.message.includes('not a Vigil licence schema')
    );
  });
  const tables = await server.sql(url, "SELECT tablename FROM pg_tables WHERE schemaname = 'public'");
  assert.deepEqual(tables.rows, [{ tablename: 'licences' }], 'no table was created beside it');
  assert.deepEqual((await server.sql(url, 'SELECT * FROM licences')).rows, [{ id: 1, note: 'theirs' }]);
});

test('postgres: a Vigil schema of another version, or with other columns, is refused', { skip }, async () => {
  const server = await postgres();
  const url = await server.freshDatabase();
  await (await PostgresLicenceStore.open(url)).close();
  await server.sql(url, 'UPDATE vigil_licensing_schema SET version = 2');
  await assert.rejects(
    PostgresLicenceStore.open(url),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /its schema version \(2\) is not 1/.test(e.message),
  );
  await server.sql(url, 'UPDATE vigil_licensing_schema SET version = 1; ALTER TABLE activations ADD COLUMN note TEXT');
  await assert.rejects(
    PostgresLicenceStore.open(url),
    (e: unknown) =>
      isLicenceError(e, 'E_STORE') && /its table activations has the columns \(.*, note\)/.test(e.message),
  );
});

test('postgres: two processes opening an empty database at once create the schema once', { skip }, async () => {
  const url = await (await postgres()).freshDatabase();
  const stores = await Promise.all(Array.from({ length: 4 }, () => PostgresLicenceStore.open(url)));
  await seed(stores[0] as PostgresLicenceStore);
  assert.equal((await (stores[3] as PostgresLicenceStore).transaction((tx) => tx.getLicence('L-1')))?.id, 'L-1');
  await Promise.all(stores.map((s) => s.close()));
});

test('postgres: a failing transaction leaves nothing, even when its function caught the error or did not wait', {
  skip,
}, async () => {
  const { a, b } = await twoStores();
  await seed(a);
  await assert.rejects(
    a.transaction(async (tx) => {
      await tx.clearActivations('L-1');
      await tx.addActivation({ licenceId: 'L-1', machineId: 'm-2', activatedAt: 'x' });
      await tx.appendAudit(entry(2));
      throw new Error('changed my mind');
    }),
    /changed my mind/,
  );
  let caught: unknown;
  await assert.rejects(
    a.transaction(async (tx) => {
      await tx.clearActivations('L-1');
      await tx.addActivation({ licenceId: 'L-404', machineId: 'm-2', activatedAt: 'x' }).catch((e: unknown) => {
        caught = e;
      });
      return 'looks fine';
    }),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /the transaction was rolled back: .*foreign key/.test(e.message),
  );
  assert.ok(isLicenceError(caught, 'E_STORE'), 'the function saw the failure');
  await assert.rejects(
    a.transaction(async (tx) => {
      // Not awaited: the statement fails after the function has returned; COMMIT waits for it.
      tx.clearActivations('L-1').catch(() => undefined);
      tx.addActivation({ licenceId: 'L-404', machineId: 'm-2', activatedAt: 'x' }).catch(() => undefined);
      return 'looks fine';
    }),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /the transaction was rolled back: .*foreign key/.test(e.message),
  );
  await b.transaction(async (tx) => {
    assert.deepEqual(
      (await tx.listActivations('L-1')).map((x) => x.machineId),
      ['m-1'],
    );
    assert.equal((await tx.listAudit({})).length, 1);
  });
  await Promise.all([a.close(), b.close()]);
});

test('postgres: an unreachable database is E_STORE, named without its password', { skip }, async () => {
  const { unreachable } = await postgres();
  assert.ok(isPostgresUrl(unreachable) && isPostgresUrl('POSTGRES://h/db') && !isPostgresUrl('licences.db'));
  await assert.rejects(PostgresLicenceStore.open(unreachable, { connectTimeoutMs: 2000 }), (e: unknown) => {
    return (
      isLicenceError(e, 'E_STORE') &&
      e.message.startsWith('Cannot open the licence database postgresql://postgres@/nowhere (socket ') &&
      !e.message.includes('s3cret')
    );
  });
});
