// `vigil repo` (the update repository: init, publish, rollout, halt, resume, status) and
// `vigil serve-updates` (its public files over HTTP). The updates package is loaded only here.
import { rmSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { formatDiagnostic, serializeDatabase } from '@vigil/engine';
import { loadDatabase, writeFileAtomically } from '@vigil/node';
import { helpText, type OptionSpec, parseArgs, usageError } from './args.js';
import { serveUntilSignal } from './listen.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  { name: 'dir', kind: 'string', help: 'The repository directory (default ./vigil-repo)' },
  { name: 'origin', kind: 'string', help: "init: the transparency log's name, e.g. updates.example.com/log" },
  { name: 'root-key-dir', kind: 'string', help: 'init: where to write the root keys (keep them offline)' },
  { name: 'root-keys', kind: 'string', help: 'init: number of root keys (default 3)' },
  { name: 'root-threshold', kind: 'string', help: 'init: root keys needed to sign a new root (default 2)' },
  {
    name: 'witness',
    kind: 'list',
    help: "init: a witness's submission URL, asked to cosign each checkpoint; repeatable",
  },
  { name: 'witness-key', kind: 'list', help: "init: a witness's verifier key, trusted by clients; repeatable" },
  {
    name: 'quorum',
    kind: 'string',
    help: 'init: witness cosignatures clients require (default a majority of --witness-key)',
  },
  { name: 'mirror', kind: 'list', help: "init: a mirror URL written into the clients' trust file; repeatable" },
  { name: 'channel', kind: 'string', help: 'publish/rollout/halt/resume/status: the channel (default daily)' },
  { name: 'rollout', kind: 'string', help: 'publish: percent of clients offered the release (default 100)' },
  { name: 'listen', kind: 'string', help: 'serve-updates: host:port (default 127.0.0.1:8080)' },
  {
    name: 'licence-server',
    kind: 'string',
    help: 'serve-updates: serve databases only to installations this licensing service allows (metadata stays public)',
  },
];

const USAGE = `Usage: vigil repo init --origin NAME --root-key-dir DIR [--dir DIR] [--witness URL --witness-key VKEY]...
       vigil repo publish FILE|DIR [--channel daily] [--rollout PERCENT] [--dir DIR]
       vigil repo rollout RELEASE PERCENT [--channel daily] [--dir DIR]
       vigil repo halt|resume RELEASE [--channel daily] [--dir DIR]
       vigil repo status [--channel daily] [--dir DIR]
       vigil serve-updates [--dir DIR] [--listen HOST:PORT] [--licence-server URL]`;

const int = (v: unknown, what: string, fallback: number): number => {
  if (v === undefined) return fallback;
  const n = Number(v);
  if (!Number.isInteger(n) || n < 0) throw usageError(`${what}: ${String(v)} is not a whole number`);
  return n;
};

export async function runRepo(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, OPTIONS);
  if (values.get('help') === true || positionals.length === 0) {
    process.stdout.write(helpText(USAGE, OPTIONS));
    return values.get('help') === true ? 0 : 2;
  }
  const updates = await import('@vigil/updates');
  const dir = (values.get('dir') as string | undefined) ?? 'vigil-repo';
  const channel = (values.get('channel') as string | undefined) ?? 'daily';
  const [sub, ...rest] = positionals;
  const say = (line: string) => process.stdout.write(`${line}\n`);
  const sayRefused = (refused: readonly { url: string; why: string }[]) => {
    for (const r of refused) process.stderr.write(`WARNING: witness ${r.url} did not cosign: ${r.why}\n`);
  };
  switch (sub) {
    case 'init': {
      const origin = values.get('origin') as string | undefined;
      const rootKeyDir = values.get('root-key-dir') as string | undefined;
      if (origin === undefined || rootKeyDir === undefined)
        throw usageError(`repo init needs --origin and --root-key-dir\n${USAGE}`);
      const witnessKeys = ((values.get('witness-key') as string[] | undefined) ?? []).map(
        (k) => updates.parseVerifier(k).vkey,
      );
      const quorum = int(
        values.get('quorum'),
        '--quorum',
        witnessKeys.length === 0 ? 0 : Math.floor(witnessKeys.length / 2) + 1,
      );
      if (quorum > witnessKeys.length)
        throw usageError(`--quorum ${quorum} is more than the ${witnessKeys.length} witness keys given`);
      const { repo, refused } = await updates.Repository.init({
        dir,
        rootKeyDir,
        rootKeys: int(values.get('root-keys'), '--root-keys', 3),
        rootThreshold: int(values.get('root-threshold'), '--root-threshold', 2),
        origin,
        witnesses: (values.get('witness') as string[] | undefined) ?? [],
      });
      sayRefused(refused);
      const trust = repo.writeClientTrust({
        witnesses: witnessKeys,
        quorum,
        mirrors: (values.get('mirror') as string[] | undefined) ?? [],
      });
      say(`repository ${dir} for ${origin}: root keys in ${rootKeyDir} (keep them offline)`);
      say(`clients need ${trust} and the root.json beside it`);
      return 0;
    }
    case 'publish': {
      const [input] = rest;
      if (input === undefined || rest.length > 1) throw usageError(`repo publish takes one FILE\n${USAGE}`);
      const rollout = Number((values.get('rollout') as string | undefined) ?? 100);
      const repo = updates.Repository.open(dir);
      const file = statSync(input).isDirectory() ? compileForRelease(input, dir) : input;
      const r = await repo.publishRelease(channel, file, { rollout }).finally(() => {
        if (file !== input) rmSync(file, { force: true });
      });
      sayRefused(r.refused);
      say(
        `${channel} release ${r.release} published (targets version ${r.version}), offered to ${rollout}% of clients`,
      );
      return 0;
    }
    case 'rollout':
    case 'halt':
    case 'resume': {
      const release = int(rest[0], 'RELEASE', Number.NaN);
      const repo = updates.Repository.open(dir);
      const r =
        sub === 'rollout'
          ? await repo.setRollout(channel, release, Number(rest[1]))
          : await repo.setHalted(channel, release, sub === 'halt');
      sayRefused(r.refused);
      say(
        `${channel} release ${release}: ${sub === 'rollout' ? `offered to ${rest[1]}%` : sub === 'halt' ? 'halted' : 'resumed'} (targets version ${r.version})`,
      );
      return 0;
    }
    case 'status': {
      for (const r of updates.Repository.open(dir).releases(channel)) {
        say(`${channel} ${r.release}\t${r.halted ? 'halted' : `${r.rollout}%`}\t${r.publishedAt}\t${r.path}`);
      }
      return 0;
    }
    default:
      throw usageError(`unknown repo command '${sub}'\n${USAGE}`);
  }
}

export async function runServeUpdates(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, OPTIONS);
  if (values.get('help') === true) {
    process.stdout.write(helpText(USAGE, OPTIONS));
    return 0;
  }
  if (positionals.length > 0) throw usageError(`serve-updates takes no arguments\n${USAGE}`);
  const updates = await import('@vigil/updates');
  const dir = (values.get('dir') as string | undefined) ?? 'vigil-repo';
  updates.Repository.open(dir);
  const listen = (values.get('listen') as string | undefined) ?? '127.0.0.1:8080';
  const licences = values.get('licence-server') as string | undefined;
  const gate = licences === undefined ? undefined : updates.licenceGate(licences);
  await serveUntilSignal(updates.staticServer(join(dir, 'public'), gate), listen, `serving ${join(dir, 'public')}`);
  return 0;
}

/**
 * A directory of signature files (ClamAV's, as `vigil update --clamav` keeps them) compiled into a
 * release file inside the repository, as `vigil db compile` would, its warnings printed.
 */
function compileForRelease(sigDir: string, repoDir: string): string {
  const loaded = loadDatabase([sigDir], { detectPua: false });
  for (const d of loaded.diagnostics) process.stderr.write(`WARNING: ${formatDiagnostic(d)}\n`);
  const file = join(repoDir, `compiled-${process.pid}.vdb`);
  writeFileAtomically(file, serializeDatabase(loaded.database));
  return file;
}
