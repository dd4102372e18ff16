// Scanning one file from disk: size checks before reading, and errors as values (a file that
// cannot be read is reported, never thrown past the caller).
import { readFileSync, statSync } from 'node:fs';
import { bytesSource, type Scanner, type ScanOptions, type ScanResult } from '@vigil/engine';

/** What became of one file. */
export type FileOutcome =
  | { readonly status: 'scanned'; readonly size: number; readonly result: ScanResult }
  | { readonly status: 'error'; readonly message: string };

function reason(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String(e.code) : '';
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'Access denied';
  if (code === 'EISDIR') return 'Is a directory';
  return e instanceof Error ? e.message : String(e);
}

export function scanFile(scanner: Scanner, path: string, options: ScanOptions): FileOutcome {
  try {
    const size = statSync(path).size;
    if (size > options.maxFileSize) {
      const result = scanner.scan({ size, read: () => new Uint8Array(0) }, options);
      return { status: 'scanned', size, result };
    }
    const bytes = new Uint8Array(readFileSync(path));
    return { status: 'scanned', size: bytes.length, result: scanner.scan(bytesSource(bytes), options) };
  } catch (e) {
    return { status: 'error', message: reason(e) };
  }
}

/** Scans bytes already read (standard input). */
export function scanBytes(scanner: Scanner, bytes: Uint8Array, options: ScanOptions): FileOutcome {
  return { status: 'scanned', size: bytes.length, result: scanner.scan(bytesSource(bytes), options) };
}
