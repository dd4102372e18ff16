// `vigil db compile` (text/CVD databases into one verified binary, written atomically) and
// `vigil db info` (counts per signature kind, as sigtool --info prints them).
import { formatDiagnostic, serializeDatabase } from '@vigil/engine';
import { DEFAULT_DATABASE_DIR, loadDatabase, writeFileAtomically } from '@vigil/node';
import { helpText, type OptionSpec, parseArgs } from './args.js';

const COMPILE_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  {
    name: 'database',
    short: 'd',
    kind: 'list',
    help: `Signature file or directory (default ${DEFAULT_DATABASE_DIR}); repeatable`,
  },
  { name: 'output', short: 'o', kind: 'string', help: 'Where to write the compiled database' },
  { name: 'detect-pua', kind: 'yesno', help: 'Include the PUA signatures (.hdu .ndu ...)' },
];
const INFO_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  { name: 'detect-pua', kind: 'yesno', help: 'Count the PUA signatures too' },
];

function compile(argv: readonly string[]): number {
  const { values } = parseArgs(argv, COMPILE_OPTIONS);
  if (values.get('help') === true) {
    process.stdout.write(helpText('Usage: vigil db compile [-d PATH]... -o FILE', COMPILE_OPTIONS));
    return 0;
  }
  const output = values.get('output') as string | undefined;
  if (output === undefined) {
    process.stderr.write('ERROR: vigil db compile needs -o FILE\n');
    return 2;
  }
  const t0 = performance.now();
  const paths = (values.get('database') as string[] | undefined) ?? [DEFAULT_DATABASE_DIR];
  const loaded = loadDatabase(paths, { detectPua: values.get('detect-pua') === true });
  for (const d of loaded.diagnostics) process.stderr.write(`WARNING: ${formatDiagnostic(d)}\n`);
  const bytes = serializeDatabase(loaded.database);
  writeFileAtomically(output, bytes);
  const ms = Math.round(performance.now() - t0);
  process.stdout.write(
    `${output}: ${loaded.database.info.total} signatures, ${(bytes.length / 1048576).toFixed(1)} MB, compiled in ${ms} ms\n`,
  );
  return 0;
}

function info(argv: readonly string[]): number {
  const { values, positionals } = parseArgs(argv, INFO_OPTIONS);
  if (values.get('help') === true || positionals.length === 0) {
    process.stdout.write(helpText('Usage: vigil db info PATH...', INFO_OPTIONS));
    return positionals.length === 0 && values.get('help') !== true ? 2 : 0;
  }
  const loaded = loadDatabase(positionals, { detectPua: values.get('detect-pua') === true });
  const { info } = loaded.database;
  const lines: string[] = [];
  for (const s of info.sources) {
    lines.push(`File: ${s.name}`);
    if (s.version !== undefined)
      lines.push(
        `Version: ${s.version}`,
        `Build time: ${s.builtAt ?? ''}`,
        `Verification OK: ${s.official === true ? 'official' : 'unsigned'}`,
      );
    lines.push(`Signatures: ${s.signatures}`);
  }
  lines.push(`Compiled: ${loaded.precompiled ? 'yes' : 'no'}`, `Total signatures: ${info.total}`);
  for (const [kind, n] of Object.entries(info.counts).sort()) if (n > 0) lines.push(`  ${kind}: ${n}`);
  for (const d of loaded.diagnostics) lines.push(`WARNING: ${formatDiagnostic(d)}`);
  process.stdout.write(`${lines.join('\n')}\n`);
  return 0;
}

export function runDb(argv: readonly string[]): number {
  const [sub, ...rest] = argv;
  if (sub === 'compile') return compile(rest);
  if (sub === 'info') return info(rest);
  process.stderr.write('Usage: vigil db compile [-d PATH]... -o FILE | vigil db info PATH...\n');
  return 2;
}
