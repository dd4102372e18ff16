// ClamAV's test files for the engine's tests (installed in CI under /usr/share/clamav-testfiles;
// a test that needs one is skipped, saying so, when it is absent), clam.exe's SHA-256, and finding
// clam.exe, or a ZIP holding it, in what a handler produced.
import { createHash } from 'node:crypto';
import { existsSync, readFileSync } from 'node:fs';
import { join } from 'node:path';
import { inflateRawSync } from 'node:zlib';

/** Where ClamAV's test files are installed. */
export const TESTFILES = '/usr/share/clamav-testfiles';
/** SHA-256 of clam.exe, the 544-byte test program every test file wraps. */
export const CLAM_EXE_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';
const CLAM_EXE_SIZE = 544;

/** Hex SHA-256 of `d`. */
export const sha256 = (d: Uint8Array): string => createHash('sha256').update(d).digest('hex');
/** Hex MD5 of `d` (as clamscan's --leave-temps files are compared). */
export const md5 = (d: Uint8Array): string => createHash('md5').update(d).digest('hex');

/** Whether test file `name` is installed. */
export function hasTestFile(name: string): boolean {
  return existsSync(join(TESTFILES, name));
}

/** A test's `skip` option: false when every named file (else the directory) is installed, else why not. */
export function skipWithout(...names: string[]): false | string {
  const missing = names.length === 0 ? (existsSync(TESTFILES) ? undefined : '') : names.find((n) => !hasTestFile(n));
  return missing === undefined ? false : `${join(TESTFILES, missing)} is not installed`;
}

/** Test file `name`'s bytes (a fresh copy the test may change). */
export function testFile(name: string): Uint8Array {
  return new Uint8Array(readFileSync(join(TESTFILES, name)));
}

/** clam.exe's bytes, or undefined when the test files are not installed. */
export function clamExe(): Uint8Array | undefined {
  return hasTestFile('clam.exe') ? testFile('clam.exe') : undefined;
}

/** Every offset in `d` where clam.exe's 544 bytes sit whole. */
export function clamOffsets(d: Uint8Array): number[] {
  const found: number[] = [];
  for (let i = d.indexOf(0x4d); i >= 0 && i + CLAM_EXE_SIZE <= d.length; i = d.indexOf(0x4d, i + 1)) {
    if (d[i + 1] === 0x5a && sha256(d.subarray(i, i + CLAM_EXE_SIZE)) === CLAM_EXE_SHA256) found.push(i);
  }
  return found;
}

/** The first offset in `d` where clam.exe sits, or -1. */
export function findClam(d: Uint8Array): number {
  return clamOffsets(d)[0] ?? -1;
}

/**
 * The SHA-256 of each member of every ZIP local header found in `d`, in order: stored ones as they
 * are, deflated ones inflated (as empty when they do not inflate). Rebuilt executables often hold a
 * ZIP with clam.exe.
 */
export function zipHashes(d: Uint8Array): string[] {
  return zipMembers(d).map(sha256);
}

function zipMembers(d: Uint8Array): Uint8Array[] {
  const v = new DataView(d.buffer, d.byteOffset, d.length);
  const out: Uint8Array[] = [];
  const magic = Uint8Array.of(0x50, 0x4b, 0x03, 0x04);
  for (let at = indexOfBytes(d, magic); at >= 0 && at + 30 <= d.length; at = indexOfBytes(d, magic, at + 4)) {
    const start = at + 30 + v.getUint16(at + 26, true) + v.getUint16(at + 28, true);
    const body = d.subarray(start, start + v.getUint32(at + 18, true));
    if (v.getUint16(at + 8, true) !== 8) out.push(body);
    else {
      try {
        out.push(new Uint8Array(inflateRawSync(body)));
      } catch {
        out.push(new Uint8Array(0));
      }
    }
  }
  return out;
}

/** Where `needle` first occurs in `hay` at or after `from`, or -1. */
export function indexOfBytes(hay: Uint8Array, needle: Uint8Array, from = 0): number {
  return Buffer.from(hay.buffer, hay.byteOffset, hay.length).indexOf(needle, from);
}
