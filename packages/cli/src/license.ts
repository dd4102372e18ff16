// `vigil license` (offline licence files: `keygen` makes the vendor's signing key pair, `issue`
// signs a licence, `verify` checks one against public keys) and `vigil license-server` (the
// licensing service over HTTP, stored in one SQLite file or, given a postgres:// URL, in a
// PostgreSQL database several servers can share; enforcing an optional regional policy). The
// licensing package is loaded only here.
import { randomUUID } from 'node:crypto';
import { existsSync, mkdirSync, readFileSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import { dateOption, helpText, type OptionSpec, parseArgs, usageError } from './args.js';
import { serveUntilSignal } from './listen.js';

const LICENSE_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  { name: 'out', short: 'o', kind: 'string', help: 'keygen: directory for the keys; issue: file (default stdout)' },
  { name: 'key', kind: 'list', help: 'issue: the private key PEM; verify: a trusted public key PEM (repeatable)' },
  { name: 'customer', kind: 'string', help: "issue: the customer's id" },
  { name: 'country', kind: 'string', help: "issue: the customer's billing country (ISO 3166-1 alpha-2)" },
  { name: 'seats', kind: 'count', help: 'issue: machines that may be activated at once' },
  { name: 'days', kind: 'count', help: 'issue: days the licence is valid from now' },
  { name: 'product', kind: 'string', help: 'issue: the product (default vigil)' },
  { name: 'plan', kind: 'string', help: 'issue: the plan (default standard)' },
  { name: 'policy', kind: 'string', help: 'issue: refuse when this regional policy denies the sale' },
  { name: 'at', kind: 'string', help: 'issue/verify: the instant to act at (ISO 8601; default now)' },
];

const LICENSE_USAGE = `Usage: vigil license keygen --out DIR
       vigil license issue --key private.pem --customer ID --country CC --seats N --days N
                           [--product P] [--plan P] [--policy policy.json] [-o FILE]
       vigil license verify FILE --key public.pem [--key public.pem]... [--at ISO]`;

const SERVER_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  {
    name: 'db',
    kind: 'string',
    help: 'The SQLite database file (created when missing), or a postgres:// or postgresql:// URL',
  },
  { name: 'key', kind: 'string', help: 'The private key PEM that signs licence files' },
  { name: 'token', kind: 'string', help: 'The admin bearer token (at least 16 characters)' },
  { name: 'token-file', kind: 'string', help: 'A file holding the admin token (keeps it out of ps)' },
  { name: 'policy', kind: 'string', help: 'The regional availability policy JSON' },
  { name: 'ip-country-header', kind: 'string', help: "A header a trusted proxy sets to the client's country" },
  { name: 'listen', kind: 'string', help: 'host:port (default 127.0.0.1:7390)' },
];

const SERVER_USAGE = `Usage: vigil license-server --db FILE|URL --key private.pem (--token TOKEN | --token-file FILE)
                            [--policy policy.json] [--ip-country-header NAME] [--listen HOST:PORT]`;

const PRIVATE_FILE = 'licence-private.pem';
const PUBLIC_FILE = 'licence-public.pem';

function need(values: ReadonlyMap<string, unknown>, names: readonly string[], what: string, usage: string): void {
  const missing = names.filter((n) => !values.has(n));
  if (missing.length > 0) throw usageError(`${what} needs ${missing.map((n) => `--${n}`).join(', ')}\n${usage}`);
}

type Licensing = typeof import('@vigil/licensing/service/index');

/** The store `--db` names: PostgreSQL for a postgres:// URL, else a SQLite file; and how to name it. */
async function openStore(service: Licensing, db: string) {
  if (service.isPostgresUrl(db)) {
    const store = await service.PostgresLicenceStore.open(db);
    return { store, where: store.database };
  }
  const store = await service.SqliteLicenceStore.open(db);
  return { store, where: store.path };
}

function keygen(service: Licensing, dir: string): number {
  const privatePath = join(dir, PRIVATE_FILE);
  const publicPath = join(dir, PUBLIC_FILE);
  for (const p of [privatePath, publicPath]) {
    if (existsSync(p)) throw usageError(`${p} exists: a licence key is never overwritten`);
  }
  mkdirSync(dir, { recursive: true, mode: 0o700 });
  const keys = service.generateLicenceKeys();
  writeFileSync(privatePath, keys.privatePem, { mode: 0o600, flag: 'wx' });
  writeFileSync(publicPath, keys.publicPem, { mode: 0o644, flag: 'wx' });
  process.stdout.write(`key ${keys.keyId}\n  private: ${privatePath} (keep it secret)\n  public:  ${publicPath}\n`);
  return 0;
}

async function issue(service: Licensing, values: ReadonlyMap<string, unknown>): Promise<number> {
  need(values, ['key', 'customer', 'country', 'seats', 'days'], 'issue', LICENSE_USAGE);
  const keyFiles = values.get('key') as readonly string[];
  if (keyFiles.length !== 1) throw usageError('issue takes one --key: the private key');
  const now = dateOption(values.get('at'), '--at', new Date());
  const customer = String(values.get('customer'));
  const billingCountry = String(values.get('country'));
  const policyFile = values.get('policy') as string | undefined;
  if (policyFile !== undefined) {
    const licensing = await import('@vigil/licensing');
    const policy = licensing.parsePolicy(readFileSync(policyFile, 'utf8'), policyFile);
    const d = licensing.decide(policy, { action: 'new-sale', at: now, customer: { id: customer, billingCountry } });
    if (!d.allowed) {
      process.stderr.write(`REFUSED: new sales are denied in ${billingCountry} (rule ${d.rule?.id}): ${d.reason}\n`);
      return 1;
    }
  }
  const days = values.get('days') as number;
  const file = service.issueLicenceFile(
    {
      id: `L-${randomUUID().replaceAll('-', '')}`,
      product: (values.get('product') as string | undefined) ?? 'vigil',
      plan: (values.get('plan') as string | undefined) ?? 'standard',
      customer,
      billingCountry,
      seats: values.get('seats') as number,
      issuedAt: now.toISOString(),
      expiresAt: new Date(now.getTime() + days * 86_400_000).toISOString(),
    },
    readFileSync(keyFiles[0] as string, 'utf8'),
  );
  const out = values.get('out') as string | undefined;
  if (out === undefined) process.stdout.write(file);
  else writeFileSync(out, file, { flag: 'wx' });
  return 0;
}

function verify(service: Licensing, file: string, values: ReadonlyMap<string, unknown>): number {
  need(values, ['key'], 'verify', LICENSE_USAGE);
  // Unreadable files and bad keys are errors (exit 2); only the licence itself is judged (exit 1).
  const keys = (values.get('key') as readonly string[]).map((k) => service.publicKeyFrom(readFileSync(k, 'utf8')));
  const text = readFileSync(file, 'utf8');
  try {
    const l = service.verifyLicenceFile(text, keys, dateOption(values.get('at'), '--at', new Date()));
    process.stdout.write(
      `${file}: valid: licence ${l.id} of ${l.product}/${l.plan} for ${l.customer} (${l.billingCountry}), ` +
        `${l.seats} seat(s), expires ${l.expiresAt}\n`,
    );
    return 0;
  } catch (e) {
    if (!service.isLicenceError(e)) throw e;
    process.stderr.write(`${file}: INVALID (${e.code}): ${e.message}\n`);
    return 1;
  }
}

/** `vigil license keygen|issue|verify ...`; returns the exit code. */
export async function runLicense(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, LICENSE_OPTIONS);
  if (values.get('help') === true || positionals.length === 0) {
    process.stdout.write(helpText(LICENSE_USAGE, LICENSE_OPTIONS));
    return values.get('help') === true ? 0 : 2;
  }
  const service = await import('@vigil/licensing/service/index');
  const [sub, ...rest] = positionals;
  if (sub === 'keygen' && rest.length === 0) {
    need(values, ['out'], 'keygen', LICENSE_USAGE);
    return keygen(service, values.get('out') as string);
  }
  if (sub === 'issue' && rest.length === 0) return issue(service, values);
  if (sub === 'verify' && rest.length === 1) return verify(service, rest[0] as string, values);
  throw usageError(`unknown license command '${positionals.join(' ')}'\n${LICENSE_USAGE}`);
}

/** `vigil license-server ...`: serves until SIGTERM or SIGINT; returns the exit code. */
export async function runLicenseServer(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, SERVER_OPTIONS);
  if (values.get('help') === true) {
    process.stdout.write(helpText(SERVER_USAGE, SERVER_OPTIONS));
    return 0;
  }
  if (positionals.length > 0) throw usageError(`license-server takes no arguments\n${SERVER_USAGE}`);
  need(values, ['db', 'key'], 'license-server', SERVER_USAGE);
  const tokenFile = values.get('token-file') as string | undefined;
  const token =
    tokenFile === undefined ? (values.get('token') as string | undefined) : readFileSync(tokenFile, 'utf8').trim();
  if (token === undefined) throw usageError(`license-server needs --token or --token-file\n${SERVER_USAGE}`);
  const licensing = await import('@vigil/licensing');
  const service = await import('@vigil/licensing/service/index');
  const policyFile = values.get('policy') as string | undefined;
  const policy =
    policyFile === undefined ? undefined : licensing.parsePolicy(readFileSync(policyFile, 'utf8'), policyFile);
  const signingKey = service.privateKeyFrom(readFileSync(values.get('key') as string, 'utf8'));
  const header = (values.get('ip-country-header') as string | undefined)?.toLowerCase();
  const { store, where } = await openStore(service, values.get('db') as string);
  try {
    const licensingService = new service.LicensingService({
      store,
      signingKey,
      ...(policy === undefined ? {} : { policy }),
    });
    const server = service.licensingServer({
      service: licensingService,
      adminToken: token,
      ...(header === undefined ? {} : { ipCountry: (req) => [req.headers[header]].flat()[0] }),
    });
    const what = `licensing service (key ${service.licenceKeyId(signingKey)}, ${where}${
      policy === undefined ? '' : `, policy version ${policy.version}`
    }), listening`;
    await serveUntilSignal(server, (values.get('listen') as string | undefined) ?? '127.0.0.1:7390', what);
  } finally {
    await store.close();
  }
  return 0;
}
