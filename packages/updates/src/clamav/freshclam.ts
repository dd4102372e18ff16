// What freshclam does, for ClamAV's own databases: find each database's current version (a DNS
// TXT record, or the header of the .cvd on the mirror), fetch the CDIFFs from the local version on
// (each signature-checked and applied in memory), or the whole .cvd when that fails, check
// ClamAV's signature and the .info list, and write the result atomically (.cvd, or .cld for a
// patched one). A mirror that answers 403 or 429 is left alone for as long as it asks (24 hours
// for a 403 without Retry-After), remembered across runs. A mirror is a base URL holding
// `<db>.cvd` and `<db>-<version>.cdiff` (the official mirrors' and cvdupdate's layout).
import { existsSync, readFileSync, rmSync } from 'node:fs';
import { join } from 'node:path';
import { CLAMAV_CDIFF_KEY, CLAMAV_KEY, type CvdMember, type DsigKey, openCvd, parseCvdHeader } from '@vigil/engine';
import { nodeEnv } from '@vigil/node';
import { UpdateError } from '../errors.js';
import { writeAtomically } from '../files.js';
import { readBounded, request } from '../http.js';
import { applyCdiff, type DatabaseFiles, openCdiff } from './cdiff.js';

export interface FreshclamOptions {
  /** Where the databases live (as clamd's DatabaseDirectory). */
  readonly databaseDir: string;
  /** Mirrors' base URLs, tried in order. */
  readonly mirrors: readonly string[];
  /** The databases to keep current (default main, daily, bytecode). */
  readonly databases?: readonly string[];
  /** Versions from a DNS TXT record (as current.cvd.clamav.net), instead of each .cvd's header. */
  readonly resolveTxt?: () => Promise<string>;
  /** The keys .cvd and .cdiff files are checked with (ClamAV's by default; tests give their own). */
  readonly cvdKey?: DsigKey;
  readonly cdiffKey?: DsigKey;
  readonly timeoutMs?: number;
  readonly now?: () => Date;
}

export interface DatabaseResult {
  readonly database: string;
  readonly status: 'updated' | 'current';
  readonly from?: number;
  readonly to: number;
  readonly via?: 'cdiff' | 'cvd';
}

const MAX_CVD = 1 << 30;
const MAX_CDIFF = 64 << 20;
const MAX_CDIFFS = 100;

const stateFile = (dir: string) => join(dir, 'vigil-freshclam.json');

interface State {
  readonly backoff?: Record<string, { until: string; why: string }>;
}

function readState(dir: string): State {
  try {
    return JSON.parse(readFileSync(stateFile(dir), 'utf8')) as State;
  } catch {
    return {};
  }
}

/** Brings each database up to the mirrors' version; returns what was done. */
export async function freshclam(o: FreshclamOptions): Promise<DatabaseResult[]> {
  const now = o.now ?? (() => new Date());
  const state = readState(o.databaseDir);
  const usable = o.mirrors.filter((m) => {
    const b = state.backoff?.[m];
    return b === undefined || new Date(b.until) <= now();
  });
  if (usable.length === 0) {
    const until = o.mirrors
      .map((m) => `${m} until ${state.backoff?.[m]?.until} (${state.backoff?.[m]?.why})`)
      .join('; ');
    throw new UpdateError('E_DENIED', `every mirror asked to be left alone: ${until}`);
  }
  const dns = o.resolveTxt === undefined ? undefined : dnsVersions(await o.resolveTxt());
  const results: DatabaseResult[] = [];
  const failures: string[] = [];
  for (const database of o.databases ?? ['main', 'daily', 'bytecode']) {
    let done: DatabaseResult | undefined;
    for (const mirror of usable) {
      try {
        done = await updateOne(database, mirror.replace(/\/$/, ''), o, dns?.[database]);
        break;
      } catch (e) {
        if (e instanceof BackOff) {
          const backoff = {
            ...readState(o.databaseDir).backoff,
            [mirror]: { until: e.until.toISOString(), why: e.message },
          };
          writeAtomically(stateFile(o.databaseDir), `${JSON.stringify({ backoff }, null, 2)}\n`);
        }
        failures.push(`${database} from ${mirror}: ${(e as Error).message}`);
      }
    }
    if (done === undefined) throw new UpdateError('E_IO', `could not update ${database}: ${failures.join('; ')}`);
    results.push(done);
  }
  return results;
}

/** The versions in a TXT record `clamav:main:daily:time:?:?:safebrowsing:bytecode`. */
export function dnsVersions(txt: string): Record<string, number> {
  const f = txt.split(':');
  const num = (i: number, name: string) => {
    const v = Number(f[i]);
    if (!Number.isSafeInteger(v) || v <= 0)
      throw new UpdateError('E_FORMAT', `the DNS record ${JSON.stringify(txt)} has no ${name} version`);
    return v;
  };
  return { main: num(1, 'main'), daily: num(2, 'daily'), bytecode: num(7, 'bytecode') };
}

class BackOff extends Error {
  constructor(
    message: string,
    readonly until: Date,
  ) {
    super(message);
  }
}

async function get(url: string, o: FreshclamOptions, limit: number, range?: string): Promise<Buffer | undefined> {
  const res = await request(url, range === undefined ? {} : { headers: { range } }, o.timeoutMs ?? 30_000);
  if (res.status === 403 || res.status === 429) {
    const after = res.headers.get('retry-after');
    const seconds =
      after === null
        ? res.status === 403
          ? 86_400
          : 3600
        : Number.isNaN(Number(after))
          ? (Date.parse(after) - Date.now()) / 1000
          : Number(after);
    const until = new Date((o.now?.() ?? new Date()).getTime() + Math.max(60, seconds) * 1000);
    throw new BackOff(`HTTP ${res.status} from ${url}: left alone until ${until.toISOString()}`, until);
  }
  if (res.status === 404) return undefined;
  if (!res.ok) throw new UpdateError('E_IO', `${url}: HTTP ${res.status}`);
  // A mirror that ignores the range sends the whole file: only its beginning is read.
  return readBounded(res, limit, url, range !== undefined);
}

/** The version of the database installed in the directory, and its files. */
function installed(
  dir: string,
  database: string,
  key: DsigKey,
): { version: number; files: DatabaseFiles; path: string } | undefined {
  for (const ext of ['cld', 'cvd'] as const) {
    const path = join(dir, `${database}.${ext}`);
    if (!existsSync(path)) continue;
    const cvd = openCvd(readFileSync(path), ext, nodeEnv, key);
    return { version: cvd.header.version, files: membersToFiles(cvd.members), path };
  }
  return undefined;
}

const membersToFiles = (members: readonly CvdMember[]): DatabaseFiles =>
  new Map(members.map((m) => [m.name, Buffer.from(m.bytes).toString('latin1')]));

async function updateOne(
  database: string,
  base: string,
  o: FreshclamOptions,
  dnsVersion: number | undefined,
): Promise<DatabaseResult> {
  const have = installed(o.databaseDir, database, o.cvdKey ?? CLAMAV_KEY);
  const remote = dnsVersion ?? (await remoteVersion(`${base}/${database}.cvd`, o));
  if (have !== undefined && have.version >= remote) return { database, status: 'current', to: have.version };
  if (have !== undefined && remote - have.version <= MAX_CDIFFS) {
    // A CDIFF that is missing, unsigned or does not fit is not an error: the whole .cvd follows.
    const patched = await viaCdiffs(database, base, o, have, remote).catch(() => undefined);
    if (patched !== undefined) return patched;
  }
  const url = `${base}/${database}.cvd`;
  const bytes = await get(url, o, MAX_CVD);
  if (bytes === undefined) throw new UpdateError('E_IO', `${url}: not found`);
  const cvd = openCvd(bytes, 'cvd', nodeEnv, o.cvdKey ?? CLAMAV_KEY);
  if (cvd.header.version < remote)
    throw new UpdateError('E_IO', `${url} is version ${cvd.header.version}, older than the ${remote} announced`);
  writeAtomically(join(o.databaseDir, `${database}.cvd`), bytes);
  rmSync(join(o.databaseDir, `${database}.cld`), { force: true });
  return {
    database,
    status: 'updated',
    ...(have === undefined ? {} : { from: have.version }),
    to: cvd.header.version,
    via: 'cvd',
  };
}

async function remoteVersion(url: string, o: FreshclamOptions): Promise<number> {
  const head = await get(url, o, 512, 'bytes=0-511');
  if (head === undefined) throw new UpdateError('E_IO', `${url}: not found`);
  return parseCvdHeader(head.subarray(0, 512)).version;
}

/** Applies each CDIFF from the installed version to `remote`, then writes a .cld. */
async function viaCdiffs(
  database: string,
  base: string,
  o: FreshclamOptions,
  have: { version: number; files: DatabaseFiles; path: string },
  remote: number,
): Promise<DatabaseResult> {
  let files = have.files;
  for (let v = have.version + 1; v <= remote; v++) {
    const name = `${database}-${v}.cdiff`;
    const bytes = await get(`${base}/${name}`, o, MAX_CDIFF);
    if (bytes === undefined) throw new UpdateError('E_IO', `${name}: not on the mirror`);
    const { version, script } = openCdiff(bytes, o.cdiffKey ?? CLAMAV_CDIFF_KEY, name);
    if (version !== v) throw new UpdateError('E_FORMAT', `${name} says it is version ${version}`);
    files = applyCdiff(files, script, name);
  }
  const cld = buildCld(remote, files);
  openCvd(cld, 'cld', nodeEnv); // the .info list must still hold for every patched file
  writeAtomically(join(o.databaseDir, `${database}.cld`), cld);
  rmSync(join(o.databaseDir, `${database}.cvd`), { force: true });
  return { database, status: 'updated', from: have.version, to: remote, via: 'cdiff' };
}

/** A .cld: a header naming the version, then a plain tar of the files. */
export function buildCld(version: number, files: DatabaseFiles): Uint8Array {
  const signatures = [...files.values()].reduce((n, t) => n + t.split('\n').filter((l) => l !== '').length, 0);
  const header = `ClamAV-VDB:${buildTime(new Date())}:${version}:${signatures}:0:X:X:vigil:0`;
  return Buffer.concat([Buffer.from(header.padEnd(512, ' '), 'latin1'), tar(files)]);
}

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A header's build time as ClamAV writes it: `29 Nov 2026 12-00 +0000` (no colons). */
function buildTime(d: Date): string {
  const two = (n: number) => String(n).padStart(2, '0');
  return `${two(d.getUTCDate())} ${MONTHS[d.getUTCMonth()]} ${d.getUTCFullYear()} ${two(d.getUTCHours())}-${two(d.getUTCMinutes())} +0000`;
}

/** A ustar archive of `files`. */
export function tar(files: DatabaseFiles): Buffer {
  const parts: Buffer[] = [];
  for (const [name, text] of files) {
    const body = Buffer.from(text, 'latin1');
    const h = Buffer.alloc(512);
    h.write(name, 0, 100, 'latin1');
    h.write('0000644\0', 100, 'latin1');
    h.write('0000000\0', 108, 'latin1');
    h.write('0000000\0', 116, 'latin1');
    h.write(`${body.length.toString(8).padStart(11, '0')}\0`, 124, 'latin1');
    h.write(
      `${Math.floor(Date.now() / 1000)
        .toString(8)
        .padStart(11, '0')}\0`,
      136,
      'latin1',
    );
    h.write('        ', 148, 'latin1');
    h.write('0', 156, 'latin1');
    h.write('ustar\0' + '00', 257, 'latin1');
    let sum = 0;
    for (const b of h) sum += b;
    h.write(`${sum.toString(8).padStart(6, '0')}\0 `, 148, 'latin1');
    parts.push(h, body, Buffer.alloc((512 - (body.length % 512)) % 512));
  }
  parts.push(Buffer.alloc(1024));
  return Buffer.concat(parts);
}
