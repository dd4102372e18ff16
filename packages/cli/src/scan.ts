// `vigil scan`: clamscan's command line, lines, summary and exit codes (0 clean, 1 found, 2 error),
// plus --json, --jobs and a progress line on a terminal.
import { readFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createScanner, formatDiagnostic, resolveScanOptions, type ScanOptions } from '@vigil/engine';
import {
  closeDatabase,
  DEFAULT_DATABASE_DIR,
  defaultCacheDir,
  loadDatabase,
  nodeEnv,
  ScanPool,
  scanBytes,
  scanFile,
} from '@vigil/node';
import { helpText, type OptionSpec, parseArgs, usageError } from './args.js';
import { Output, Report } from './output.js';
import { VERSION } from './version.js';
import { type Entry, walkTargets } from './walk.js';

export const SCAN_OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  {
    name: 'database',
    short: 'd',
    kind: 'list',
    help: `Signature file, directory or compiled database (default ${DEFAULT_DATABASE_DIR}); repeatable`,
  },
  { name: 'recursive', short: 'r', kind: 'flag', help: 'Scan subdirectories recursively' },
  { name: 'allmatch', short: 'z', kind: 'flag', help: 'Keep scanning after a detection; report every match' },
  { name: 'infected', short: 'i', kind: 'flag', help: 'Print infected files only' },
  { name: 'no-summary', kind: 'flag', help: 'Do not print the summary' },
  { name: 'quiet', kind: 'flag', help: 'Print error messages only' },
  { name: 'stdout', kind: 'flag', help: 'Write everything, errors too, to standard output' },
  { name: 'log', short: 'l', kind: 'string', help: 'Also append the report to FILE' },
  { name: 'file-list', short: 'f', kind: 'string', help: 'Scan the files listed in FILE, one per line' },
  { name: 'exclude', kind: 'list', help: 'Skip files whose path matches REGEX; repeatable' },
  { name: 'include', kind: 'list', help: 'Scan only files whose path matches REGEX; repeatable' },
  { name: 'exclude-dir', kind: 'list', help: 'Skip directories whose path matches REGEX; repeatable' },
  { name: 'include-dir', kind: 'list', help: 'Enter only directories whose path matches REGEX; repeatable' },
  { name: 'max-filesize', kind: 'size', help: 'Skip files larger than SIZE (default 100M)' },
  { name: 'max-scansize', kind: 'size', help: 'Scan at most SIZE per file, containers included (default 400M)' },
  { name: 'max-recursion', kind: 'count', help: 'Nest at most N containers deep (default 17)' },
  { name: 'max-files', kind: 'count', help: 'Scan at most N members per container (default 10000)' },
  { name: 'max-embeddedpe', kind: 'size', help: 'Scan executables found inside files only up to SIZE (default 40M)' },
  { name: 'max-htmlnormalize', kind: 'size', help: 'Normalise at most SIZE of an HTML file (default 40M)' },
  { name: 'max-htmlnotags', kind: 'size', help: "Match HTML's text and links only up to SIZE (default 8M)" },
  { name: 'detect-pua', kind: 'yesno', help: 'Load and report PUA signatures (.hdu .ndu ...)' },
  { name: 'json', kind: 'flag', help: 'One JSON document per file on standard output (docs/json-output.md)' },
  { name: 'jobs', short: 'j', kind: 'count', help: 'Scan N files at once on worker threads (default: all cores)' },
  { name: 'no-progress', kind: 'flag', help: 'No progress line on a terminal' },
  {
    name: 'no-cache',
    kind: 'flag',
    help: 'Parse text databases every run (default: keep a compiled copy in $VIGIL_CACHE_DIR or ~/.cache/vigil)',
  },
  { name: 'verbose', short: 'v', kind: 'flag', help: 'Also say where the compiled database came from' },
  { name: 'bell', kind: 'flag', help: 'Accepted for compatibility' },
  { name: 'max-scantime', kind: 'count', help: 'Stop scanning a file after N milliseconds (default 120000; 0: none)' },
  ...(
    [
      ['scan-archive', 'Unpack archives and compressed files (default yes)'],
      ['scan-mail', 'Decode mail and its attachments (default yes)'],
      ['scan-html', 'Extract what HTML embeds, such as data: URIs (default yes)'],
      ['scan-pdf', 'Look into PDF documents (default yes)'],
      ['scan-ole2', 'Look into OLE2 documents (default yes)'],
      ['scan-pe', 'Match PE section hashes (default yes)'],
    ] as const
  ).map(([name, help]): OptionSpec => ({ name, kind: 'yesno', help })),
  { name: 'alert-exceeds-max', kind: 'yesno', help: 'Report files a limit stopped as Heuristics.Limits.Exceeded.*' },
  { name: 'alert-encrypted', kind: 'yesno', help: 'Report encrypted archive members as Heuristics.Encrypted.*' },
  { name: 'alert-broken', kind: 'yesno', help: 'Report damaged executables as Heuristics.Broken.Executable' },
  // Accepted so clamscan command lines keep working; these formats are not looked into yet.
  ...['scan-elf', 'scan-swf', 'scan-xmldocs', 'scan-hwp3', 'scan-onenote', 'scan-image'].map(
    (name): OptionSpec => ({ name, kind: 'yesno', help: 'Accepted for compatibility' }),
  ),
];

const USAGE = 'Usage: vigil scan [options] [file/directory/-]...';

/** Workers are worth their start-up only for more files than this. */
const POOL_MIN_FILES = 16;

function regexes(list: unknown, option: string): RegExp[] {
  return ((list as string[] | undefined) ?? []).map((r) => {
    try {
      return new RegExp(r);
    } catch (e) {
      throw usageError(`--${option}: bad regular expression '${r}': ${(e as Error).message}`);
    }
  });
}

/** The yes/no options given on the command line, as scan options. */
type Switch = { [K in keyof ScanOptions]: ScanOptions[K] extends boolean ? K : never }[keyof ScanOptions];
function switches(
  values: ReadonlyMap<string, unknown>,
  names: Readonly<Record<string, Switch>>,
): Partial<Record<Switch, boolean>> {
  const out: Partial<Record<Switch, boolean>> = {};
  for (const [flag, key] of Object.entries(names)) if (values.has(flag)) out[key] = values.get(flag) === true;
  return out;
}

function readStdin(): Uint8Array {
  return new Uint8Array(readFileSync(0));
}

export async function runScan(argv: readonly string[]): Promise<number> {
  const start = new Date();
  const t0 = performance.now();
  const { values, positionals } = parseArgs(argv, SCAN_OPTIONS);
  if (values.get('help') === true) {
    process.stdout.write(helpText(USAGE, SCAN_OPTIONS));
    return 0;
  }
  const json = values.get('json') === true;
  const infectedOnly = values.get('infected') === true;
  const out = new Output({
    allToStdout: values.get('stdout') === true,
    quiet: values.get('quiet') === true,
    ...(values.has('log') ? { log: values.get('log') as string } : {}),
  });
  const options: ScanOptions = resolveScanOptions({
    allMatch: values.get('allmatch') === true,
    detectPua: values.get('detect-pua') === true,
    ...(values.has('max-filesize') ? { maxFileSize: values.get('max-filesize') as number } : {}),
    ...(values.has('max-scansize') ? { maxScanSize: values.get('max-scansize') as number } : {}),
    ...(values.has('max-recursion') ? { maxRecursion: values.get('max-recursion') as number } : {}),
    ...(values.has('max-files') ? { maxFiles: values.get('max-files') as number } : {}),
    ...(values.has('max-embeddedpe') ? { maxEmbeddedPe: values.get('max-embeddedpe') as number } : {}),
    ...(values.has('max-htmlnormalize') ? { maxHtmlNormalize: values.get('max-htmlnormalize') as number } : {}),
    ...(values.has('max-htmlnotags') ? { maxHtmlNoTags: values.get('max-htmlnotags') as number } : {}),
    ...(values.has('max-scantime') ? { maxScanTime: values.get('max-scantime') as number } : {}),
    ...switches(values, {
      'scan-archive': 'scanArchive',
      'scan-mail': 'scanMail',
      'scan-html': 'scanHtml',
      'scan-pdf': 'scanPdf',
      'scan-ole2': 'scanOle2',
      'scan-pe': 'scanPe',
      'alert-exceeds-max': 'alertExceedsMax',
      'alert-encrypted': 'alertEncrypted',
      'alert-broken': 'alertBroken',
    }),
  });
  const walkOptions = {
    recursive: values.get('recursive') === true,
    exclude: regexes(values.get('exclude'), 'exclude'),
    include: regexes(values.get('include'), 'include'),
    excludeDir: regexes(values.get('exclude-dir'), 'exclude-dir'),
    includeDir: regexes(values.get('include-dir'), 'include-dir'),
  };
  const targets = [...positionals];
  if (values.has('file-list')) {
    const list = values.get('file-list') as string;
    let text: string;
    try {
      text = readFileSync(list, 'utf8');
    } catch (e) {
      out.error(`ERROR: --file-list: can't read ${list}: ${(e as Error).message}`);
      return 2;
    }
    targets.push(
      ...text
        .split('\n')
        .map((l) => l.replace(/\r$/, ''))
        .filter((l) => l !== ''),
    );
  }
  if (targets.length === 0 && !values.has('file-list')) targets.push('.');

  let loaded: ReturnType<typeof loadDatabase>;
  try {
    loaded = loadDatabase(
      (values.get('database') as string[] | undefined) ?? [DEFAULT_DATABASE_DIR],
      { detectPua: options.detectPua },
      values.get('no-cache') === true ? undefined : { dir: defaultCacheDir() },
    );
  } catch (e) {
    out.error(`ERROR: ${(e as Error).message}`);
    return 2;
  }
  for (const d of loaded.diagnostics) if (!json) out.error(`WARNING: ${formatDiagnostic(d)}`);
  if (values.get('verbose') === true && loaded.cacheFile !== undefined) {
    out.error(
      `${loaded.fromCache === true ? 'Loaded the compiled database' : 'Compiled the database into'} ${loaded.cacheFile}`,
    );
  }
  const scanner = createScanner(loaded.database, nodeEnv);

  const counters = { directories: 0 };
  const entries: Entry[] = [];
  const stdinIndex = targets.indexOf('-');
  for (const e of walkTargets(
    targets.filter((t) => t !== '-'),
    walkOptions,
    counters,
  ))
    entries.push(e);
  const fileCount = entries.filter((e) => e.kind === 'file').length;
  const jobs = Math.max(1, (values.get('jobs') as number | undefined) ?? availableParallelism());
  const pool =
    jobs > 1 && fileCount >= POOL_MIN_FILES
      ? new ScanPool(Math.min(jobs, fileCount), { database: loaded, options })
      : undefined;
  const pending = entries.map((e) => (e.kind === 'file' ? pool?.scan(e.path) : undefined));

  const report = new Report(out, {
    json,
    infectedOnly,
    progress:
      process.stderr.isTTY === true && !json && values.get('no-progress') !== true && values.get('quiet') !== true,
    fileCount,
  });
  if (stdinIndex >= 0) report.outcome('stdin', scanBytes(scanner, readStdin(), options));
  for (let i = 0; i < entries.length; i++) {
    const e = entries[i] as Entry;
    if (e.kind === 'file') {
      const p = pending[i];
      report.outcome(e.path, p === undefined ? scanFile(scanner, e.path, options) : await p);
    } else if (e.kind === 'note') {
      report.note(e.path, e.note, e.silent === true);
    } else {
      report.error(e.path, e.message, e.warning, e.silent === true);
    }
  }
  await pool?.close();
  closeDatabase(loaded);
  out.clearProgress();

  const totals = report.totals;
  if (values.get('no-summary') !== true) {
    report.summary({
      knownSignatures: loaded.database.info.total,
      engineVersion: `Vigil ${VERSION}`,
      directories: counters.directories,
      ...totals,
      seconds: (performance.now() - t0) / 1000,
      start,
      end: new Date(),
    });
  }
  return totals.errors > 0 ? 2 : totals.infected > 0 ? 1 : 0;
}
