// How differences between vigil and clamscan are explained, shared by the differential test and
// `npm run bench`: by rule, never by a list of names.
import { readdirSync, readFileSync } from 'node:fs';
import { join } from 'node:path';

/**
 * The one kind of extra detection that is understood. ClamAV splits a pattern at `*` and at gap
 * ranges (`{n-m}`) and remembers at most 8 offsets (AC_DEFAULT_TRACKLEN) at which each part
 * matched; in a long run of one byte value a part matches at every offset, the 8 remembered ones
 * are soon too far from where the next part matches, and ClamAV misses a real match. Vigil checks
 * every candidate. The generator cuts some planted patterns from zero-filled regions of shared
 * objects, which is exactly this case: a split pattern whose literal bytes are mostly one value.
 */
export function isRunDegenerate(hexPattern: string): boolean {
  if (!/\*|\{\d*-\d*\}/.test(hexPattern)) return false;
  const bytes = (hexPattern.replace(/\{[^}]*\}|\([^)]*\)|\*/g, ' ').match(/[0-9a-f]{2}/g) ?? []).filter(
    (b) => b !== '??',
  );
  const counts = new Map<string, number>();
  for (const b of bytes) counts.set(b, (counts.get(b) ?? 0) + 1);
  return bytes.length > 0 && Math.max(...counts.values()) >= 0.75 * bytes.length;
}

/** Signature name -> its hex patterns, from the generated .ndb and .ldb files. */
export function patternsByName(dbDir: string): Map<string, string[]> {
  const out = new Map<string, string[]>();
  for (const f of readdirSync(dbDir)) {
    const text = readFileSync(join(dbDir, f), 'utf8');
    for (const line of text.split('\n')) {
      if (f.endsWith('.ndb')) {
        const [name, , , hex] = line.split(':');
        if (name && hex) out.set(`${name}.UNOFFICIAL`, [hex]);
      } else if (f.endsWith('.ldb')) {
        const [name, , , ...subs] = line.split(';');
        if (name) out.set(`${name}.UNOFFICIAL`, subs);
      }
    }
  }
  return out;
}

/**
 * True for a detection inside something the container stage (a later one) unpacks: an archive or
 * compressed file, or one of ClamAV's test files (its test program wrapped in packers, installers
 * and documents).
 */
export function isInsideContainer(line: string): boolean {
  return (
    /\.(gz|bz2|xz|zst|zip|jar|tar|tgz|7z|rar|cab|msi|cpio|iso|deb)(: |\/)/i.test(line) ||
    /\/archives\/|\/clamav-testfiles\/|\/testfiles\/clam/.test(line)
  );
}
