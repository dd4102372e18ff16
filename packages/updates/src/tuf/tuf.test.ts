// End to end on loopback: a repository publishes three database versions with TUF metadata and a
// witnessed transparency log; a client follows them; then each attack from TUF's threat list that
// applies, and a release made for one client only, is tried and refused with the database in use
// left as it was.
import assert from 'node:assert/strict';
import { cpSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { createServer } from 'node:http';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, describe, it } from 'node:test';
import { UpdateError } from '../errors.js';
import { LICENCE_HEADER, staticServer } from '../serve.js';
import { listen, startWitness } from '../test-support.js';
import type { LogPolicy } from '../verify.js';
import { cohort, databasePath, previousPath, trustRoot, type UpdateOptions, update } from './client.js';
import { loadTufSigner, newTufSigner } from './keys.js';
import { Repository } from './repository.js';

const ORIGIN = 'updates.vigil.test/log';
const work = mkdtempSync(join(tmpdir(), 'vigil-tuf-'));
after(() => rmSync(work, { recursive: true, force: true }));
let seq = 0;
const fresh = (name: string) => join(work, `${name}-${seq++}`);

/** A database the client's test load accepts: a magic line and a version. */
const database = (v: string) => `VIGILTESTDB\n${v}\n${'x'.repeat(2000)}\n`;
function testLoad(path: string): void {
  if (!readFileSync(path, 'utf8').startsWith('VIGILTESTDB\n')) throw new Error('not a database');
}

let repo: Repository;
let rootKeyDir: string;
let policy: LogPolicy;
let url: string;
/** Files served instead of the repository's own, by path (tests set and clear it). */
const overrides = new Map<string, Buffer | 'endless'>();

async function publish(v: string, content = database(v), into = repo, rollout = 100) {
  const file = join(work, `db-${v}-${seq++}.vdb`);
  writeFileSync(file, content);
  return into.publishRelease('daily', file, { rollout });
}

function client(dir = fresh('client')): UpdateOptions {
  trustRoot(dir, join(repo.dir, 'public', 'metadata', '1.root.json'));
  return { dir, mirrors: [url], channel: 'daily', log: policy, testLoad, timeoutMs: 3000 };
}

const inUse = (o: UpdateOptions) => readFileSync(databasePath(o.dir, o.channel), 'utf8').split('\n')[1];

before(async () => {
  const repoDir = fresh('repo');
  rootKeyDir = fresh('root-keys');
  // The witnesses need the log key, which init makes: init, then start them and record their URLs.
  ({ repo } = await Repository.init({ dir: repoDir, rootKeyDir, rootKeys: 3, rootThreshold: 2, origin: ORIGIN }));
  const logKey = repo.logKey();
  const ws = await Promise.all(
    [1, 2, 3].map((i) => startWitness(ORIGIN, logKey, fresh('witness'), `witness.test/w${i}`)),
  );
  writeFileSync(join(repoDir, 'repo.json'), JSON.stringify({ ...repo.config, witnesses: ws.map((w) => w.url) }));
  repo = Repository.open(repoDir);
  policy = { origin: ORIGIN, logKeys: [logKey], witnesses: ws.map((w) => w.key), quorum: 2 };
  const files = staticServer(join(repoDir, 'public'));
  const server = createServer((req, res) => {
    const o = overrides.get(req.url ?? '');
    if (o === undefined) return files.emit('request', req, res);
    if (o === 'endless') {
      res.writeHead(200);
      const more = () => {
        while (res.write(Buffer.alloc(65536, 0x20))) {}
      };
      res.on('drain', more);
      res.on('close', () => res.off('drain', more));
      return more();
    }
    res.writeHead(200, { 'content-length': o.length });
    res.end(o);
  });
  url = await listen(server);
});

describe('signature updates through TUF and the transparency log', () => {
  it('a client follows three published versions, keeping the one before as last known good', async () => {
    const o = client();
    for (const v of ['1', '2', '3']) {
      const { refused } = await publish(v);
      assert.deepEqual(refused, []);
      const r = await update(o);
      assert.equal(r.status, 'updated');
      assert.equal(inUse(o), v);
    }
    assert.equal(readFileSync(previousPath(o.dir, 'daily'), 'utf8').split('\n')[1], '2');
    assert.equal((await update(o)).status, 'current');
  });

  /** A client at the latest version, and a check that an attack leaves it there. */
  async function refused(attack: () => void | Promise<void>, message: RegExp) {
    const o = client();
    await update(o);
    const before = inUse(o);
    await publish(`next-${seq}`);
    await attack();
    try {
      await assert.rejects(update(o), message);
    } finally {
      overrides.clear();
    }
    assert.equal(inUse(o), before, 'the database in use is unchanged');
    return o;
  }

  const metadata = (name: string) => readFileSync(join(repo.dir, 'public', 'metadata', name));
  const currentTarget = () => {
    const last = repo.releases('daily').at(-1);
    const t = JSON.parse(metadata(`${latest('targets')}.targets.json`).toString());
    return `/targets/daily/${t.signed.targets[last?.path ?? ''].hashes.sha256}.${last?.release}.vdb`;
  };
  const latest = (role: string) =>
    Math.max(
      ...readdirSync(join(repo.dir, 'public', 'metadata')).map((f) =>
        Number(new RegExp(`^(\\d+)\\.${role}\\.json$`).exec(f)?.[1] ?? 0),
      ),
    );

  /** The served paths of the deltas to the newest release (one from each release before it). */
  const currentDeltas = () => {
    const last = repo.releases('daily').at(-1);
    const t = JSON.parse(metadata(`${latest('targets')}.targets.json`).toString());
    return Object.keys(t.signed.targets)
      .filter((p) => p.startsWith(`daily/${last?.release}.from-`))
      .map((p) => `/targets/daily/${t.signed.targets[p].hashes.sha256}.${p.slice('daily/'.length)}`);
  };

  it('refuses a tampered database file, whole or as a delta', async () => {
    await refused(() => {
      overrides.set(currentTarget(), Buffer.from(database('evil')));
      const deltas = currentDeltas();
      assert.ok(deltas.length > 0, 'deltas were published');
      for (const d of deltas) overrides.set(d, Buffer.from('VGDELTA1 evil'));
    }, /hash|length|mismatch/i);
  });

  it('takes a release as a delta from the one in use when it has it, and checks what the delta makes', async () => {
    // A database of some size, most of it the same from one release to the next.
    const body = Array.from(
      { length: 4000 },
      (_, i) => `Sig.${(i * 7919) % 10007}:0:*:${(i * 104729).toString(16)}`,
    ).join('\n');
    const big = (v: string) => `VIGILTESTDB\n${v}\n${body}\n${v.repeat(50)}\n`;
    const o = client();
    await publish('big-1', big('big-1'));
    assert.equal((await update(o)).via, 'full');
    const behind = client();
    await update(behind);
    await publish('big-2', big('big-2'));
    const r = await update(o);
    assert.equal(r.via, 'delta');
    assert.equal(inUse(o), 'big-2');
    assert.equal(readFileSync(databasePath(o.dir, 'daily'), 'utf8'), big('big-2'));
    assert.ok((r.downloaded ?? Infinity) < big('big-2').length / 10, `${r.downloaded} bytes downloaded`);
    // Two releases behind, a client takes the delta from the release it has.
    await publish('big-3', big('big-3'));
    assert.equal((await update(behind)).via, 'delta');
    assert.equal(inUse(behind), 'big-3');
    assert.equal((await update(o)).via, 'delta');
    // A delta that TUF accepts but that does not make the release (the repository's mistake, or
    // its key's misuse) is reported, and the whole file is taken instead.
    await publish('big-4', big('big-4'));
    for (const d of currentDeltas()) overrides.set(d, Buffer.from('not the delta that was signed'));
    try {
      const bad = await update(o);
      assert.equal(bad.via, 'full');
      assert.match(bad.deltaRefused ?? '', /length|hash/i);
      assert.equal(inUse(o), 'big-4');
    } finally {
      overrides.clear();
    }
  });

  it('refuses a rollback to an older timestamp', async () => {
    const old = metadata('timestamp.json');
    const o = client();
    await update(o);
    await publish(`roll-${seq}`);
    await update(o);
    const before = inUse(o);
    overrides.set('/metadata/timestamp.json', old);
    try {
      await assert.rejects(update(o), /version|rollback|must be/i);
    } finally {
      overrides.clear();
    }
    assert.equal(inUse(o), before);
  });

  it('refuses a frozen repository (an expired timestamp)', async () => {
    await refused(() => repo.refreshTimestamp(new Date(Date.now() - 3 * 86_400_000)), /expired/i);
    repo.refreshTimestamp();
  });

  it('refuses mix-and-match metadata (a snapshot that is not the one the timestamp names)', async () => {
    await refused(() => {
      const t = JSON.parse(metadata('timestamp.json').toString()) as {
        signed: { meta: Record<string, { version: number }> };
      };
      const v = t.signed.meta['snapshot.json']?.version as number;
      overrides.set(`/metadata/${v}.snapshot.json`, metadata(`${v - 1}.snapshot.json`));
    }, /hash|length|version|mismatch/i);
  });

  it('refuses endless data within its limit and its time', async () => {
    const started = Date.now();
    await refused(() => {
      overrides.set('/metadata/timestamp.json', 'endless');
    }, /length|exceed|max|too large|bytes/i);
    assert.ok(Date.now() - started < 10_000);
  });

  it('refuses a root signed by fewer keys than the threshold', async () => {
    // A new root (rotating to two new keys) signed by one of the three old keys where two are needed.
    const fork = forkRepository();
    const newKeys = [newTufSigner(), newTufSigner()];
    fork.rotateRoot({
      oldSigners: [loadTufSigner(join(rootKeyDir, 'root-1.key'))],
      newKeys: newKeys.map((k) => k.key),
      threshold: 2,
      newSigners: newKeys,
    });
    await refused(() => {
      overrides.set('/metadata/2.root.json', readFileSync(join(fork.dir, 'public', 'metadata', '2.root.json')));
    }, /sign|threshold/i);
  });

  it('follows a root rotated with a threshold of the old keys and of the new', async () => {
    const fork = forkRepository();
    const newKeys = [newTufSigner(), newTufSigner(), newTufSigner()];
    const version = fork.rotateRoot({
      oldSigners: [1, 2].map((i) => loadTufSigner(join(rootKeyDir, `root-${i}.key`))),
      newKeys: newKeys.map((k) => k.key),
      threshold: 2,
      newSigners: newKeys.slice(0, 2),
    });
    assert.equal(version, 2);
    const o = { ...client(), mirrors: [await listen(staticServer(join(fork.dir, 'public')))] };
    assert.equal((await update(o)).status, 'updated');
    assert.equal(JSON.parse(readFileSync(join(o.dir, 'tuf', 'root.json'), 'utf8')).signed.version, 2);
  });

  it('refuses a release made for one client only, validly signed but not in the public log', async () => {
    const o = client();
    await update(o);
    const before = inUse(o);
    const fork = forkRepository();
    await publish('targeted', database('targeted'), fork);
    // The vendor serves this client the fork's metadata with the public log.
    cpSync(join(repo.dir, 'public', 'log'), join(fork.dir, 'public', 'log'), { recursive: true });
    const victim = { ...o, mirrors: [await listen(staticServer(join(fork.dir, 'public')))] };
    await assert.rejects(update(victim), /not in the transparency log/);
    assert.equal(inUse(o), before);
  });

  it('refuses a release logged in a forked log, which the witnesses will not cosign', async () => {
    const o = client();
    await update(o);
    const before = inUse(o);
    const fork = forkRepository(true);
    await publish(`public-${seq}`);
    // The fork extends the log from the same size as the public release did: witnesses that
    // cosigned the public one refuse it, and keep the request as evidence.
    const { refused: refusals } = await publish('targeted', database('targeted'), fork);
    assert.equal(refusals.length, 3);
    const victim = { ...o, mirrors: [await listen(staticServer(join(fork.dir, 'public')))] };
    await assert.rejects(update(victim), (e: unknown) => e instanceof UpdateError && e.code === 'E_QUORUM');
    assert.equal(inUse(o), before);
    // Everyone else, this client included, still gets the public release.
    assert.equal((await update(o)).status, 'updated');
  });

  it('offers a release to its rollout percentage by cohort, same bytes for all, and rolls back a halted one', async () => {
    // Two clients on either side of 50%.
    const ids = Array.from({ length: 40 }, (_, i) => `client-${i}`);
    const early = ids.find((id) => cohort(id, 'daily') < 50) as string;
    const late = ids.find((id) => cohort(id, 'daily') >= 50) as string;
    const [a, b] = [early, late].map((id) => {
      const o = client();
      writeFileSync(join(o.dir, 'client-id'), `${id}\n`);
      return o;
    });
    for (const o of [a, b]) await update(o as UpdateOptions);
    const base = inUse(a as UpdateOptions);
    assert.equal(inUse(b as UpdateOptions), base);
    const { release } = await publish('staged', database('staged'), repo, 50);
    assert.equal((await update(a as UpdateOptions)).status, 'updated');
    assert.equal((await update(b as UpdateOptions)).status, 'current');
    assert.equal(inUse(a as UpdateOptions), 'staged');
    assert.equal(inUse(b as UpdateOptions), base, 'the later cohort waits');
    await repo.setRollout('daily', release, 100);
    assert.equal((await update(b as UpdateOptions)).status, 'updated');
    assert.equal(inUse(b as UpdateOptions), 'staged');
    // Halted: both go back to the release before, without downloading it again.
    await repo.setHalted('daily', release, true);
    for (const o of [a, b]) {
      assert.equal((await update(o as UpdateOptions)).status, 'restored');
      assert.equal(inUse(o as UpdateOptions), base);
    }
    await repo.setHalted('daily', release, false);
    assert.equal((await update(a as UpdateOptions)).status, 'restored', 'the halt lifted: the release comes back');
    assert.equal(inUse(a as UpdateOptions), 'staged');
  });

  it('sends its licence when the update service gates the databases, and keeps its database when refused', async () => {
    const gated = await listen(
      staticServer(join(repo.dir, 'public'), async (req) => {
        const [id] = String(req.headers[LICENCE_HEADER] ?? '').split(' ');
        if (id === 'L-ok') return undefined;
        if (id === 'L-us') return { status: 451, message: 'no signature updates in this country from 2024-09-29' };
        return { status: 403, message: 'a licence is needed' };
      }),
    );
    await publish(`gated-first-${seq}`);
    const ok = { ...client(), mirrors: [gated], licence: { id: 'L-ok', machine: 'm1' } };
    assert.equal((await update(ok)).status, 'updated');
    const denied = { ...client(), mirrors: [url], licence: { id: 'L-us', machine: 'm2' } };
    await update(denied);
    const before = inUse(denied);
    await publish(`gated-${seq}`);
    await assert.rejects(
      update({ ...denied, mirrors: [gated] }),
      (e: unknown) =>
        e instanceof UpdateError && e.code === 'E_DENIED' && /no signature updates in this country/.test(e.message),
    );
    assert.equal(inUse(denied), before, 'an installation refused updates keeps working with its database');
    await assert.rejects(update({ ...client(), mirrors: [gated] }), /HTTP 403/);
  });

  it('gives up on a mirror that never answers within its deadline, and goes on to the next', async () => {
    // Accepts connections and never replies: a hung mirror (or one that tarpits clients).
    const hungUrl = await listen(createServer(() => undefined));
    const o = { ...client(), mirrors: [hungUrl], timeoutMs: 500 };
    const started = Date.now();
    await assert.rejects(update(o), (e: unknown) => e instanceof UpdateError && e.code === 'E_IO');
    assert.ok(Date.now() - started < 5_000, `gave up after ${Date.now() - started} ms`);
    assert.equal(readdirSync(o.dir).includes('daily.db'), false, 'nothing installed');
    const r = await update({ ...o, mirrors: [hungUrl, url] });
    assert.equal(r.status, 'updated');
    assert.equal(r.skipped.length, 1);
    assert.match(r.skipped[0]?.why ?? '', /time|abort/i);
  });

  it('goes on to the next mirror when one is down, and says which', async () => {
    const o = { ...client(), mirrors: ['http://127.0.0.1:9', url] };
    const r = await update(o);
    assert.equal(r.status, 'updated');
    assert.equal(r.skipped.length, 1);
  });

  it('keeps the database in use when the new one does not load', async () => {
    const o = client();
    await update(o);
    const before = inUse(o);
    await publish('broken', 'not a database at all');
    await assert.rejects(update(o), /does not load \(not a database\); keeping the database in use/);
    assert.equal(inUse(o), before);
    await publish(`fixed-${seq}`);
  });
});

/** A copy of the repository with the same keys, for what a compelled or compromised vendor could do. */
function forkRepository(withWitnesses = false): Repository {
  const dir = fresh('fork');
  cpSync(repo.dir, dir, { recursive: true });
  if (!withWitnesses) writeFileSync(join(dir, 'repo.json'), JSON.stringify({ ...repo.config, witnesses: [] }));
  return Repository.open(dir);
}
