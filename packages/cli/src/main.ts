// The `vigil` command: dispatches to its subcommands; any error that escapes one is printed with
// its code and exits 2, as clamscan exits 2 on errors.
import { isVigilError } from '@vigil/engine';
import { runDaemonCommand } from './daemon.js';
import { runDb } from './db.js';
import { runLicense, runLicenseServer } from './license.js';
import { runPolicy } from './policy.js';
import { runRepo, runServeUpdates } from './repo.js';
import { runScan } from './scan.js';
import { runUpdate } from './update.js';
import { VERSION } from './version.js';
import { runWitness } from './witness.js';

const USAGE = `Vigil ${VERSION}: an open, ClamAV-compatible antivirus scanner.

Usage:
  vigil scan [options] [file/directory/-]...   scan as clamscan does (vigil scan --help)
  vigil db compile [-d PATH]... -o FILE         compile signatures into one binary database
  vigil db info PATH...                         counts per signature kind
  vigil daemon [-c clamd.conf] [--foreground]   serve clamd's protocol (vigil daemon --help)
  vigil update --trust trust.json [--state DIR] keep a database current, verified (vigil update --help)
  vigil repo init|publish|rollout|halt|resume|status ...  the update repository (vigil repo --help)
  vigil serve-updates [--dir DIR]               serve the repository's files over HTTP
  vigil witness keygen|serve ...                a transparency-log witness (vigil witness --help)
  vigil policy check|decide|dry-run ...         regional availability rules (vigil policy --help)
  vigil license keygen|issue|verify ...         offline licence files (vigil license --help)
  vigil license-server --db FILE|URL --key ...  the licensing service's HTTP API (SQLite or PostgreSQL)
  vigil --version
`;

async function main(argv: readonly string[]): Promise<number> {
  const [cmd, ...rest] = argv;
  switch (cmd) {
    case 'scan':
      return runScan(rest);
    case 'db':
      return runDb(rest);
    case 'daemon':
      return runDaemonCommand(rest);
    case 'witness':
      return runWitness(rest);
    case 'repo':
      return runRepo(rest);
    case 'serve-updates':
      return runServeUpdates(rest);
    case 'update':
      return runUpdate(rest);
    case 'policy':
      return runPolicy(rest);
    case 'license':
      return runLicense(rest);
    case 'license-server':
      return runLicenseServer(rest);
    case '--version':
    case '-V':
      process.stdout.write(`Vigil ${VERSION}\n`);
      return 0;
    case undefined:
    case '--help':
    case '-h':
    case 'help':
      process.stdout.write(USAGE);
      return cmd === undefined ? 2 : 0;
    default:
      process.stderr.write(`vigil: unknown command '${cmd}'\n${USAGE}`);
      return 2;
  }
}

// A reader that stops early (`vigil scan ... | head`) closes the pipe: end quietly, as a program
// killed by SIGPIPE would, instead of a stack trace.
process.stdout.on('error', (e: NodeJS.ErrnoException) => {
  if (e.code !== 'EPIPE') throw e;
  process.exit(141);
});

main(process.argv.slice(2)).then(
  (code) => {
    process.exitCode = code;
  },
  (e: unknown) => {
    const message = e instanceof Error ? e.message : String(e);
    process.stderr.write(`ERROR: ${message}\n`);
    // The project's errors (a code like E_FORMAT) and the system's (a file that cannot be opened)
    // say all there is to say; anything else is a bug, and gets its stack.
    const own =
      isVigilError(e) ||
      /^E_[A-Z_]+$/.test(String((e as { code?: unknown }).code)) ||
      typeof (e as { syscall?: unknown }).syscall === 'string';
    if (!own) process.stderr.write(`${e instanceof Error ? (e.stack ?? '') : ''}\n`);
    process.exitCode = 2;
  },
);
