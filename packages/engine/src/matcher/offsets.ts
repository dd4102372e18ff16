// Resolves a pattern's offset (ClamAV's `*`, `n`, `EOF-n`, `EP+n`, `Sx+n`, `SEx`, `SL+n`, each with
// `,MaxShift`) into the window of file positions where a match may start, for one file.
import type { FileFacts } from '../filetypes/types.js';

/** Where a match may start, inclusive, and where it must end (SEx: inside the section). */
export interface StartWindow {
  readonly lo: number;
  readonly hi: number;
  readonly endMax: number;
}

/** Offset kinds, as numbered in program.ts's OFFSET_KINDS. */
export const OFFSET_ANY = 0;
export const OFFSET_ABS = 1;
export const OFFSET_EOF = 2;
const ANY = OFFSET_ANY;
const ABS = OFFSET_ABS;
const EOF = OFFSET_EOF;
const EP = 3;
const SECTION = 4;
const SECTION_ENTIRE = 5;
const LAST_SECTION = 6;

function window(base: number, shift: number, size: number): StartWindow | undefined {
  if (base > size || base + shift < 0) return undefined;
  return { lo: Math.max(0, base), hi: Math.min(size, base + shift), endMax: size };
}

/**
 * The start window of an offset on a file, or undefined when the offset cannot apply (an EP or
 * section offset on a file without executable facts, a section that does not exist).
 */
export function startWindow(
  kind: number,
  o: { readonly n: number; readonly shift: number; readonly index: number },
  facts: FileFacts,
  size: number,
): StartWindow | undefined {
  switch (kind) {
    case ANY:
      return { lo: 0, hi: size, endMax: size };
    case ABS:
      return window(o.n, o.shift, size);
    case EOF:
      return window(size - o.n, o.shift, size);
    case EP: {
      const ep = facts.exe?.entryPoint;
      return ep === undefined ? undefined : window(ep + o.n, o.shift, size);
    }
    case SECTION:
    case SECTION_ENTIRE:
    case LAST_SECTION: {
      const sections = facts.exe?.sections;
      if (sections === undefined || sections.length === 0) return undefined;
      const s = sections[kind === LAST_SECTION ? sections.length - 1 : o.index];
      if (s === undefined) return undefined;
      if (kind !== SECTION_ENTIRE) return window(s.rawOffset + o.n, o.shift, size);
      const end = Math.min(size, s.rawOffset + s.rawSize);
      return s.rawOffset > end ? undefined : { lo: s.rawOffset, hi: end, endMax: end };
    }
    default:
      return undefined;
  }
}
