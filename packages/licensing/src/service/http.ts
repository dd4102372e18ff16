// The licensing service over HTTP (node:http), as a JSON API. Vendor-side routes (products,
// plans, issuing, renewing, transferring, the audit trail) need the admin bearer token; a client
// activates, deactivates, reads its licence and asks for updates with the licence id (the secret
// it was sold) and its machine id. Errors are `{ error: { code, message, ... } }` with a status
// that fits the code; bodies are capped, slow requests cut off. The operations are service.ts's.
import { createHash, timingSafeEqual } from 'node:crypto';
import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import { isCountryCode } from '../countries.js';
import { isLicensingError } from '../errors.js';
import type { RequestContext, SignedLicence } from './answers.js';
import { isLicenceError, LicenceError, type LicenceErrorCode } from './errors.js';
import { SERVICE_LIMITS } from './limits.js';
import type { LicensingService } from './service.js';
import {
  badInput,
  checkCount,
  checkCountry,
  checkDays,
  checkId,
  checkName,
  checkObject,
  checkSeats,
  type Fields,
  required,
} from './validate.js';

/** What a licensing HTTP server is built from. */
export interface LicensingServerOptions {
  readonly service: LicensingService;
  /** The bearer token of the vendor-side routes: at least 16 characters. */
  readonly adminToken: string;
  /** The clock (default the system's): each request is decided at the instant it returns. */
  readonly now?: () => Date;
  /**
   * The country of a request's IP address, e.g. from a header a trusted proxy sets; recorded as a
   * signal in the audit trail, never decided on. Values that are not country codes are ignored.
   */
  readonly ipCountry?: (req: IncomingMessage) => string | undefined;
  /** Cap on request bodies in bytes (default 64 KiB). */
  readonly maxBodyBytes?: number;
  /** Milliseconds a client has to send its whole request (default 10 s). */
  readonly requestTimeoutMs?: number;
  /** Told of unexpected errors (answered 500); default: written to stderr. */
  readonly onError?: (error: unknown) => void;
}

/** The HTTP status of each error code. */
export const HTTP_STATUS: Readonly<Record<LicenceErrorCode, number>> = {
  E_INPUT: 400,
  E_SIGNATURE: 400,
  E_UNKNOWN_KEY: 400,
  E_UNAUTHENTICATED: 401,
  E_FORBIDDEN: 403,
  E_NOT_ACTIVATED: 403,
  E_REVOKED: 403,
  E_NOT_FOUND: 404,
  E_METHOD: 405,
  E_CONFLICT: 409,
  E_SEATS: 409,
  E_EXPIRED: 410,
  E_TOO_LARGE: 413,
  E_DENIED_BY_POLICY: 451,
  E_STORE: 500,
  E_INTERNAL: 500,
  E_BUSY: 503,
};

/** One matched request, as a handler sees it. */
interface Call {
  /** The licence id from the path, when the route has one. */
  readonly id: string;
  readonly query: URLSearchParams;
  body(): Promise<Fields>;
  ctx(actor: string): RequestContext;
}

type Handler = (service: LicensingService, call: Call) => Promise<[status: number, body: unknown]>;

interface Route {
  readonly method: 'GET' | 'POST';
  /** Path segments; `:id` matches one segment, the licence id. */
  readonly path: readonly string[];
  readonly admin: boolean;
  readonly handle: Handler;
}

/** A signed licence as JSON: the licence file goes out as an object, to be saved as JSON. */
const signed = <T extends SignedLicence>(r: T): T & { file: unknown } => ({ ...r, file: JSON.parse(r.file) });

/** A whole number in a query parameter, or undefined when absent. */
function queryInt(query: URLSearchParams, name: string): number | undefined {
  const v = query.get(name);
  if (v === null) return undefined;
  if (!/^\d{1,15}$/.test(v)) badInput(name, `${JSON.stringify(v)} is not a whole number`);
  return Number(v);
}

const ROUTES: readonly Route[] = [
  route('POST', '/products', true, async (s, c) => {
    const b = await c.body();
    const product = { id: checkId(required(b, 'id'), 'id'), name: checkName(required(b, 'name'), 'name') };
    return [201, await s.createProduct(product, c.ctx('admin'))];
  }),
  route('POST', '/plans', true, async (s, c) => {
    const b = await c.body();
    const plan = {
      product: checkId(required(b, 'product'), 'product'),
      name: checkId(required(b, 'name'), 'name'),
      seats: checkSeats(required(b, 'seats')),
      days: checkDays(required(b, 'days')),
    };
    return [201, await s.createPlan(plan, c.ctx('admin'))];
  }),
  route('POST', '/licences', true, async (s, c) => {
    const b = await c.body();
    const request = {
      product: checkId(required(b, 'product'), 'product'),
      plan: checkId(required(b, 'plan'), 'plan'),
      customer: checkId(required(b, 'customer'), 'customer'),
      billingCountry: checkCountry(required(b, 'billingCountry'), 'billingCountry'),
      ...(b.seats === undefined ? {} : { seats: checkSeats(b.seats) }),
      ...(b.days === undefined ? {} : { days: checkDays(b.days) }),
    };
    return [201, signed(await s.issue(request, c.ctx('admin')))];
  }),
  route('GET', '/licences/:id', false, async (s, c) => [200, await s.getLicence(c.id, c.ctx('licence-holder'))]),
  route('POST', '/licences/:id/activate', false, async (s, c) => {
    const machine = checkId(required(await c.body(), 'machineId'), 'machineId');
    return [200, await s.activate(c.id, machine, c.ctx(`machine:${machine}`))];
  }),
  route('POST', '/licences/:id/deactivate', false, async (s, c) => {
    const machine = checkId(required(await c.body(), 'machineId'), 'machineId');
    return [200, await s.deactivate(c.id, machine, c.ctx(`machine:${machine}`))];
  }),
  route('POST', '/licences/:id/renew', true, async (s, c) => {
    const days = checkDays(required(await c.body(), 'days'));
    return [200, signed(await s.renew(c.id, days, c.ctx('admin')))];
  }),
  route('POST', '/licences/:id/transfer', true, async (s, c) => {
    const b = await c.body();
    const to = {
      toCustomer: checkId(required(b, 'toCustomer'), 'toCustomer'),
      billingCountry: checkCountry(required(b, 'billingCountry'), 'billingCountry'),
    };
    return [200, signed(await s.transfer(c.id, to, c.ctx('admin')))];
  }),
  route('GET', '/licences/:id/updates', false, async (s, c) => {
    const machine = checkId(c.query.get('machine') ?? badInput('machine', 'missing query parameter'), 'machine');
    return [200, await s.checkUpdates(c.id, machine, c.ctx(`machine:${machine}`))];
  }),
  route('GET', '/audit', true, async (s, c) => {
    const licence = c.query.get('licence');
    const after = queryInt(c.query, 'after');
    const limit = queryInt(c.query, 'limit');
    const entries = await s.audit({
      ...(licence === null ? {} : { licenceId: licence }),
      ...(after === undefined ? {} : { afterSeq: after }),
      ...(limit === undefined ? {} : { limit: checkCount(limit, 'limit', SERVICE_LIMITS.maxAuditPage) }),
    });
    return [200, { entries }];
  }),
];

function route(method: Route['method'], path: string, admin: boolean, handle: Handler): Route {
  return { method, path: path.split('/').slice(1), admin, handle };
}

/** The routes whose path matches `segments`, with the licence id they hold. */
function match(segments: readonly string[]): { routes: Route[]; id: string } {
  let id = '';
  const routes = ROUTES.filter((r) => {
    if (r.path.length !== segments.length) return false;
    return r.path.every((p, i) => p === ':id' || p === segments[i]);
  });
  const at = routes[0]?.path.indexOf(':id') ?? -1;
  if (at >= 0) {
    try {
      id = decodeURIComponent(segments[at] ?? '');
    } catch {
      badInput('licenceId', 'is not valid percent-encoding');
    }
  }
  return { routes, id };
}

/** Reads a JSON object body of at most `max` bytes; E_TOO_LARGE past it, E_INPUT when not JSON. */
function readJson(req: IncomingMessage, max: number): Promise<Fields> {
  return new Promise((resolve, reject) => {
    const tooLarge = () => new LicenceError('E_TOO_LARGE', `the request body is larger than ${max} bytes`);
    if (Number(req.headers['content-length'] ?? 0) > max) return reject(tooLarge());
    const chunks: Buffer[] = [];
    let size = 0;
    let settled = false;
    const settle = (f: () => void) => {
      if (!settled) {
        settled = true;
        f();
      }
    };
    req.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size > max) settle(() => reject(tooLarge()));
      else if (!settled) chunks.push(chunk);
    });
    const cutOff = () => new LicenceError('E_INPUT', 'body: the request was cut off', { field: 'body' });
    req.on('error', () => settle(() => reject(cutOff())));
    req.on('close', () => settle(() => reject(cutOff())));
    req.on('end', () =>
      settle(() => {
        const text = Buffer.concat(chunks).toString('utf8');
        if (text.trim() === '') return reject(new LicenceError('E_INPUT', 'body: empty, expected a JSON object'));
        try {
          resolve(checkObject(JSON.parse(text), 'body'));
        } catch (e) {
          if (isLicenceError(e)) return reject(e);
          reject(new LicenceError('E_INPUT', `body: not JSON (${(e as Error).message})`, { field: 'body' }));
        }
      }),
    );
  });
}

/** The JSON error body of `e`: its code, message and structured details. */
function errorBody(e: LicenceError): unknown {
  const { policy, ...details } = e.details;
  return {
    error: {
      code: e.code,
      message: e.message,
      ...details,
      ...(policy === undefined
        ? {}
        : {
            action: policy.action,
            jurisdiction: policy.jurisdiction,
            rule: policy.ruleId,
            reason: policy.reason,
            existingInstallations: policy.existingInstallations,
            notices: policy.notices,
          }),
    },
  };
}

function send(res: ServerResponse, status: number, body: unknown, headers: Record<string, string> = {}): void {
  const text = `${JSON.stringify(body)}\n`;
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': String(Buffer.byteLength(text)),
    'cache-control': 'no-store',
    ...headers,
  });
  res.end(text);
}

/** The check of the admin bearer token; the comparison takes the same time whatever the token. */
function bearerCheck(adminToken: string): (req: IncomingMessage) => void {
  if (typeof adminToken !== 'string' || adminToken.length < 16) {
    badInput('adminToken', 'must be at least 16 characters');
  }
  const digest = (s: string) => createHash('sha256').update(s, 'utf8').digest();
  const token = digest(adminToken);
  return (req) => {
    const m = /^Bearer +(\S+) *$/i.exec(req.headers.authorization ?? '');
    if (m === null) throw new LicenceError('E_UNAUTHENTICATED', 'this route needs the admin bearer token');
    if (!timingSafeEqual(digest(m[1] ?? ''), token)) throw new LicenceError('E_FORBIDDEN', 'wrong admin token');
  };
}

/** The path and query of a request target, split by hand: URL parsing would read `//x/y` as a host. */
function target(raw: string): { pathname: string; query: URLSearchParams } {
  const q = raw.indexOf('?');
  return { pathname: q < 0 ? raw : raw.slice(0, q), query: new URLSearchParams(q < 0 ? '' : raw.slice(q + 1)) };
}

/** Answers a failed request: its error with the status of its code; 500 for anything unexpected. */
function sendError(req: IncomingMessage, res: ServerResponse, e: unknown, onError: (e: unknown) => void): void {
  if (res.headersSent) return;
  if (isLicenceError(e)) {
    const headers: Record<string, string> = {};
    if (e.code === 'E_UNAUTHENTICATED') headers['www-authenticate'] = 'Bearer';
    if (e.code === 'E_BUSY') headers['retry-after'] = '1';
    if (!req.complete) {
      // Refused before its body was read (too large, unauthorised…): do not wait for the rest of
      // it; answer, then drop the connection.
      headers.connection = 'close';
      res.once('finish', () => req.destroy());
    }
    if (HTTP_STATUS[e.code] >= 500) onError(e);
    send(res, HTTP_STATUS[e.code], errorBody(e), headers);
  } else if (isLicensingError(e)) {
    send(res, 400, { error: { code: e.code, message: e.message } });
  } else {
    onError(e);
    send(res, 500, { error: { code: 'E_INTERNAL', message: 'internal error' } });
  }
}

/** An HTTP server for `service`; the caller listens on it and closes it. */
export function licensingServer(options: LicensingServerOptions): Server {
  const authorise = bearerCheck(options.adminToken);
  const maxBody = options.maxBodyBytes ?? SERVICE_LIMITS.maxBodyBytes;
  const now = options.now ?? (() => new Date());
  const onError = options.onError ?? ((e: unknown) => process.stderr.write(`licensing server: ${String(e)}\n`));
  const ipCountry = (req: IncomingMessage): string | undefined => {
    const c = options.ipCountry?.(req)?.trim().toUpperCase();
    return c !== undefined && isCountryCode(c) ? c : undefined;
  };

  const handle = async (req: IncomingMessage, res: ServerResponse): Promise<void> => {
    const { pathname, query } = target(req.url ?? '/');
    const { routes, id } = match(pathname.split('/').slice(1));
    const found = routes.find((r) => r.method === req.method);
    if (routes.length === 0) throw new LicenceError('E_NOT_FOUND', `no route ${pathname}`);
    if (found === undefined) {
      const allowed = routes.map((r) => r.method).join(', ');
      res.setHeader('allow', allowed);
      throw new LicenceError('E_METHOD', `${pathname} takes ${allowed}`);
    }
    if (found.admin) authorise(req);
    const ip = ipCountry(req);
    const call: Call = {
      id,
      query,
      body: () => readJson(req, maxBody),
      ctx: (actor) => ({ now: now(), actor, ...(ip === undefined ? {} : { ipCountry: ip }) }),
    };
    const [status, body] = await found.handle(options.service, call);
    send(res, status, body);
  };

  const timeout = options.requestTimeoutMs ?? SERVICE_LIMITS.requestTimeoutMs;
  // Node looks for overdue requests every connectionsCheckingInterval (30 s by default): look
  // often enough that the timeout means what it says.
  const interval = Math.min(Math.max(timeout / 4, 50), 1000);
  const server = createServer(
    { requestTimeout: timeout, headersTimeout: timeout, connectionsCheckingInterval: interval },
    (req, res) => {
      handle(req, res).catch((e: unknown) => sendError(req, res, e, onError));
    },
  );
  // A backstop for connections that go quiet after their request (a client not reading the answer).
  server.timeout = 6 * timeout;
  return server;
}
