// Serves a repository's `public/` directory as static files, as any HTTP server or object store
// could: GET and HEAD only, no directory listings, nothing outside the directory. Optionally a gate
// decides who may download the databases themselves (`targets/`); metadata and the log stay
// public, so every client can still check that everybody is offered the same thing.
import { createReadStream, statSync } from 'node:fs';
import { createServer, type IncomingMessage, type Server } from 'node:http';
import { join, normalize, sep } from 'node:path';

/** Whether a request for a database may be served: undefined, or the refusal to send. */
export type TargetGate = (
  req: IncomingMessage,
) => Promise<{ readonly status: number; readonly message: string } | undefined>;

/** A static file server over `root`; `gate` (if any) guards `targets/`. */
export function staticServer(root: string, gate?: TargetGate): Server {
  const base = normalize(root + sep);
  return createServer((req, res) => {
    const fail = (status: number, message: string) => {
      res.writeHead(status, { 'content-type': 'text/plain; charset=utf-8' });
      res.end(`${message}\n`);
    };
    if (req.method !== 'GET' && req.method !== 'HEAD') return fail(405, 'GET or HEAD only');
    let path: string;
    try {
      path = decodeURIComponent(new URL(req.url ?? '/', 'http://x').pathname);
    } catch {
      return fail(400, 'bad path');
    }
    const file = normalize(join(base, path));
    if (!file.startsWith(base)) return fail(404, 'not found');
    const st = statSync(file, { throwIfNoEntry: false });
    if (st === undefined || !st.isFile()) return fail(404, 'not found');
    const send = () => {
      res.writeHead(200, { 'content-type': 'application/octet-stream', 'content-length': st.size });
      if (req.method === 'HEAD') return res.end();
      createReadStream(file).pipe(res);
    };
    if (gate === undefined || !path.startsWith('/targets/')) return send();
    gate(req).then(
      (refusal) => (refusal === undefined ? send() : fail(refusal.status, refusal.message)),
      (e: unknown) => fail(503, `cannot check the licence: ${(e as Error).message}`),
    );
  });
}

/** The header a client names its licence and machine in: `<licence id> <machine id>`. */
export const LICENCE_HEADER = 'x-vigil-licence';

/**
 * A gate that asks a licensing service (`GET /licences/:id/updates?machine=`) whether the
 * installation named in the request may receive signature updates: 451 with the reason when the
 * regional policy denies it, 403 without a licence or with one the service refuses.
 */
export function licenceGate(serviceUrl: string, timeoutMs = 10_000): TargetGate {
  return async (req) => {
    const [id, machine] = String(req.headers[LICENCE_HEADER] ?? '').split(' ');
    if (!id || !machine)
      return { status: 403, message: `a licence is needed: send ${LICENCE_HEADER}: <licence id> <machine id>` };
    const url = `${serviceUrl.replace(/\/$/, '')}/licences/${encodeURIComponent(id)}/updates?machine=${encodeURIComponent(machine)}`;
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs) });
    const body = (await res.json().catch(() => ({}))) as {
      allowed?: boolean;
      reason?: string;
      error?: { message?: string };
    };
    if (res.status === 200 && body.allowed === true) return undefined;
    if (res.status === 200)
      return { status: 451, message: `signature updates are not available: ${body.reason ?? 'regional policy'}` };
    return { status: 403, message: `the licence was refused: ${body.error?.message ?? `HTTP ${res.status}`}` };
  };
}
