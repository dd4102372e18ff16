// The update client: TUF (tuf-js) decides which database is genuine and current; the transparency
// log decides that it is the one everybody gets. Only then is the file downloaded (its length and
// hash checked), test-loaded, and switched in, with the previous database kept as the last known
// good one. Any failure leaves the database in use as it was, and says why.
import { createHash, randomBytes } from 'node:crypto';
import { copyFileSync, cpSync, existsSync, mkdirSync, readdirSync, readFileSync, renameSync, rmSync } from 'node:fs';
import { basename, dirname, join } from 'node:path';
import type { TargetFile } from '@tufjs/models';
import { BaseFetcher, Updater } from 'tuf-js';
import { DownloadError, DownloadHTTPError } from 'tuf-js/dist/error.js';
import { parseCheckpointText } from '../checkpoint.js';
import { applyDelta } from '../delta.js';
import { UpdateError } from '../errors.js';
import { writeAtomically } from '../files.js';
import { readBounded, request } from '../http.js';
import { consistencyProof, HASH_SIZE, hashLeaf, inclusionProof } from '../merkle.js';
import { parseNote, parseVerifier } from '../note.js';
import { LICENCE_HEADER } from '../serve.js';
import { type LogPolicy, verifyLoggedEntry } from '../verify.js';
import { type ClientTrust, deltaOf, releaseEntry, releaseOf } from './repository.js';

export interface UpdateOptions {
  /** The client's state: `tuf/` (trusted metadata, root.json first), the database and its log checkpoint. */
  readonly dir: string;
  /** Mirrors' base URLs (each serving a repository's `public/`), tried in order. */
  readonly mirrors: readonly string[];
  /** The channel to follow, e.g. `daily`: the client takes its newest release offered to its cohort. */
  readonly channel: string;
  readonly log: LogPolicy;
  /** Throws when the downloaded file is not a usable database. */
  readonly testLoad: (path: string) => void | Promise<void>;
  /** Milliseconds per request (default 15 s). */
  readonly timeoutMs?: number;
  /** The installation's licence, sent with each download when the update service asks for one. */
  readonly licence?: { readonly id: string; readonly machine: string };
}

export interface UpdateResult {
  /**
   * `restored`: the previous database is back in use (the one in use was halted, or a halt was
   * lifted). `kept`: no release is offered to this client now (all halted, or not yet rolled out
   * to it), and the database in use stays.
   */
  readonly status: 'updated' | 'current' | 'restored' | 'kept';
  readonly targetsVersion: number;
  /** The release in use; undefined when `kept` (which release that is, the client does not know). */
  readonly release?: number;
  /** The database file in use. */
  readonly path: string;
  /** Mirrors that failed before one worked, with why. */
  readonly skipped: readonly { mirror: string; why: string }[];
  /** How an `updated` database came: a delta applied to the one in use, or the whole file. */
  readonly via?: 'delta' | 'full';
  /** Bytes of database downloaded (the delta's, or the whole file's). */
  readonly downloaded?: number;
  /** Why a delta offered was not used (the whole file was downloaded instead). */
  readonly deltaRefused?: string;
}

/** Where the database in use, and the one before it, live. */
export const databasePath = (dir: string, channel: string) => join(dir, `${channel}.db`);
export const previousPath = (dir: string, channel: string) => join(dir, `${channel}.db.previous`);

/**
 * The client's cohort, from 0 (inclusive) to 100: a hash of its identity and the channel, so
 * releases reach clients in a stable order and each client's turn is the same on every check.
 */
export function cohort(clientId: string, channel: string): number {
  const h = createHash('sha256').update(`${clientId}\n${channel}`).digest();
  return (h.readUInt32BE(0) / 2 ** 32) * 100;
}

/** The client's random identity, made once and kept in its state directory. */
export function clientId(dir: string): string {
  const file = join(dir, 'client-id');
  if (!existsSync(file)) writeAtomically(file, `${randomBytes(16).toString('hex')}\n`);
  return readFileSync(file, 'utf8').trim();
}

/** Reads a trust file (see `ClientTrust`) into the log policy and mirrors it names. */
export function readTrust(path: string): { policy: LogPolicy; mirrors: readonly string[] } {
  let t: ClientTrust;
  try {
    t = JSON.parse(readFileSync(path, 'utf8')) as ClientTrust;
  } catch (e) {
    throw new UpdateError('E_FORMAT', `cannot read the trust file ${path}: ${(e as Error).message}`, { cause: e });
  }
  const list = (v: unknown, field: string): string[] => {
    if (!Array.isArray(v) || v.some((x) => typeof x !== 'string'))
      throw new UpdateError('E_FORMAT', `${path}: ${field} must be a list of strings`);
    return v as string[];
  };
  if (typeof t.origin !== 'string') throw new UpdateError('E_FORMAT', `${path}: origin must be a string`);
  const witnesses = list(t.witnesses, 'witnesses').map(parseVerifier);
  if (!Number.isInteger(t.quorum) || t.quorum < 0 || t.quorum > witnesses.length) {
    throw new UpdateError(
      'E_FORMAT',
      `${path}: quorum must be a whole number from 0 to the ${witnesses.length} witnesses`,
    );
  }
  const policy = {
    origin: t.origin,
    logKeys: list(t.logKeys, 'logKeys').map(parseVerifier),
    witnesses,
    quorum: t.quorum,
  };
  return { policy, mirrors: list(t.mirrors ?? [], 'mirrors') };
}

/** Copies the trusted root the client starts from (distributed with the product) into its state. */
export function trustRoot(dir: string, rootJson: string): void {
  mkdirSync(join(dir, 'tuf'), { recursive: true });
  copyFileSync(rootJson, join(dir, 'tuf', 'root.json'));
}

export async function update(o: UpdateOptions): Promise<UpdateResult> {
  if (!existsSync(join(o.dir, 'tuf', 'root.json'))) {
    throw new UpdateError('E_IO', `${o.dir} has no trusted root (tuf/root.json): install the repository's root first`);
  }
  // Every mirror is tried: one that lies or is down must not keep the others' update away. When
  // none can be used, a refusal on security grounds is reported before an outage.
  const skipped: { mirror: string; why: string }[] = [];
  let refusal: UpdateError | undefined;
  for (const mirror of o.mirrors) {
    try {
      return { ...(await updateFrom(mirror, o)), skipped };
    } catch (e) {
      const err =
        e instanceof UpdateError || isTransport(e)
          ? e
          : new UpdateError('E_SIGNATURE', `${mirror}: ${(e as Error).message}`, { cause: e });
      if (err instanceof UpdateError && err.code !== 'E_IO') refusal ??= err;
      const status = (err as { statusCode?: number }).statusCode;
      skipped.push({ mirror, why: `${(err as Error).message}${status === undefined ? '' : ` (HTTP ${status})`}` });
    }
  }
  if (refusal !== undefined) throw refusal;
  throw new UpdateError('E_IO', `no mirror could be used: ${skipped.map((s) => `${s.mirror}: ${s.why}`).join('; ')}`);
}

/** A mirror that cannot be reached, answers with an HTTP error, or sends more than allowed. */
const isTransport = (e: unknown) =>
  e instanceof DownloadError ||
  ['AbortError', 'TimeoutError'].includes((e as Error).name) ||
  /fetch failed|ECONNREFUSED|timed? ?out/i.test((e as Error).message);

async function updateFrom(mirror: string, o: UpdateOptions): Promise<Omit<UpdateResult, 'skipped'>> {
  const base = mirror.replace(/\/$/, '');
  // TUF's metadata is updated in a copy, kept only when everything else passes: a refused update
  // must not leave its metadata trusted.
  const staging = join(o.dir, 'staging');
  const stagedTuf = join(staging, 'tuf');
  rmSync(staging, { recursive: true, force: true });
  cpSync(join(o.dir, 'tuf'), stagedTuf, { recursive: true });
  const timeout = o.timeoutMs ?? 15_000;
  const updater = new Updater({
    metadataDir: stagedTuf,
    metadataBaseUrl: `${base}/metadata`,
    targetBaseUrl: `${base}/targets`,
    targetDir: staging,
    config: { fetchTimeout: timeout, fetchRetries: 0 },
    ...(o.licence === undefined ? {} : { fetcher: new LicensedFetcher(o.licence, timeout) }),
  });
  await updater.refresh();
  const targetsBytes = readFileSync(join(stagedTuf, 'targets.json'));
  const targets = JSON.parse(targetsBytes.toString('utf8')) as {
    signed: { version: number; targets: Record<string, unknown> };
  };
  const targetsVersion = targets.signed.version;
  const checkpoint = await checkLogged(base, o, releaseEntry(targetsVersion, targetsBytes), timeout);
  const paths = Object.keys(targets.signed.targets);
  const choice = await choose(updater, paths, o);
  const current = databasePath(o.dir, o.channel);
  if (choice === undefined) {
    if (!existsSync(current)) {
      throw new UpdateError(
        'E_FORMAT',
        `the repository at ${mirror} offers no release of ${o.channel} to this client yet`,
      );
    }
    commit(o.dir, stagedTuf, checkpoint);
    return { status: 'kept', targetsVersion, path: current };
  }
  const { info, release } = choice;
  const previous = previousPath(o.dir, o.channel);
  const done = (status: UpdateResult['status']) => {
    commit(o.dir, stagedTuf, checkpoint);
    return { status, targetsVersion, release, path: current };
  };
  const inUse = existsSync(current) ? sha256File(current) : undefined;
  if (inUse === info.hashes.sha256) return done('current');
  if (existsSync(previous) && sha256File(previous) === info.hashes.sha256) {
    // The release in use was halted: the one before it comes back without a download, and the
    // halted one becomes the previous (should the halt be lifted).
    const swap = `${current}.swap`;
    renameSync(current, swap);
    renameSync(previous, current);
    renameSync(swap, previous);
    return done('restored');
  }
  const target = join(staging, basename(info.path));
  const viaDelta =
    inUse === undefined ? undefined : await fetchByDelta(updater, info, { current, inUse, paths, out: target });
  const delta = viaDelta?.kind === 'applied' ? viaDelta : undefined;
  const downloaded = delta === undefined ? await updater.downloadTarget(info, target) : target;
  try {
    await o.testLoad(downloaded);
  } catch (e) {
    throw new UpdateError(
      'E_FORMAT',
      `${info.path} (targets version ${targetsVersion}) does not load (${(e as Error).message}); keeping the database in use`,
      { cause: e },
    );
  }
  if (existsSync(current)) renameSync(current, previous);
  renameSync(downloaded, current);
  return {
    ...done('updated'),
    via: delta === undefined ? 'full' : 'delta',
    downloaded: delta?.bytes ?? info.length,
    ...(viaDelta?.kind === 'refused' ? { deltaRefused: viaDelta.why } : {}),
  };
}

/**
 * Makes release `info` at `out` from the database in use and a delta the targets offer for it,
 * if there is one. The delta is checked by TUF like any target, and what it makes must have the
 * release's own length and hash; a delta that fails either is reported and not used.
 */
async function fetchByDelta(
  updater: Updater,
  info: TargetFile,
  at: { current: string; inUse: string; paths: readonly string[]; out: string },
): Promise<{ kind: 'applied'; bytes: number } | { kind: 'refused'; why: string } | undefined> {
  const release = releaseOf(info);
  if (release === undefined) return undefined;
  for (const path of at.paths.filter((p) => p.startsWith(`${release.channel}/${release.release}.from-`))) {
    const d = await updater.getTargetInfo(path);
    const meta = d === undefined ? undefined : deltaOf(d);
    if (d === undefined || meta?.deltaTo !== release.release || meta.fromSha256 !== at.inUse) continue;
    try {
      const file = await updater.downloadTarget(d, join(dirname(at.out), basename(path)));
      const made = applyDelta(readFileSync(at.current), readFileSync(file), info.length);
      if (made.length !== info.length || sha256Bytes(made) !== info.hashes.sha256) {
        throw new UpdateError('E_FORMAT', 'what it makes is not the release the targets metadata describes');
      }
      writeAtomically(at.out, made);
      return { kind: 'applied', bytes: d.length };
    } catch (e) {
      return { kind: 'refused', why: `${path}: ${(e as Error).message}` };
    }
  }
  return undefined;
}

/** The newest release of the channel that is not halted and is offered to this client's cohort. */
async function choose(updater: Updater, paths: readonly string[], o: UpdateOptions) {
  const mine = cohort(clientId(o.dir), o.channel);
  let best: { info: TargetFile; release: number } | undefined;
  for (const path of paths.filter((p) => p.startsWith(`${o.channel}/`))) {
    const info = await updater.getTargetInfo(path);
    const r = info === undefined ? undefined : releaseOf(info);
    if (info === undefined || r === undefined || r.halted || mine >= r.rollout) continue;
    if (best === undefined || r.release > best.release) best = { info, release: r.release };
  }
  return best;
}

/** Makes the checked metadata and log checkpoint the client's own. */
function commit(dir: string, stagedTuf: string, checkpoint: string): void {
  for (const f of readdirSync(stagedTuf)) writeAtomically(join(dir, 'tuf', f), readFileSync(join(stagedTuf, f)));
  writeAtomically(join(dir, 'log-checkpoint'), checkpoint);
  rmSync(join(dir, 'staging'), { recursive: true, force: true });
}

/** tuf-js's downloads with the installation's licence in a header, and the service's refusals said plainly. */
class LicensedFetcher extends BaseFetcher {
  constructor(
    private readonly licence: { readonly id: string; readonly machine: string },
    private readonly timeoutMs: number,
  ) {
    super();
  }

  override async fetch(url: string): Promise<ReadableStream<Uint8Array<ArrayBuffer>>> {
    const res = await fetch(url, {
      headers: { [LICENCE_HEADER]: `${this.licence.id} ${this.licence.machine}` },
      signal: AbortSignal.timeout(this.timeoutMs),
    });
    if (res.status === 451 || res.status === 403) {
      const why = (await readBounded(res, 4096, url)).toString('utf8').trim();
      throw new UpdateError(
        'E_DENIED',
        `the update service refused this installation: ${why}; keeping the database in use`,
      );
    }
    // tuf-js reads a 404 for the next root version as "no newer root": its own error class says so.
    if (!res.ok || res.body === null) throw new DownloadHTTPError(`${url}: HTTP ${res.status}`, res.status);
    return res.body as ReadableStream<Uint8Array<ArrayBuffer>>;
  }
}

const sha256Bytes = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');
const sha256File = (path: string) => sha256Bytes(readFileSync(path));

/** Limits on what a mirror may send for the log. */
const MAX_CHECKPOINT_BYTES = 1 << 16;
const MAX_LEAVES_BYTES = HASH_SIZE * (1 << 20);

/**
 * Checks that `entry` is in the log everybody sees: the checkpoint's signatures, the leaves it
 * covers, and consistency with the checkpoint stored last time. Returns the checkpoint to store.
 */
async function checkLogged(base: string, o: UpdateOptions, entry: Uint8Array, timeout: number): Promise<string> {
  const note = (await fetchBounded(`${base}/log/checkpoint`, MAX_CHECKPOINT_BYTES, timeout)).toString('utf8');
  const size = parseCheckpointText(parseNote(note).text).size;
  const raw = await fetchBounded(`${base}/log/leaves`, MAX_LEAVES_BYTES, timeout);
  if (raw.length < size * HASH_SIZE)
    throw new UpdateError(
      'E_PROOF',
      `the log's leaves hold ${Math.floor(raw.length / HASH_SIZE)} entries, its checkpoint says ${size}`,
    );
  const leaves = Array.from(
    { length: size },
    (_, i) => new Uint8Array(raw.subarray(i * HASH_SIZE, (i + 1) * HASH_SIZE)),
  );
  const want = Buffer.from(hashLeaf(entry));
  const index = leaves.findIndex((l) => want.equals(l));
  if (index < 0)
    throw new UpdateError(
      'E_PROOF',
      'this targets version is not in the transparency log: it was not published to everyone',
    );
  const storedFile = join(o.dir, 'log-checkpoint');
  const stored = existsSync(storedFile) ? readFileSync(storedFile, 'utf8') : undefined;
  const storedSize = stored === undefined ? 0 : parseCheckpointText(parseNote(stored).text).size;
  verifyLoggedEntry(
    o.log,
    {
      entry,
      index,
      inclusionProof: inclusionProof(leaves, index, size),
      checkpoint: note,
      consistencyProof: storedSize <= size ? consistencyProof(leaves, storedSize, size) : [],
    },
    stored,
  );
  return note;
}

/** GETs `url`, refusing more than `limit` bytes or a reply slower than `timeout` ms. */
async function fetchBounded(url: string, limit: number, timeout: number): Promise<Buffer> {
  const res = await request(url, {}, timeout);
  if (!res.ok) throw new UpdateError('E_IO', `${url}: HTTP ${res.status}`);
  return readBounded(res, limit, url);
}
