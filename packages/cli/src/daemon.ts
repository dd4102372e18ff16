// `vigil daemon`: clamd's command line (-c/--config-file, -F/--foreground). The daemon package is
// loaded only for this command, so `vigil scan` does not pay for it.
import { helpText, type OptionSpec, parseArgs, usageError } from './args.js';
import { VERSION } from './version.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  { name: 'config-file', short: 'c', kind: 'string', help: 'clamd.conf to read (default /etc/clamav/clamd.conf)' },
  { name: 'foreground', short: 'F', kind: 'flag', help: 'Stay in the foreground (as Foreground yes)' },
  { name: 'version', short: 'V', kind: 'flag', help: 'Print the version and exit' },
];

const USAGE = 'Usage: vigil daemon [-c clamd.conf] [--foreground]';

export async function runDaemonCommand(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, OPTIONS);
  if (values.get('help') === true) {
    process.stdout.write(helpText(USAGE, OPTIONS));
    return 0;
  }
  if (values.get('version') === true) {
    process.stdout.write(`Vigil ${VERSION}\n`);
    return 0;
  }
  if (positionals.length > 0) throw usageError(`vigil daemon takes no arguments (got '${positionals[0]}')\n${USAGE}`);
  const file = (values.get('config-file') as string | undefined) ?? '/etc/clamav/clamd.conf';
  const { readConfig, runDaemon } = await import('@vigil/daemon');
  const foreground = values.get('foreground') === true || readConfig(file).foreground;
  if (!foreground && process.env.VIGIL_DAEMON_CHILD !== '1') return detach(argv);
  const daemon = await runDaemon(file, VERSION, foreground);
  // Started in the background by `detach`: tell the parent, then stop writing to its terminal.
  if (process.send !== undefined) {
    process.send('ready');
    process.disconnect();
    process.stderr.on('error', () => {});
  }
  await daemon.done;
  return 0;
}

/**
 * Foreground no: clamd forks into the background. Node cannot fork, so the daemon starts itself
 * again detached, and this process waits until it is serving (or says why it could not) and exits.
 */
async function detach(argv: readonly string[]): Promise<number> {
  const { spawn } = await import('node:child_process');
  const child = spawn(process.execPath, [...process.execArgv, process.argv[1] as string, 'daemon', ...argv], {
    detached: true,
    stdio: ['ignore', 'ignore', 'pipe', 'ipc'],
    env: { ...process.env, VIGIL_DAEMON_CHILD: '1' },
  });
  child.stderr?.pipe(process.stderr);
  return new Promise((resolve) => {
    child.once('message', () => {
      child.stderr?.unpipe(process.stderr);
      child.stderr?.destroy();
      child.disconnect();
      child.unref();
      resolve(0);
    });
    child.once('exit', (code) => resolve(code === 0 ? 1 : (code ?? 1)));
  });
}
