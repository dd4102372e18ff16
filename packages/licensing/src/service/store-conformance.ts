// The conformance suite every LicenceStore passes, run once per implementation (store.test.ts for
// SQLite, postgres-store.test.ts for PostgreSQL), the way Hono runs every router through one
// suite: records read back as written, after a reopen too; a failing transaction leaves nothing;
// constraints are E_STORE; counts, orders and audit pages; concurrent seat checks never
// over-activate; E_BUSY past the cap; close waits for running transactions. What only one
// implementation does (files and locks, row locks across processes) is tested beside it.
import assert from 'node:assert/strict';
import { test } from 'node:test';
import { isLicenceError } from './errors.js';
import type { LicenceStore, NewAuditEntry, StoredLicence, StoreTransaction } from './store.js';

/** A new, empty database, and how to open stores on it. */
export interface FreshDatabase {
  open(options?: { readonly maxQueued?: number }): Promise<LicenceStore>;
  /** Deletes what the database left behind (its stores are closed by then). */
  remove(): Promise<void>;
}

/** An implementation under test. */
export interface StoreFactory {
  /** Prefixes the test names, e.g. `sqlite`. */
  readonly name: string;
  /** Why its tests are skipped here, or false. */
  readonly skip: string | false;
  fresh(): Promise<FreshDatabase>;
}

/** A promise and its resolve, to hold a transaction open until the test lets it go. */
export function deferred<T = void>(): { promise: Promise<T>; resolve: (value: T) => void } {
  let resolve!: (value: T) => void;
  const promise = new Promise<T>((r) => {
    resolve = r;
  });
  return { promise, resolve };
}

/** The licence the suite seeds, with two seats. */
export const LICENCE: StoredLicence = {
  id: 'L-1',
  product: 'vigil',
  plan: 'pro',
  customer: 'C-1',
  billingCountry: 'DE',
  seats: 2,
  issuedAt: '2024-01-01T00:00:00.000Z',
  expiresAt: '2025-01-01T00:00:00.000Z',
  status: 'active',
};

/** An audit entry about `licenceId`, told apart by `n`. */
export const entry = (n: number, licenceId?: string): NewAuditEntry => ({
  at: '2024-01-02T00:00:00.000Z',
  actor: 't',
  action: 'issue',
  ...(licenceId === undefined ? {} : { licenceId }),
  detail: { n },
  outcome: 'ok',
});

/** Product `vigil`, plan `pro`, licence L-1 with machine m-1 active, and one audit entry. */
export async function seed(store: LicenceStore): Promise<void> {
  await store.transaction(async (tx) => {
    await tx.insertProduct({ id: 'vigil', name: 'Vigil', createdAt: '2024-01-01T00:00:00.000Z' });
    await tx.insertPlan({ product: 'vigil', name: 'pro', seats: 2, days: 365 });
    await tx.insertLicence(LICENCE);
    await tx.addActivation({ licenceId: 'L-1', machineId: 'm-1', activatedAt: '2024-01-02T00:00:00.000Z' });
    await tx.appendAudit({ ...entry(1), detail: { a: 1 } });
  });
}

const machines = (tx: StoreTransaction, id = 'L-1') =>
  tx.listActivations(id).then((list) => list.map((a) => a.machineId));

/** Registers the conformance tests for `factory`. */
export function storeConformance(factory: StoreFactory): void {
  const { name, skip } = factory;
  const withDatabase = (title: string, body: (db: FreshDatabase) => Promise<void>) =>
    test(`${name}: ${title}`, { skip }, async () => {
      const db = await factory.fresh();
      try {
        await body(db);
      } finally {
        await db.remove();
      }
    });

  withDatabase('what a transaction commits is read back as written, after a reopen too', roundTrip);
  withDatabase('a failing transaction leaves nothing; a constraint is E_STORE and rolls back', rollback);
  withDatabase('activations and audit: counts, order, pages by licence and after a number', listing);
  withDatabase('concurrent seat checks on one licence never over-activate', seatRace);
  withDatabase('past maxQueued waiting transactions, new ones are refused with E_BUSY', busy);
  withDatabase('close waits for running transactions, then refuses new ones', closing);
}

async function roundTrip(db: FreshDatabase): Promise<void> {
  const store = await db.open();
  await seed(store);
  await store.close();
  const again = await db.open();
  await again.transaction(async (tx) => {
    assert.deepEqual(await tx.getLicence('L-1'), LICENCE);
    assert.deepEqual(await tx.getProduct('vigil'), {
      id: 'vigil',
      name: 'Vigil',
      createdAt: '2024-01-01T00:00:00.000Z',
    });
    assert.deepEqual(await tx.getPlan('vigil', 'pro'), { product: 'vigil', name: 'pro', seats: 2, days: 365 });
    assert.equal(await tx.getLicence('L-2'), undefined);
    assert.equal(await tx.getPlan('vigil', 'gold'), undefined);
    assert.deepEqual(await tx.listActivations('L-1'), [
      { licenceId: 'L-1', machineId: 'm-1', activatedAt: '2024-01-02T00:00:00.000Z' },
    ]);
    assert.deepEqual(await tx.listAudit({}), [{ ...entry(1), detail: { a: 1 }, seq: 1 }]);
    await tx.updateLicence('L-1', { customer: 'C-2', expiresAt: '2026-01-01T00:00:00.000Z', status: 'revoked' });
  });
  await again.close();
  const third = await db.open();
  const l = await third.transaction((tx) => tx.getLicence('L-1'));
  assert.deepEqual(l, { ...LICENCE, customer: 'C-2', expiresAt: '2026-01-01T00:00:00.000Z', status: 'revoked' });
  await third.close();
}

async function rollback(db: FreshDatabase): Promise<void> {
  const store = await db.open();
  await seed(store);
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.clearActivations('L-1');
      await tx.addActivation({ licenceId: 'L-1', machineId: 'm-2', activatedAt: 'x' });
      await tx.appendAudit(entry(2));
      throw new Error('changed my mind');
    }),
    /^Error: changed my mind$/,
  );
  assert.deepEqual(await store.transaction((tx) => machines(tx)), ['m-1']);
  await assert.rejects(
    store.transaction(async (tx) => {
      await tx.removeActivation('L-1', 'm-1');
      await tx.addActivation({ licenceId: 'L-404', machineId: 'm-2', activatedAt: 'x' });
    }),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /FOREIGN KEY|foreign key/.test(e.message),
    'an activation of a licence that does not exist',
  );
  await assert.rejects(
    store.transaction((tx) => tx.addActivation({ licenceId: 'L-1', machineId: 'm-1', activatedAt: 'x' })),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /unique/i.test(e.message),
  );
  await assert.rejects(
    store.transaction((tx) => tx.updateLicence('L-2', { customer: 'C-9' })),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /licence L-2 vanished/.test(e.message),
  );
  await store.transaction(async (tx) => {
    assert.deepEqual(await machines(tx), ['m-1']);
    assert.equal((await tx.listAudit({})).length, 1, 'the rolled-back audit entry is gone');
    assert.equal((await tx.appendAudit(entry(3))).seq, 2, 'and its number is given again');
  });
  await store.close();
}

async function listing(db: FreshDatabase): Promise<void> {
  const store = await db.open();
  await seed(store);
  await store.transaction(async (tx) => {
    await tx.insertLicence({ ...LICENCE, id: 'L-2' });
    for (const [m, at] of [
      ['m-b', '2024-01-03T00:00:00.000Z'],
      ['m-C', '2024-01-03T00:00:00.000Z'],
      ['m-a', '2024-01-01T00:00:00.000Z'],
    ] as const) {
      await tx.addActivation({ licenceId: 'L-1', machineId: m, activatedAt: at });
    }
    await tx.addActivation({ licenceId: 'L-2', machineId: 'm-1', activatedAt: 'x' });
    for (let n = 2; n <= 7; n++) await tx.appendAudit(entry(n, n % 2 === 0 ? 'L-1' : 'L-2'));
  });
  await store.transaction(async (tx) => {
    // By activation time, then machine id in byte order (upper case first), whatever the locale.
    assert.deepEqual(await machines(tx), ['m-a', 'm-1', 'm-C', 'm-b']);
    assert.equal(await tx.removeActivation('L-1', 'm-b'), true);
    assert.equal(await tx.removeActivation('L-1', 'm-b'), false);
    assert.equal(await tx.clearActivations('L-1'), 3);
    assert.equal(await tx.clearActivations('L-1'), 0);
    assert.deepEqual(await machines(tx, 'L-2'), ['m-1']);
    const seqs = async (q: Parameters<StoreTransaction['listAudit']>[0]) => (await tx.listAudit(q)).map((a) => a.seq);
    assert.deepEqual(await seqs({}), [1, 2, 3, 4, 5, 6, 7]);
    assert.deepEqual(await seqs({ licenceId: 'L-1' }), [2, 4, 6]);
    assert.deepEqual(await seqs({ licenceId: 'L-2', afterSeq: 3 }), [5, 7]);
    assert.deepEqual(await seqs({ afterSeq: 2, limit: 3 }), [3, 4, 5]);
    assert.deepEqual((await tx.listAudit({ afterSeq: 6 }))[0], { ...entry(7, 'L-2'), seq: 7 });
  });
  await store.close();
}

async function seatRace(db: FreshDatabase): Promise<void> {
  const store = await db.open();
  await seed(store);
  const attempt = (machine: string) =>
    store.transaction(async (tx) => {
      const licence = await tx.getLicence('L-1');
      const taken = await tx.listActivations('L-1');
      // A pause between the check and the write, where a store that does not isolate would let others in.
      await new Promise((r) => setTimeout(r, 5));
      if (licence === undefined || taken.length >= licence.seats) return false;
      await tx.addActivation({ licenceId: 'L-1', machineId: machine, activatedAt: 'x' });
      return true;
    });
  // Transactions side by side first, so that a pooled store has its connections open for the race.
  await Promise.all(Array.from({ length: 10 }, () => store.transaction(() => new Promise((r) => setTimeout(r, 10)))));
  const won = await Promise.all(Array.from({ length: 20 }, (_, i) => attempt(`r-${i}`)));
  assert.equal(won.filter(Boolean).length, 1, 'one seat was left');
  assert.equal((await store.transaction((tx) => machines(tx))).length, 2);
  await store.close();
}

async function busy(db: FreshDatabase): Promise<void> {
  const store = await db.open({ maxQueued: 2 });
  await seed(store);
  const gate = deferred();
  const held = [1, 2].map((n) =>
    store.transaction(async (tx) => {
      await gate.promise;
      return (await tx.appendAudit(entry(n + 1))).seq;
    }),
  );
  await assert.rejects(
    store.transaction(async () => 'never'),
    (e: unknown) => isLicenceError(e, 'E_BUSY') && /2 operations are already waiting/.test(e.message),
  );
  gate.resolve();
  assert.deepEqual((await Promise.all(held)).sort(), [2, 3]);
  assert.equal(await store.transaction(async () => 'room again'), 'room again');
  await store.close();
}

async function closing(db: FreshDatabase): Promise<void> {
  const store = await db.open();
  await seed(store);
  const gate = deferred();
  const started = deferred();
  const running = store.transaction(async (tx) => {
    started.resolve();
    await gate.promise;
    await tx.updateLicence('L-1', { customer: 'C-late' });
    return 'done';
  });
  await started.promise;
  let closed = false;
  const close = store.close().then(() => {
    closed = true;
  });
  await assert.rejects(
    store.transaction(async () => 'too late'),
    (e: unknown) => isLicenceError(e, 'E_STORE') && /the store is closed/.test(e.message),
  );
  await new Promise((r) => setTimeout(r, 50));
  assert.equal(closed, false, 'close waits for the running transaction');
  gate.resolve();
  assert.equal(await running, 'done');
  await close;
  const again = await db.open();
  assert.equal((await again.transaction((tx) => tx.getLicence('L-1')))?.customer, 'C-late');
  await again.close();
}
