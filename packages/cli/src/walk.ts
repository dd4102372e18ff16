// What a scan visits, in clamscan's order and terms: files given on the command line (symbolic
// links followed), directories (their files; subdirectories with -r), and for each entry either a
// file to scan or a note (`Empty file`, `Symbolic link`, `Excluded`) or an error. Symbolic links
// inside directories are not followed, as clamscan's defaults have it, and a directory reached
// twice (a bind-mount loop) is reported instead of entered.
import { lstatSync, readdirSync, type Stats, statSync } from 'node:fs';
import { join } from 'node:path';
import { ioErrorText } from '@vigil/node';

export type Entry =
  | { readonly kind: 'file'; readonly path: string; readonly size: number }
  | {
      readonly kind: 'note';
      readonly path: string;
      readonly note: 'Empty file' | 'Symbolic link' | 'Excluded' | 'Not supported file type';
      /** clamscan prints no line for it (a FIFO, socket or device inside a directory); JSON still says. */
      readonly silent?: boolean;
    }
  | {
      readonly kind: 'error';
      readonly path: string;
      readonly message: string;
      readonly warning?: string;
      /** No line on standard output, only the warning (as clamscan). */
      readonly silent?: boolean;
    };

export interface WalkOptions {
  readonly recursive: boolean;
  readonly exclude: readonly RegExp[];
  readonly include: readonly RegExp[];
  readonly excludeDir: readonly RegExp[];
  readonly includeDir: readonly RegExp[];
}

export interface WalkCounters {
  directories: number;
}

/** Left out by an exclude pattern, or by include patterns it matches none of. */
function leftOut(path: string, exclude: readonly RegExp[], include: readonly RegExp[]): boolean {
  return exclude.some((r) => r.test(path)) || (include.length > 0 && !include.some((r) => r.test(path)));
}

function fileEntry(path: string, st: Stats, o: WalkOptions): Entry {
  if (leftOut(path, o.exclude, o.include)) return { kind: 'note', path, note: 'Excluded' };
  if (st.size === 0) return { kind: 'note', path, note: 'Empty file' };
  return { kind: 'file', path, size: st.size };
}

function* walkDir(dir: string, o: WalkOptions, c: WalkCounters, seen: Set<string>): Generator<Entry> {
  let names: string[];
  try {
    names = readdirSync(dir).sort();
  } catch (e) {
    yield { kind: 'error', path: dir, message: `Can't open directory: ${ioErrorText(e)}` };
    return;
  }
  c.directories++;
  for (const name of names) {
    const path = join(dir, name);
    let st: Stats;
    try {
      st = lstatSync(path);
    } catch (e) {
      yield { kind: 'error', path, message: ioErrorText(e) };
      continue;
    }
    if (st.isSymbolicLink()) {
      yield { kind: 'note', path, note: 'Symbolic link' };
    } else if (st.isDirectory()) {
      if (!o.recursive) continue;
      if (leftOut(path, o.excludeDir, o.includeDir)) {
        yield { kind: 'note', path, note: 'Excluded' };
        continue;
      }
      const key = `${st.dev}:${st.ino}`;
      if (seen.has(key)) {
        yield { kind: 'error', path, message: 'Directory loop (this directory was already scanned)' };
        continue;
      }
      seen.add(key);
      yield* walkDir(path, o, c, seen);
    } else if (st.isFile()) {
      yield fileEntry(path, st, o);
    } else {
      yield { kind: 'note', path, note: 'Not supported file type', silent: true };
    }
  }
}

/** Every entry under the command-line targets, in order. */
export function* walkTargets(targets: readonly string[], o: WalkOptions, c: WalkCounters): Generator<Entry> {
  for (const target of targets) {
    let st: Stats;
    try {
      st = statSync(target);
    } catch (e) {
      const message = ioErrorText(e);
      yield { kind: 'error', path: target, message, warning: `${target}: Can't access file` };
      continue;
    }
    if (st.isDirectory()) {
      const seen = new Set([`${st.dev}:${st.ino}`]);
      yield* walkDir(target.length > 1 ? target.replace(/\/+$/, '') : target, o, c, seen);
    } else if (st.isFile()) {
      yield fileEntry(target, st, o);
    } else {
      // A FIFO would block the reader forever; clamscan refuses these too.
      yield {
        kind: 'error',
        path: target,
        message: 'Not supported file type',
        warning: `${target}: Not supported file type`,
        silent: true,
      };
    }
  }
}
