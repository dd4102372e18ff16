// Text normalisation for target 7 (and generic signatures on text): ASCII letters lower-cased,
// every run of white space (space, tab, CR, LF, VT, FF) turned into one space, and other control
// bytes and every byte above 0x7f (UTF-8 sequences included) dropped, as ClamAV's text
// normaliser does before matching text files (each rule checked with clamscan 1.4.6).

import { scratch } from './scratch.js';

/** ASCII white space: space, tab, LF, VT, FF, CR. */
export const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);

/** The normalised text of `data`; valid until the next call (the buffer is reused). */
export function normaliseText(data: Uint8Array): Uint8Array {
  const out = scratch('text', data.length);
  let n = 0;
  let space = false;
  for (let i = 0; i < data.length; i++) {
    const b = data[i] as number;
    if (isSpace(b)) {
      space = true;
      continue;
    }
    if (b < 0x20 || b > 0x7f) continue;
    if (space) {
      out[n++] = 0x20;
      space = false;
    }
    out[n++] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
  }
  if (space) out[n++] = 0x20;
  return out.subarray(0, n);
}
