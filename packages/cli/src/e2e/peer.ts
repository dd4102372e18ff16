// Helpers for black-box tests that run vigil and the real ClamAV side by side.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const vigilBin = join(repoRoot, 'bin', 'vigil');
/** The benchmark kit beside the checkout (../shared/bench), or $SHARED. */
export const benchKit = process.env.SHARED ?? resolve(repoRoot, '..', 'shared', 'bench');

/** ClamAV's container and document unpacking switched off: what the engine without containers can match. */
export const CLAMSCAN_NO_CONTAINERS = [
  '--scan-archive=no',
  '--scan-mail=no',
  '--scan-html=no',
  '--scan-pdf=no',
  '--scan-ole2=no',
  '--scan-swf=no',
  '--scan-xmldocs=no',
  '--scan-hwp3=no',
  '--scan-onenote=no',
  '--scan-image=no',
];

export interface Run {
  readonly status: number | null;
  readonly stdout: string;
  readonly stderr: string;
}

/** Each test process keeps vigil's compiled-database cache to itself. */
const cacheDir = mkdtempSync(join(tmpdir(), 'vigil-cache-'));
process.on('exit', () => rmSync(cacheDir, { recursive: true, force: true }));

export function run(cmd: string, args: readonly string[], input?: string, env: Record<string, string> = {}): Run {
  const r = spawnSync(cmd, args, {
    encoding: 'utf8',
    maxBuffer: 1 << 28,
    env: { ...process.env, VIGIL_CACHE_DIR: cacheDir, ...env },
    ...(input === undefined ? {} : { input }),
  });
  if (r.error) throw r.error;
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** The set of `path: Name FOUND` lines of a clamscan-style output. */
export function foundLines(out: string): Set<string> {
  return new Set(out.split('\n').filter((l) => l.endsWith(' FOUND')));
}

/** Fails loudly, never skips, when the peer is missing: `npm test` installs it as root. */
export function requireClamscan(): void {
  if (!existsSync('/usr/bin/clamscan')) {
    throw new Error(
      'clamscan is not installed: run `apt-get install clamav clamav-testfiles` (npm test does it as root)',
    );
  }
}
