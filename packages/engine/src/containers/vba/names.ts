// The names ClamAV gives OLE2 streams and VBA modules when it matches one against the other: a
// stream is found by the lower-cased, printable form of its UTF-16 name, whether the name comes
// from the directory or from a VBA record. Only the equality of two such names matters, so the
// forms are built exactly, expansions of odd characters included.

const isPrint = (c: number) => c >= 0x20 && c <= 0x7e;
const lower = (c: number) => String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
const signed = (b: number) => (b >= 0x80 ? b - 0x100 : b);
const letter = (v: number) => String.fromCharCode(0x61 + (v & 0xf));

/**
 * A stream's name as ClamAV keys it (its `cli_ole2_get_property_name2`): `size` bytes of UTF-16LE
 * including the final NUL, printable ASCII lower-cased, other units spelt out; undefined for an
 * empty name or a size outside 1..128.
 */
export function streamKey(name: Uint8Array, size: number): string | undefined {
  if ((name[0] === 0 && name[1] === 0) || size <= 0 || size > 128) return undefined;
  let s = '';
  for (let i = 0; i < size - 2; i += 2) {
    const lo = name[i] ?? 0;
    const hi = name[i + 1] ?? 0;
    if (lo < 0x80 && isPrint(lo) && hi === 0) s += lower(lo);
    else if (lo < 10 && hi === 0) s += `_${lo}_`;
    else {
      // ClamAV builds this from signed chars, so a high second byte fills the top with ones.
      const x = hi >= 0x80 ? 0xff00 | hi : ((signed(lo) << 8) | hi) & 0xffff;
      s += `_${letter(x)}${letter(x >> 4)}${letter(x >> 8)}_`;
    }
  }
  return s === '' ? undefined : s;
}

/**
 * A module's name as ClamAV reads it from a `_VBA_PROJECT` stream (its `get_unicode_name`): the
 * low byte of each UTF-16 unit (each byte when big-endian), lower-cased, others spelt out;
 * undefined for an empty name.
 */
export function legacyModuleKey(name: Uint8Array, bigEndian: boolean): string | undefined {
  let size = name.length;
  if (size === 0 || name[0] === 0) return undefined;
  if (!bigEndian && size % 2 === 1) size--;
  let s = '';
  for (let i = 0; i < size; i += bigEndian ? 1 : 2) {
    const c = name[i] as number;
    if (c < 0x80 && isPrint(c)) {
      s += lower(c);
      continue;
    }
    if (c < 10) s += `_${c}`;
    else {
      if (i + 1 >= size) break;
      const next = name[i + 1] as number;
      const x = next >= 0x80 ? 0xff00 | next : ((c >= 0x80 ? 0 : c << 8) | next) & 0xffff;
      s += `_${letter(x)}${letter(x >> 4)}${letter(x >> 8)}aa`;
    }
    s += '_';
  }
  return s;
}
