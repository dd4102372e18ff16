// Scanning one file from disk: size checks before reading, and errors as values (a file that
// cannot be read is reported, never thrown past the caller).
import { closeSync, fstatSync, openSync, readSync } from 'node:fs';
import { basename } from 'node:path';
import { bytesSource, type Scanner, type ScanOptions, type ScanResult } from '@vigil/engine';

/** What became of one file. */
export type FileOutcome =
  | { readonly status: 'scanned'; readonly size: number; readonly result: ScanResult }
  | { readonly status: 'error'; readonly message: string };

/** What went wrong with a file, in clamscan's words where it has them. */
export function ioErrorText(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String(e.code) : '';
  if (code === 'ENOENT') return 'No such file or directory';
  if (code === 'EACCES' || code === 'EPERM') return 'Access denied';
  if (code === 'EISDIR') return 'Is a directory';
  if (code === 'ELOOP') return 'Too many levels of symbolic links';
  return e instanceof Error ? e.message : String(e);
}

/** Files up to this size are read into one buffer kept between files; larger ones get their own. */
const REUSED_MAX = 1 << 20;
const reused = new Uint8Array(REUSED_MAX);

/** Reads into `buf` from file offset `position` until it is full or the file ends; the count read. */
export function readAt(fd: number, buf: Uint8Array, position: number): number {
  let n = 0;
  while (n < buf.length) {
    const got = readSync(fd, buf, n, buf.length - n, position + n);
    if (got === 0) break;
    n += got;
  }
  return n;
}

/**
 * A scan that examined this many bytes (the file and what was extracted from it) has its buffers
 * collected at once when Node runs with --expose-gc, as `bin/vigil` starts it. Otherwise V8 frees
 * them only once tens of MiB of them are garbage; with two or more threads scanning, that garbage
 * was a third of the peak memory.
 */
const COLLECT_AFTER = 1 << 20;

/** `outcome`, after a collection if its scan was large (see COLLECT_AFTER). */
function settled(outcome: FileOutcome): FileOutcome {
  if (outcome.status === 'scanned' && outcome.result.bytesScanned >= COLLECT_AFTER) {
    (globalThis as { gc?: () => void }).gc?.();
  }
  return outcome;
}

/** Reads a whole open file; the bytes are valid until the next call. */
function readWhole(fd: number, size: number): Uint8Array {
  const buf = size <= REUSED_MAX ? reused : new Uint8Array(size);
  // A file that shrank while being read is scanned as far as it goes.
  return buf.subarray(0, readAt(fd, buf.subarray(0, size), 0));
}

/** Scans an open file (a path's, or an unlinked spool file's); `name` is its container name. */
export function scanFd(scanner: Scanner, fd: number, options: ScanOptions, name: string): FileOutcome {
  // Collected once the file's bytes are out of scope too.
  return settled(readAndScan(scanner, fd, options, name));
}

function readAndScan(scanner: Scanner, fd: number, options: ScanOptions, name: string): FileOutcome {
  try {
    const size = fstatSync(fd).size;
    if (size > options.maxFileSize) {
      const result = scanner.scan({ size, read: () => new Uint8Array(0) }, options, name);
      return { status: 'scanned', size, result };
    }
    const bytes = readWhole(fd, size);
    return { status: 'scanned', size: bytes.length, result: scanner.scan(bytesSource(bytes), options, name) };
  } catch (e) {
    return { status: 'error', message: ioErrorText(e) };
  }
}

export function scanFile(scanner: Scanner, path: string, options: ScanOptions): FileOutcome {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (e) {
    return { status: 'error', message: ioErrorText(e) };
  }
  try {
    return scanFd(scanner, fd, options, basename(path));
  } finally {
    closeSync(fd);
  }
}

/** Scans bytes already in memory (standard input, a clamd stream). */
export function scanBytes(scanner: Scanner, bytes: Uint8Array, options: ScanOptions, name = 'stdin'): FileOutcome {
  try {
    return settled({ status: 'scanned', size: bytes.length, result: scanner.scan(bytesSource(bytes), options, name) });
  } catch (e) {
    return { status: 'error', message: ioErrorText(e) };
  }
}
