// The witness over HTTP (c2sp.org/tlog-witness): POST <prefix>/add-checkpoint, and the client side
// that logs use to ask for a cosignature, with a deadline and a bounded reply.
import { createServer, type Server } from 'node:http';
import { UpdateError } from './errors.js';
import { readBounded, request as send } from './http.js';
import { MAX_NOTE_BYTES } from './note.js';
import { formatAddCheckpoint, type Witness } from './witness.js';

/** A request larger than a note and a full proof is refused unread. */
const MAX_REQUEST_BYTES = MAX_NOTE_BYTES + 4096;
/** A client that has not sent its request within this many milliseconds is cut off. */
const REQUEST_TIMEOUT_MS = 10_000;

/** An HTTP server for `witness`; the caller listens on it. */
export function witnessServer(witness: Witness, prefix = ''): Server {
  const server = createServer((req, res) => {
    const reply = (status: number, body: string, type = 'text/plain; charset=utf-8') => {
      res.writeHead(status, { 'content-type': type, 'content-length': Buffer.byteLength(body) });
      res.end(body);
    };
    if (req.url !== `${prefix}/add-checkpoint`) return reply(404, 'not found\n');
    if (req.method !== 'POST') return reply(405, 'add-checkpoint takes POST\n');
    const chunks: Buffer[] = [];
    let size = 0;
    req.on('data', (c: Buffer) => {
      size += c.length;
      if (size > MAX_REQUEST_BYTES) {
        reply(413, `the request is larger than ${MAX_REQUEST_BYTES} bytes\n`);
        req.destroy();
        return;
      }
      chunks.push(c);
    });
    req.on('end', () => {
      if (res.headersSent) return;
      witness.addCheckpoint(Buffer.concat(chunks).toString('utf8')).then(
        (r) => reply(r.status, r.body, r.contentType),
        (e: unknown) => reply(500, `the witness could not record the checkpoint: ${(e as Error).message}\n`),
      );
    });
  });
  server.requestTimeout = REQUEST_TIMEOUT_MS;
  server.headersTimeout = REQUEST_TIMEOUT_MS;
  return server;
}

/** What a witness answered, classified as the protocol defines its statuses. */
export type CosignResult =
  | { readonly kind: 'cosigned'; readonly lines: readonly string[] }
  | { readonly kind: 'conflict'; readonly size: number }
  | { readonly kind: 'refused'; readonly status: number; readonly message: string };

/** Asks the witness at `url` (its submission prefix) to cosign `checkpoint`. */
export async function requestCosignature(
  url: string,
  request: { readonly oldSize: number; readonly proof: readonly Uint8Array[]; readonly checkpoint: string },
  timeoutMs = 10_000,
): Promise<CosignResult> {
  const res = await send(
    `${url.replace(/\/$/, '')}/add-checkpoint`,
    { method: 'POST', body: formatAddCheckpoint(request.oldSize, request.proof, request.checkpoint) },
    timeoutMs,
    `witness ${url} did not answer`,
  );
  const body = (await readBounded(res, 1 << 16, `witness ${url}`)).toString('utf8');
  if (res.status === 200) return { kind: 'cosigned', lines: body.split('\n').filter((l) => l.length > 0) };
  if (res.status === 409 && res.headers.get('content-type') === 'text/x.tlog.size') {
    const size = Number(body.trim());
    if (!Number.isSafeInteger(size) || size < 0)
      throw new UpdateError('E_FORMAT', `witness ${url}: bad size ${body.trim()}`);
    return { kind: 'conflict', size };
  }
  return { kind: 'refused', status: res.status, message: body.trim() };
}
