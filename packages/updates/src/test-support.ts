// Helpers for this package's tests: servers on loopback ports, closed when the tests end.
import type { Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { after } from 'node:test';
import { COSIGNATURE_V1, generateSigner, type Verifier } from './note.js';
import { Witness } from './witness.js';
import { witnessServer } from './witness-http.js';

const servers: Server[] = [];
// Registered when this module loads, so it runs when the file's tests end (an `after` called from a
// `before` hook would run right after that hook).
after(() => {
  for (const s of servers) {
    s.closeAllConnections();
    s.close();
  }
});

/** Listens on a free loopback port and returns the base URL. */
export async function listen(server: Server): Promise<string> {
  await new Promise<void>((resolve) => server.listen(0, '127.0.0.1', resolve));
  servers.push(server);
  return `http://127.0.0.1:${(server.address() as AddressInfo).port}`;
}

/** A witness for the log `origin` signed by `logKey`, serving on loopback. */
export async function startWitness(origin: string, logKey: Verifier, dir: string, name: string) {
  const key = generateSigner(name, COSIGNATURE_V1);
  const witness = new Witness({ key, logs: new Map([[origin, [logKey]]]), dir });
  const url = await listen(witnessServer(witness));
  return { witness, key, url, dir };
}
