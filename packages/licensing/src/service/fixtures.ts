// Helpers shared by the service's tests: a temporary directory, a service on a fresh SQLite file
// (with or without the 2024 U.S. policy), an HTTP server on a loopback port, and a JSON client.
// Not part of the public API.
import { readFileSync } from 'node:fs';
import { mkdtemp, rm } from 'node:fs/promises';
import type { Server } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parsePolicy } from '../policy.js';
import { licensingServer } from './http.js';
import { generateLicenceKeys, type LicenceKeys } from './licence-file.js';
import { LicensingService } from './service.js';
import { SqliteLicenceStore } from './sqlite-store.js';

/** The admin token of test servers. */
export const TOKEN = 'test-admin-token-0123456789';

/** The 2024 U.S. policy of src/testdata. */
export function us2024() {
  const url = new URL('../../src/testdata/us-2024.json', import.meta.url);
  return parsePolicy(readFileSync(url, 'utf8'), 'us-2024.json');
}

/** A new temporary directory and its removal. */
export async function tempDir(): Promise<{ dir: string; remove: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), 'vigil-licensing-'));
  return { dir, remove: () => rm(dir, { recursive: true, force: true }) };
}

/** A service on a fresh database in a temporary directory, with product `vigil` and plan `pro`. */
export async function testService(
  options: { policy?: boolean; seats?: number; days?: number; at?: Date } = {},
): Promise<{
  service: LicensingService;
  store: SqliteLicenceStore;
  keys: LicenceKeys;
  dir: string;
  dbPath: string;
  done: () => Promise<void>;
}> {
  const { dir, remove } = await tempDir();
  const dbPath = join(dir, 'licences.db');
  const store = await SqliteLicenceStore.open(dbPath);
  const keys = generateLicenceKeys();
  const service = new LicensingService({
    store,
    signingKey: keys.privateKey,
    ...(options.policy === true ? { policy: us2024() } : {}),
  });
  const ctx = { now: options.at ?? new Date('2024-06-01T00:00:00Z'), actor: 'test' };
  await service.createProduct({ id: 'vigil', name: 'Vigil Antivirus' }, ctx);
  await service.createPlan(
    { product: 'vigil', name: 'pro', seats: options.seats ?? 3, days: options.days ?? 365 },
    ctx,
  );
  const done = async () => {
    await store.close();
    await remove();
  };
  return { service, store, keys, dir, dbPath, done };
}

/** Listens on a loopback port; returns the base URL and a close that also drops idle connections. */
export async function serve(server: Server): Promise<{ url: string; close: () => Promise<void> }> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  const address = server.address();
  if (address === null || typeof address === 'string') throw new Error('no port');
  const close = () =>
    new Promise<void>((resolve) => {
      server.close(() => resolve());
      server.closeAllConnections();
    });
  return { url: `http://127.0.0.1:${address.port}`, close };
}

/** A licensing server for `service` with the test token and a clock the test controls. */
export async function testServer(service: LicensingService, clock: { now: Date }) {
  return serve(licensingServer({ service, adminToken: TOKEN, now: () => clock.now, onError: () => undefined }));
}

/** What a JSON request answered. */
export interface Reply {
  readonly status: number;
  // biome-ignore lint/suspicious/noExplicitAny: test replies are probed field by field
  readonly body: any;
}

/** Sends `body` (JSON-encoded unless a string) and reads the JSON answer. */
export async function call(
  url: string,
  init: { method?: string; body?: unknown; token?: string | null } = {},
): Promise<Reply> {
  const token = init.token === undefined ? TOKEN : init.token;
  const res = await fetch(url, {
    method: init.method ?? (init.body === undefined ? 'GET' : 'POST'),
    headers: token === null ? {} : { authorization: `Bearer ${token}` },
    ...(init.body === undefined ? {} : { body: typeof init.body === 'string' ? init.body : JSON.stringify(init.body) }),
  });
  const text = await res.text();
  return { status: res.status, body: text === '' ? undefined : JSON.parse(text) };
}
