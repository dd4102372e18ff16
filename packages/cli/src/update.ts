// `vigil update`: keeps a channel's database current from a Vigil update repository, checked with
// TUF and the transparency log, test-loaded before it replaces the one in use.
import { existsSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { checkDatabase } from '@vigil/engine';
import { closeDatabase, loadDatabase } from '@vigil/node';
import { helpText, type OptionSpec, parseArgs, usageError } from './args.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  { name: 'trust', kind: 'string', help: "The repository's trust.json (with its root.json beside it)" },
  { name: 'state', kind: 'string', help: 'Where the databases and trusted metadata live (default ./vigil-state)' },
  { name: 'mirror', kind: 'list', help: "A mirror URL, tried before the trust file's; repeatable" },
  { name: 'channel', kind: 'string', help: 'The channel to follow (default daily)' },
  { name: 'licence', kind: 'string', help: "This installation's licence id, for an update service that asks for one" },
  {
    name: 'machine',
    kind: 'string',
    help: "This installation's machine id as activated (default: the client's own id)",
  },
  {
    name: 'clamav',
    kind: 'flag',
    help: "Do freshclam's job instead: ClamAV's CVDs and CDIFFs from --mirror into --database-dir",
  },
  { name: 'database-dir', kind: 'string', help: '--clamav: where the databases live (default /var/lib/clamav)' },
  {
    name: 'dns',
    kind: 'string',
    help: '--clamav: read the versions from this TXT record (e.g. current.cvd.clamav.net)',
  },
  {
    name: 'db',
    kind: 'list',
    help: '--clamav: a database to keep current (default main, daily, bytecode); repeatable',
  },
];

const USAGE =
  'Usage: vigil update --trust trust.json [--state DIR] [--mirror URL]... [--channel daily] [--licence ID [--machine ID]]';

export async function runUpdate(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, OPTIONS);
  if (values.get('help') === true) {
    process.stdout.write(helpText(USAGE, OPTIONS));
    return 0;
  }
  if (values.get('clamav') === true) return clamav(values);
  const trustFile = values.get('trust') as string | undefined;
  if (trustFile === undefined || positionals.length > 0)
    throw usageError(`vigil update needs --trust and no arguments\n${USAGE}`);
  const updates = await import('@vigil/updates');
  const { policy, mirrors } = updates.readTrust(trustFile);
  const state = (values.get('state') as string | undefined) ?? 'vigil-state';
  if (!existsSync(join(state, 'tuf', 'root.json'))) updates.trustRoot(state, join(dirname(trustFile), 'root.json'));
  const all = [...((values.get('mirror') as string[] | undefined) ?? []), ...mirrors];
  if (all.length === 0) throw usageError('no mirror: give --mirror URL or list mirrors in the trust file');
  const channel = (values.get('channel') as string | undefined) ?? 'daily';
  const licence = values.get('licence') as string | undefined;
  const machine = (values.get('machine') as string | undefined) ?? updates.clientId(state);
  const r = await updates.update({
    ...(licence === undefined ? {} : { licence: { id: licence, machine } }),
    dir: state,
    mirrors: all,
    channel,
    log: policy,
    // A database that does not load is never switched in, nor one with a damaged page in the hash
    // tables that opening leaves in the file.
    testLoad: (path) => {
      const loaded = loadDatabase([path], { detectPua: false });
      try {
        checkDatabase(loaded.database);
      } finally {
        closeDatabase(loaded);
      }
    },
  });
  for (const s of r.skipped) process.stderr.write(`WARNING: mirror ${s.mirror} skipped: ${s.why}\n`);
  if (r.deltaRefused !== undefined) process.stderr.write(`WARNING: delta not used: ${r.deltaRefused}\n`);
  const how = r.via === undefined ? '' : ` (${r.via === 'delta' ? 'as a delta' : 'whole'}, ${r.downloaded} bytes)`;
  const said = { updated: 'updated to', current: 'already at', restored: 'restored the previous database,' };
  process.stdout.write(
    r.status === 'kept'
      ? `${channel}: no release is offered to this installation now (halted, or not yet rolled out to it); keeping ${r.path}\n`
      : `${channel}: ${said[r.status]} release ${r.release} (targets version ${r.targetsVersion})${how}: ${r.path}\n`,
  );
  return 0;
}

/** `--clamav`: ClamAV's databases, as freshclam keeps them. */
async function clamav(values: ReadonlyMap<string, unknown>): Promise<number> {
  const mirrors = (values.get('mirror') as string[] | undefined) ?? [];
  if (mirrors.length === 0) throw usageError(`vigil update --clamav needs --mirror URL\n${USAGE}`);
  const { freshclam } = await import('@vigil/updates');
  const dns = values.get('dns') as string | undefined;
  const databases = values.get('db') as string[] | undefined;
  const results = await freshclam({
    databaseDir: (values.get('database-dir') as string | undefined) ?? '/var/lib/clamav',
    mirrors,
    ...(databases === undefined ? {} : { databases }),
    ...(dns === undefined
      ? {}
      : {
          resolveTxt: async () => {
            const { resolveTxt } = await import('node:dns/promises');
            return (await resolveTxt(dns))[0]?.join('') ?? '';
          },
        }),
  });
  for (const r of results) {
    const what =
      r.status === 'current' ? `up to date (version ${r.to})` : `updated ${r.from ?? 'none'} -> ${r.to} (${r.via})`;
    process.stdout.write(`${r.database}: ${what}\n`);
  }
  return 0;
}
