// The signature-update repository: TUF metadata (root with a k-of-n threshold of offline keys;
// targets, snapshot and timestamp with online keys), consistent snapshots, target files named by
// their hash, and the transparency log of every targets version. Everything a mirror serves is
// under `public/` as static files. Writes go in the order that keeps a reader consistent: targets
// files, then targets metadata and its log entry, then snapshot, and the timestamp last.
import { createHash } from 'node:crypto';
import { existsSync, mkdirSync, readdirSync, readFileSync } from 'node:fs';
import { extname, join } from 'node:path';
import { canonicalize } from '@tufjs/canonical-json';
import {
  type Key,
  Metadata,
  MetadataKind,
  MetaFile,
  Root,
  Snapshot,
  TargetFile,
  Targets,
  Timestamp,
} from '@tufjs/models';
import { makeDelta } from '../delta.js';
import { UpdateError } from '../errors.js';
import { writeAtomically } from '../files.js';
import { TransparencyLog } from '../log.js';
import { generateSigner, parseSigner, type Signer } from '../note.js';
import { loadTufSigner, newTufSigner, saveTufSigner, type TufSigner } from './keys.js';

const DAY = 86_400_000;
const ONLINE_ROLES = ['targets', 'snapshot', 'timestamp'] as const;
type OnlineRole = (typeof ONLINE_ROLES)[number];

/** What `repo.json` holds. */
export interface RepoConfig {
  /** The transparency log's origin (its name in checkpoints). */
  readonly origin: string;
  /** Witness submission URLs asked to cosign each checkpoint. */
  readonly witnesses: readonly string[];
  /** Days each role's metadata stays valid. */
  readonly expiryDays: Readonly<Record<'root' | OnlineRole, number>>;
}

export const DEFAULT_EXPIRY_DAYS: RepoConfig['expiryDays'] = { root: 365, targets: 90, snapshot: 7, timestamp: 1 };

/** A client's trust file: whom it believes for the log, and where it fetches from. */
export interface ClientTrust {
  readonly origin: string;
  /** The log's verifier keys. */
  readonly logKeys: readonly string[];
  /** Witnesses' verifier keys. */
  readonly witnesses: readonly string[];
  readonly quorum: number;
  readonly mirrors: readonly string[];
}

/** Releases kept in the targets metadata per channel (older ones drop out). */
const KEEP_RELEASES = 5;

/** What the targets metadata says about one release (the target's `custom` field). */
export type ReleaseInfo = {
  readonly channel: string;
  readonly release: number;
  /** Percent of clients (by cohort) it is offered to. */
  readonly rollout: number;
  readonly halted: boolean;
  readonly publishedAt: string;
};

/** What the targets metadata says about a delta (a cheaper way to a release from the one before). */
export type DeltaInfo = {
  readonly channel: string;
  /** The release the delta makes. */
  readonly deltaTo: number;
  /** The release it applies to, and that release's SHA-256 (so a client knows before it downloads). */
  readonly deltaFrom: number;
  readonly fromSha256: string;
};

/** The delta a target file is, if it is one. */
export function deltaOf(t: TargetFile): DeltaInfo | undefined {
  const c = t.custom as Partial<DeltaInfo>;
  if (
    typeof c.channel !== 'string' ||
    !Number.isSafeInteger(c.deltaTo) ||
    !Number.isSafeInteger(c.deltaFrom) ||
    typeof c.fromSha256 !== 'string'
  )
    return undefined;
  return {
    channel: c.channel,
    deltaTo: c.deltaTo as number,
    deltaFrom: c.deltaFrom as number,
    fromSha256: c.fromSha256,
  };
}

/** A delta is published only when it saves at least this share of the full file. */
const DELTA_MAX_SHARE = 0.9;

/** The release a target file is, if it is one. */
export function releaseOf(t: TargetFile): ReleaseInfo | undefined {
  const c = t.custom as Partial<ReleaseInfo>;
  if (typeof c.channel !== 'string' || !Number.isSafeInteger(c.release) || typeof c.rollout !== 'number')
    return undefined;
  return {
    channel: c.channel,
    release: c.release as number,
    rollout: c.rollout,
    halted: c.halted === true,
    publishedAt: String(c.publishedAt),
  };
}

function checkPercent(p: number): number {
  if (!(p >= 0 && p <= 100)) throw new UpdateError('E_FORMAT', `a rollout of ${p}% is not between 0 and 100`);
  return p;
}

/** The log entry for a targets version: what clients look for in the log. */
export function releaseEntry(version: number, targetsBytes: Uint8Array): Uint8Array {
  const digest = createHash('sha256').update(targetsBytes).digest('hex');
  return new TextEncoder().encode(`vigil-release/v1\ntargets ${version}\nsha256 ${digest}\n`);
}

const expires = (now: Date, days: number) =>
  new Date(now.getTime() + days * DAY).toISOString().replace(/\.\d{3}Z$/, 'Z');
const sha256 = (b: Uint8Array) => createHash('sha256').update(b).digest('hex');

/** Root metadata: the root keys with their threshold, and one key per online role. */
function makeRoot(o: {
  version: number;
  expires: string;
  rootKeys: readonly Key[];
  threshold: number;
  online: Record<OnlineRole, Key>;
}): Root {
  const keys = Object.fromEntries([...o.rootKeys, ...Object.values(o.online)].map((k) => [k.keyID, k.toJSON()]));
  const roles = {
    root: { keyids: o.rootKeys.map((k) => k.keyID), threshold: o.threshold },
    ...Object.fromEntries(ONLINE_ROLES.map((r) => [r, { keyids: [o.online[r].keyID], threshold: 1 }])),
  };
  return Root.fromJSON({
    _type: 'root',
    spec_version: '1.0.31',
    version: o.version,
    expires: o.expires,
    consistent_snapshot: true,
    keys,
    roles,
  });
}

/** Serialises metadata as TUF clients read it (canonical JSON of the whole document). */
const bytesOf = (m: Metadata<Root | Targets | Snapshot | Timestamp>): Buffer => Buffer.from(canonicalize(m.toJSON()));

export interface InitOptions {
  readonly dir: string;
  /** Where the new root keys are written: keep them offline. */
  readonly rootKeyDir: string;
  readonly rootKeys: number;
  readonly rootThreshold: number;
  readonly origin: string;
  readonly witnesses?: readonly string[];
  readonly expiryDays?: Partial<RepoConfig['expiryDays']>;
  readonly now?: Date;
}

export class Repository {
  private constructor(
    readonly dir: string,
    readonly config: RepoConfig,
  ) {}

  private get metadataDir(): string {
    return join(this.dir, 'public', 'metadata');
  }

  /** Creates a repository: root, online and log keys, and version 1 of every role (asking the witnesses). */
  static async init(o: InitOptions): Promise<{ repo: Repository; refused: { url: string; why: string }[] }> {
    if (
      !Number.isInteger(o.rootKeys) ||
      o.rootKeys < 1 ||
      !Number.isInteger(o.rootThreshold) ||
      o.rootThreshold < 1 ||
      o.rootThreshold > o.rootKeys
    ) {
      throw new UpdateError('E_FORMAT', `a root threshold of ${o.rootThreshold} of ${o.rootKeys} keys is not possible`);
    }
    if (existsSync(join(o.dir, 'repo.json'))) throw new UpdateError('E_IO', `${o.dir} already holds a repository`);
    const config: RepoConfig = {
      origin: o.origin,
      witnesses: o.witnesses ?? [],
      expiryDays: { ...DEFAULT_EXPIRY_DAYS, ...o.expiryDays },
    };
    for (const d of [
      join(o.dir, 'keys'),
      join(o.dir, 'public', 'metadata'),
      join(o.dir, 'public', 'targets'),
      join(o.dir, 'public', 'log'),
      o.rootKeyDir,
    ]) {
      mkdirSync(d, { recursive: true });
    }
    const rootKeys = Array.from({ length: o.rootKeys }, (_, i) => {
      const k = newTufSigner();
      saveTufSigner(join(o.rootKeyDir, `root-${i + 1}.key`), k);
      return k;
    });
    const online = Object.fromEntries(
      ONLINE_ROLES.map((r) => {
        const k = newTufSigner();
        saveTufSigner(join(o.dir, 'keys', `${r}.key`), k);
        return [r, k];
      }),
    ) as Record<OnlineRole, TufSigner>;
    writeAtomically(join(o.dir, 'keys', 'log.key'), `${generateSigner(o.origin).skey}\n`, 0o600);
    writeAtomically(join(o.dir, 'repo.json'), `${JSON.stringify(config, null, 2)}\n`);
    const repo = new Repository(o.dir, config);
    const now = o.now ?? new Date();
    const root = makeRoot({
      version: 1,
      expires: expires(now, config.expiryDays.root),
      rootKeys: rootKeys.map((k) => k.key),
      threshold: o.rootThreshold,
      online: { targets: online.targets.key, snapshot: online.snapshot.key, timestamp: online.timestamp.key },
    });
    repo.writeRoot(new Metadata(root), rootKeys);
    const { refused } = await repo.commit(() => [], now);
    return { repo, refused };
  }

  /** Opens the repository in `dir`. */
  static open(dir: string): Repository {
    let config: RepoConfig;
    try {
      config = JSON.parse(readFileSync(join(dir, 'repo.json'), 'utf8')) as RepoConfig;
    } catch (e) {
      throw new UpdateError('E_IO', `${dir} is not a repository: ${(e as Error).message}`, { cause: e });
    }
    return new Repository(dir, config);
  }

  /**
   * Writes what clients ship with: `client/root.json` (the trusted root) and `client/trust.json`
   * (the log's key, the witnesses' keys and quorum, the mirrors). Returns the trust file's path.
   */
  writeClientTrust(o: { witnesses: readonly string[]; quorum: number; mirrors: readonly string[] }): string {
    const dir = join(this.dir, 'client');
    mkdirSync(dir, { recursive: true });
    writeAtomically(join(dir, 'root.json'), readFileSync(join(this.metadataDir, '1.root.json')));
    const trust: ClientTrust = { origin: this.config.origin, logKeys: [this.logKey().vkey], ...o };
    writeAtomically(join(dir, 'trust.json'), `${JSON.stringify(trust, null, 2)}\n`);
    return join(dir, 'trust.json');
  }

  /** The log's signing key (the checkpoint signer). */
  logKey(): Signer {
    return parseSigner(readFileSync(join(this.dir, 'keys', 'log.key'), 'utf8'));
  }

  private onlineKey(role: OnlineRole): TufSigner {
    return loadTufSigner(join(this.dir, 'keys', `${role}.key`));
  }

  private latestVersion(role: string): number {
    const re = new RegExp(`^(\\d+)\\.${role}\\.json$`);
    return Math.max(0, ...readdirSync(this.metadataDir).map((f) => Number(re.exec(f)?.[1] ?? 0)));
  }

  /** The newest root metadata. */
  root(): Metadata<Root> {
    const v = this.latestVersion('root');
    return Metadata.fromJSON(
      MetadataKind.Root,
      JSON.parse(readFileSync(join(this.metadataDir, `${v}.root.json`), 'utf8')),
    );
  }

  private targets(): Metadata<Targets> | undefined {
    const v = this.latestVersion('targets');
    if (v === 0) return undefined;
    return Metadata.fromJSON(
      MetadataKind.Targets,
      JSON.parse(readFileSync(join(this.metadataDir, `${v}.targets.json`), 'utf8')),
    );
  }

  private writeRoot(root: Metadata<Root>, signers: readonly TufSigner[]): void {
    for (const s of signers) root.sign((d) => s.sign(d), true);
    const bytes = bytesOf(root);
    writeAtomically(join(this.metadataDir, `${root.signed.version}.root.json`), bytes);
    writeAtomically(join(this.metadataDir, 'root.json'), bytes);
  }

  /**
   * A new root version, signed by `oldSigners` (a threshold of the current root keys) and
   * `newSigners` (a threshold of the new ones): how root keys are rotated.
   */
  rotateRoot(o: {
    oldSigners: readonly TufSigner[];
    newKeys: readonly Key[];
    threshold: number;
    newSigners: readonly TufSigner[];
    now?: Date;
  }): number {
    const cur = this.root().signed;
    const now = o.now ?? new Date();
    const onlineKey = (r: OnlineRole) => cur.keys[cur.roles[r]?.keyIDs[0] ?? ''] as Key;
    const root = makeRoot({
      version: cur.version + 1,
      expires: expires(now, this.config.expiryDays.root),
      rootKeys: o.newKeys,
      threshold: o.threshold,
      online: { targets: onlineKey('targets'), snapshot: onlineKey('snapshot'), timestamp: onlineKey('timestamp') },
    });
    const signers = [...new Map([...o.oldSigners, ...o.newSigners].map((s) => [s.key.keyID, s])).values()];
    this.writeRoot(new Metadata(root), signers);
    return root.version;
  }

  /**
   * Publishes `file` as the next release of `channel` (target `<channel>/<n><ext>`), offered to
   * `rollout` percent of clients (default all). Returns the release number and targets version.
   */
  async publishRelease(
    channel: string,
    file: string,
    o: { readonly rollout?: number; readonly now?: Date } = {},
  ): Promise<{ release: number; version: number; refused: { url: string; why: string }[] }> {
    if (!/^[a-z0-9][a-z0-9_-]*$/.test(channel)) {
      throw new UpdateError(
        'E_FORMAT',
        `channel ${JSON.stringify(channel)}: lower-case letters, digits, '_' and '-' only`,
      );
    }
    const rollout = checkPercent(o.rollout ?? 100);
    const now = o.now ?? new Date();
    const releases = this.releases(channel);
    const release = Math.max(0, ...releases.map((r) => r.release)) + 1;
    const bytes = readFileSync(file);
    const path = `${channel}/${release}${extname(file)}`;
    const target = this.storeTarget(path, bytes, {
      channel,
      release,
      rollout,
      halted: false,
      publishedAt: now.toISOString(),
    });
    // A delta from each release still listed, for the clients that have it (halted and partly
    // rolled-out releases included: clients may hold any of them).
    const kept = new Set([...releases.slice(-(KEEP_RELEASES - 1)).map((r) => r.release), release]);
    const deltas = releases
      .filter((base) => kept.has(base.release))
      .flatMap((base) => {
        const from = this.targetFile(base.path);
        const delta = from === undefined ? undefined : makeDelta(from.bytes, bytes);
        if (from === undefined || delta === undefined || delta.length > bytes.length * DELTA_MAX_SHARE) return [];
        const info: DeltaInfo = { channel, deltaTo: release, deltaFrom: base.release, fromSha256: from.sha256 };
        return [this.storeTarget(`${channel}/${release}.from-${base.release}.delta`, delta, info)];
      });
    const r = await this.commit((t) => {
      const stays = (x: TargetFile) => {
        const d = deltaOf(x);
        if (d !== undefined) return d.channel !== channel || kept.has(d.deltaTo);
        const rel = releaseOf(x);
        return rel?.channel !== channel || kept.has(rel.release);
      };
      return [...t.filter(stays), target, ...deltas];
    }, now);
    return { release, ...r };
  }

  /** Writes a target file under its hash (consistent snapshots) and describes it for the targets metadata. */
  private storeTarget(path: string, bytes: Uint8Array, custom: ReleaseInfo | DeltaInfo): TargetFile {
    const digest = sha256(bytes);
    const [channel, name] = path.split('/') as [string, string];
    mkdirSync(join(this.dir, 'public', 'targets', channel), { recursive: true });
    writeAtomically(join(this.dir, 'public', 'targets', channel, `${digest}.${name}`), bytes);
    return new TargetFile({ length: bytes.length, path, hashes: { sha256: digest }, unrecognizedFields: { custom } });
  }

  /** The current targets' file at `path`, with its SHA-256, if it is stored here. */
  private targetFile(path: string): { bytes: Uint8Array; sha256: string } | undefined {
    const digest = this.targets()?.signed.targets[path]?.hashes.sha256;
    if (digest === undefined) return undefined;
    const [channel, name] = path.split('/') as [string, string];
    const file = join(this.dir, 'public', 'targets', channel, `${digest}.${name}`);
    return existsSync(file) ? { bytes: readFileSync(file), sha256: digest } : undefined;
  }

  /** Offers release `release` of `channel` to `percent` of clients. */
  setRollout(channel: string, release: number, percent: number, now = new Date()) {
    const rollout = checkPercent(percent);
    return this.changeRelease(channel, release, (c) => ({ ...c, rollout }), now);
  }

  /** Halts (or resumes) a release: clients that took it go back to the best release not halted. */
  setHalted(channel: string, release: number, halted: boolean, now = new Date()) {
    return this.changeRelease(channel, release, (c) => ({ ...c, halted }), now);
  }

  /** The releases of `channel` in the current targets, oldest first. */
  releases(channel: string): (ReleaseInfo & { path: string })[] {
    return Object.values(this.targets()?.signed.targets ?? {})
      .flatMap((t) => {
        const r = releaseOf(t);
        return r?.channel === channel ? [{ ...r, path: t.path }] : [];
      })
      .sort((a, b) => a.release - b.release);
  }

  private changeRelease(channel: string, release: number, change: (r: ReleaseInfo) => ReleaseInfo, now: Date) {
    const found = this.releases(channel).find((r) => r.release === release);
    if (found === undefined)
      throw new UpdateError('E_FORMAT', `${channel} has no release ${release} in the current targets`);
    return this.commit(
      (t) =>
        t.map((x) => {
          const r = releaseOf(x);
          if (r?.channel !== channel || r.release !== release) return x;
          return new TargetFile({
            length: x.length,
            path: x.path,
            hashes: x.hashes,
            unrecognizedFields: { custom: change(r) },
          });
        }),
      now,
    );
  }

  /**
   * Writes a new targets version (the current targets changed by `change`), logs it, has the log's
   * checkpoint cosigned, then writes snapshot and timestamp.
   */
  private async commit(
    change: (targets: TargetFile[]) => TargetFile[],
    now: Date,
  ): Promise<{ version: number; refused: { url: string; why: string }[] }> {
    const prev = this.targets()?.signed;
    const version = (prev?.version ?? 0) + 1;
    const targets = new Targets({
      version,
      specVersion: '1.0.31',
      expires: expires(now, this.config.expiryDays.targets),
    });
    for (const t of change(Object.values(prev?.targets ?? {}))) targets.addTarget(t);
    const m = new Metadata(targets);
    const key = this.onlineKey('targets');
    m.sign((d) => key.sign(d));
    const targetsBytes = bytesOf(m);
    writeAtomically(join(this.metadataDir, `${version}.targets.json`), targetsBytes);
    const log = TransparencyLog.open(join(this.dir, 'log'), this.config.origin);
    log.append(releaseEntry(version, targetsBytes));
    const { refused } = await log.publish(this.logKey(), this.config.witnesses);
    this.exportLog(log);
    this.writeSnapshotAndTimestamp(version, now);
    return { version, refused };
  }

  private exportLog(log: TransparencyLog): void {
    const checkpoint = log.checkpoint();
    writeAtomically(join(this.dir, 'public', 'log', 'leaves'), readFileSync(join(log.dir, 'leaves')));
    if (checkpoint !== undefined) writeAtomically(join(this.dir, 'public', 'log', 'checkpoint'), checkpoint);
  }

  private writeSnapshotAndTimestamp(targetsVersion: number, now: Date): void {
    const sv = this.latestVersion('snapshot') + 1;
    const snapshot = new Metadata(
      new Snapshot({
        version: sv,
        specVersion: '1.0.31',
        expires: expires(now, this.config.expiryDays.snapshot),
        meta: { 'targets.json': new MetaFile({ version: targetsVersion }) },
      }),
    );
    const sk = this.onlineKey('snapshot');
    snapshot.sign((d) => sk.sign(d));
    const snapBytes = bytesOf(snapshot);
    writeAtomically(join(this.metadataDir, `${sv}.snapshot.json`), snapBytes);
    this.writeTimestamp(
      new MetaFile({ version: sv, length: snapBytes.length, hashes: { sha256: sha256(snapBytes) } }),
      now,
    );
  }

  /** A new timestamp for the current snapshot: what a repository does at least once per expiry period. */
  refreshTimestamp(now = new Date()): void {
    const sv = this.latestVersion('snapshot');
    const snapBytes = readFileSync(join(this.metadataDir, `${sv}.snapshot.json`));
    this.writeTimestamp(
      new MetaFile({ version: sv, length: snapBytes.length, hashes: { sha256: sha256(snapBytes) } }),
      now,
    );
  }

  private writeTimestamp(snapshotMeta: MetaFile, now: Date): void {
    const file = join(this.metadataDir, 'timestamp.json');
    const prev = existsSync(file)
      ? (JSON.parse(readFileSync(file, 'utf8')) as { signed: { version: number } }).signed.version
      : 0;
    const ts = new Metadata(
      new Timestamp({
        version: prev + 1,
        specVersion: '1.0.31',
        expires: expires(now, this.config.expiryDays.timestamp),
        snapshotMeta,
      }),
    );
    const tk = this.onlineKey('timestamp');
    ts.sign((d) => tk.sign(d));
    writeAtomically(file, bytesOf(ts));
  }
}
