// The daemon's HTTP endpoint (HTTPSocket/HTTPAddr; loopback by default): Prometheus metrics, a
// health check, and a JSON scan for programs that would rather not speak clamd's protocol.
//   GET  /metrics   Prometheus text format
//   GET  /healthz   {"status":"ok","signatures":N,"version":"..."}
//   POST /scan      the body is the file; the answer is a `vigil scan --json` file document
// The body is held like an INSTREAM (memory within the budget, else a spool file) and limited by
// StreamMaxLength: past it the answer is 413 and the connection is closed.
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { Socket } from 'node:net';
import { fileDocument } from '@vigil/node';
import type { ConnectionContext } from './connection.js';

function json(res: ServerResponse, status: number, body: unknown): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, { 'content-type': 'application/json', 'content-length': Buffer.byteLength(text) });
  res.end(text);
}

function scan(ctx: ConnectionContext, req: IncomingMessage, res: ServerResponse): void {
  const max = ctx.config.streamMaxLength;
  const declared = Number(req.headers['content-length'] ?? Number.NaN);
  if (declared > max) {
    ctx.metrics.reject('stream-limit');
    res.setHeader('connection', 'close');
    json(res, 413, { error: `the body is ${declared} bytes; StreamMaxLength is ${max}` });
    req.destroy();
    return;
  }
  const name = new URL(req.url ?? '/', 'http://x').searchParams.get('name') ?? 'stream';
  const sink = ctx.spool.open();
  let failed = false;
  req.on('data', (chunk: Buffer) => {
    if (failed) return;
    if (sink.size + chunk.length > max) {
      failed = true;
      sink.discard();
      ctx.metrics.reject('stream-limit');
      res.setHeader('connection', 'close');
      json(res, 413, { error: `the body passed StreamMaxLength (${max} bytes)` });
      req.destroy();
      return;
    }
    sink.write(chunk);
  });
  req.on('error', () => {
    failed = true;
    sink.discard();
  });
  req.on('end', () => {
    if (failed) return;
    const { job, release } = sink.finish();
    const started = performance.now();
    const key = {};
    ctx.service.running.set(key, { command: 'HTTP-SCAN', since: started });
    ctx.service
      .scanJob({ ...job, name })
      .then(
        (outcome) => {
          const doc = fileDocument(name, outcome);
          if (outcome.status === 'scanned' && outcome.result.verdict === 'infected') {
            for (const d of outcome.result.detections) ctx.log.info(`http(${name}): ${d.name} FOUND`);
          }
          json(res, outcome.status === 'error' ? 500 : 200, doc);
        },
        (e: unknown) => json(res, 500, { error: (e as Error).message }),
      )
      .finally(() => {
        ctx.service.running.delete(key);
        release();
      });
  });
}

export function startHttp(ctx: ConnectionContext, track: (socket: Socket) => void): Server {
  const server = createServer((req, res) => {
    const path = new URL(req.url ?? '/', 'http://x').pathname;
    if (req.method === 'GET' && path === '/metrics') {
      const text = ctx.metrics.render();
      res.writeHead(200, { 'content-type': 'text/plain; version=0.0.4', 'content-length': Buffer.byteLength(text) });
      res.end(text);
    } else if (req.method === 'GET' && path === '/healthz') {
      const db = ctx.service.database;
      json(res, 200, { status: 'ok', signatures: db.info.total, version: ctx.controls.version() });
    } else if (path === '/scan') {
      if (req.method === 'POST') scan(ctx, req, res);
      else json(res, 405, { error: 'POST the file to scan as the body' });
    } else {
      json(res, 404, { error: `no such endpoint: ${req.method} ${path}` });
    }
  });
  server.requestTimeout = ctx.config.readTimeout;
  server.headersTimeout = Math.min(ctx.config.commandReadTimeout || 60_000, ctx.config.readTimeout || 60_000);
  server.on('connection', track);
  return server;
}
