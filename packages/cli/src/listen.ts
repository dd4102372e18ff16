// Serving a long-running HTTP server from a command: parse --listen HOST:PORT, listen, say where,
// and stop cleanly on SIGTERM or SIGINT.

import type { Server } from 'node:http';
import { usageError } from './args.js';

/** Listens on `listen` (HOST:PORT; port 0 picks one), prints `what` and the URL, and resolves when stopped. */
export async function serveUntilSignal(server: Server, listen: string, what: string): Promise<void> {
  const colon = listen.lastIndexOf(':');
  const port = Number(listen.slice(colon + 1));
  if (colon <= 0 || !Number.isInteger(port) || port < 0 || port > 65535)
    throw usageError(`--listen ${listen}: expected HOST:PORT`);
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(port, listen.slice(0, colon), resolve);
  });
  const addr = server.address();
  const where = typeof addr === 'object' && addr !== null ? `${addr.address}:${addr.port}` : listen;
  process.stdout.write(`${what} on http://${where}\n`);
  await new Promise<void>((resolve) => {
    const stop = () => server.close(() => resolve());
    process.once('SIGTERM', stop);
    process.once('SIGINT', stop);
  });
}
