// Command-line parsing in clamscan's style: `--name=value`, `--name value`, `-d value`, grouped
// short flags (`-ri`), repeatable options, `--` ends options. Unknown options are errors, by name.
import { VigilError } from '@vigil/engine';

export type OptionKind = 'flag' | 'string' | 'list' | 'size' | 'count' | 'yesno';

export interface OptionSpec {
  readonly name: string;
  readonly short?: string;
  readonly kind: OptionKind;
  readonly help: string;
}

export interface ParsedArgs {
  readonly values: ReadonlyMap<string, string | number | boolean | readonly string[]>;
  readonly positionals: readonly string[];
}

function bad(message: string): VigilError {
  return new VigilError('E_OPTION', message);
}

/** `100`, `100K`, `20M`, `1G` (clamscan's sizes) in bytes. */
export function parseSize(text: string, option: string): number {
  const m = /^(\d+)([kKmMgG]?)$/.exec(text);
  if (m === null) throw bad(`--${option}: '${text}' is not a size (a number with an optional K, M or G)`);
  const unit = { '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] as string).toLowerCase()] as number;
  return Number(m[1]) * unit;
}

function convert(spec: OptionSpec, value: string): string | number | boolean {
  switch (spec.kind) {
    case 'size':
      return parseSize(value, spec.name);
    case 'count': {
      if (!/^\d+$/.test(value)) throw bad(`--${spec.name}: '${value}' is not a whole number`);
      return Number(value);
    }
    case 'yesno':
    case 'flag': {
      const v = value.toLowerCase();
      if (['yes', 'true', '1'].includes(v)) return true;
      if (['no', 'false', '0'].includes(v)) return false;
      throw bad(`--${spec.name}: '${value}' is not yes or no`);
    }
    default:
      return value;
  }
}

export function parseArgs(argv: readonly string[], specs: readonly OptionSpec[]): ParsedArgs {
  const byName = new Map(specs.map((s) => [s.name, s]));
  const byShort = new Map(specs.filter((s) => s.short !== undefined).map((s) => [s.short as string, s]));
  const values = new Map<string, string | number | boolean | string[]>();
  const positionals: string[] = [];
  const set = (spec: OptionSpec, value: string | undefined) => {
    if ((spec.kind === 'flag' || spec.kind === 'yesno') && value === undefined) {
      values.set(spec.name, true);
    } else if (value === undefined) {
      throw bad(`--${spec.name} needs a value`);
    } else if (spec.kind === 'list') {
      const prev = values.get(spec.name);
      values.set(spec.name, [...(Array.isArray(prev) ? prev : []), value]);
    } else {
      values.set(spec.name, convert(spec, value));
    }
  };
  for (let i = 0; i < argv.length; i++) {
    const a = argv[i] as string;
    if (a === '--') {
      positionals.push(...argv.slice(i + 1));
      break;
    }
    if (a.startsWith('--')) {
      const eq = a.indexOf('=');
      const name = eq < 0 ? a.slice(2) : a.slice(2, eq);
      const spec = byName.get(name);
      if (spec === undefined) throw bad(`unknown option --${name} (see --help)`);
      if (eq >= 0) set(spec, a.slice(eq + 1));
      else if (spec.kind === 'flag' || spec.kind === 'yesno') set(spec, undefined);
      else set(spec, argv[++i]);
    } else if (a.startsWith('-') && a.length > 1) {
      for (let j = 1; j < a.length; j++) {
        const spec = byShort.get(a[j] as string);
        if (spec === undefined) throw bad(`unknown option -${a[j]} (see --help)`);
        if (spec.kind === 'flag') {
          set(spec, undefined);
          continue;
        }
        const rest = a.slice(j + 1);
        set(spec, rest !== '' ? rest.replace(/^=/, '') : argv[++i]);
        break;
      }
    } else {
      positionals.push(a);
    }
  }
  return { values, positionals };
}

export function helpText(usage: string, specs: readonly OptionSpec[]): string {
  const lines = specs.map((s) => {
    const arg =
      s.kind === 'flag'
        ? ''
        : s.kind === 'yesno'
          ? '=yes|no'
          : s.kind === 'size'
            ? '=SIZE'
            : s.kind === 'count'
              ? '=N'
              : '=VALUE';
    const left = `${s.short === undefined ? '    ' : `-${s.short}, `}--${s.name}${arg}`;
    return `  ${left.padEnd(34)} ${s.help}`;
  });
  return `${usage}\n\n${lines.join('\n')}\n`;
}

/** A command used wrongly: said in one line (no stack trace), exit 2. */
export const usageError = (message: string): VigilError => new VigilError('E_OPTION', message);

/** A date option's value (ISO 8601), or `fallback` when absent; a bad one is a usage error naming `what`. */
export function dateOption(v: unknown, what: string, fallback: Date): Date {
  if (v === undefined) return fallback;
  const d = new Date(String(v));
  if (Number.isNaN(d.getTime())) throw usageError(`${what}: ${String(v)} is not a date`);
  return d;
}
