// The benchmarks' inputs, shared by run.mjs and daemon.mjs: the benchmark kit's corpus and its
// generated ClamAV database at a scale, built on first use. AVBENCH (default /tmp/avbench) holds
// corpus/ and db-<scale>/; SHARED (default ../shared/bench beside the checkout) holds the kit.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');

/** `--name value` from the command line, or `dflt`. */
export function option(name, dflt) {
  const args = process.argv.slice(2);
  const i = args.indexOf(`--${name}`);
  return i >= 0 ? args[i + 1] : dflt;
}

export function benchInputs(scale) {
  const base = process.env.AVBENCH ?? '/tmp/avbench';
  const kit = process.env.SHARED ?? resolve(root, '..', 'shared', 'bench');
  const corpus = join(base, 'corpus');
  const db = join(base, scale === '1' ? 'db' : `db-${scale}`);
  const run = (args) => {
    const r = spawnSync(args[0], args.slice(1), { stdio: 'inherit' });
    if (r.status !== 0) throw new Error(`${args.join(' ')} failed`);
  };
  if (!existsSync(corpus)) run(['bash', join(kit, 'corpus.sh'), base]);
  if (!existsSync(db)) run(['node', join(kit, 'gen-clamav-db.mjs'), '--out', db, '--corpus', corpus, '--scale', scale]);
  return { base, corpus, db };
}
