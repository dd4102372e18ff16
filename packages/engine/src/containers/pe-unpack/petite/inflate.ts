// Petite 2.x's unpacking as ClamAV does it: walks the packer's table of blocks (moves of packed data
// and compressed sections), expands each section with Petite's bit-stream LZ coder into the image,
// strips Petite's own code from the last section, recovers the original entry point, and lists the
// sections found. index.ts recognises the stub and builds the PE; this works on the image only.
import { u32le } from '../../read.js';
import { i32le } from '../bytes.js';

/** A section of the original program, as the table and the decoded data describe it. */
export interface PetiteSection {
  rva: number;
  vsz: number;
  rsz: number;
}

/** What one run over the packed image needs to know of the packed file. */
export interface PetiteJob {
  /** The image from RVA `min` on, with the sections' file data in place; decoded in place. */
  readonly buf: Uint8Array;
  readonly min: number;
  /** The packed file's sections (the last one is Petite's for version 2, the one before for 1). */
  readonly sections: readonly { readonly rva: number; readonly vsz: number }[];
  readonly imageBase: number;
  /** The packed file's entry point RVA. */
  readonly entryRva: number;
  /** 2 for the stub that loads the last section's address, 1 for the one before it. */
  readonly version: 1 | 2;
}

/** The sections found, sorted by address, and the original entry point (0 when not found). */
export type PetiteOutcome =
  | { readonly ok: true; readonly sections: readonly PetiteSection[]; readonly entryRva: number }
  | { readonly ok: false; readonly why: string };

/** Windows' limit, and ClamAV's, on sections. */
const MAX_SECTIONS = 96;
/** Moves of packed data in one table (Petite writes one or two; each may copy the whole image). */
const MAX_MOVES = 64;
/** Steps of the import walk that decrypts the entry point (a hostile table could loop quadratically). */
const MAX_IMPORT_STEPS = 1 << 20;

/** Clues to the original entry point, read from Petite's code at the end of the last section. */
interface EntryClues {
  encrypted: number;
  importsRva: number;
  mangled: boolean;
}

/** Unpacks every block of Petite's table into `job.buf`. */
export function petiteInflate(job: PetiteJob): PetiteOutcome {
  const { buf, min } = job;
  const has = (rva: number, len: number) => len > 0 && rva >= min && rva - min + len <= buf.length;
  const grown = job.version === 2 ? 0x355 : 0x323;
  const skew = job.version === 2 ? 0x35 : 0x34;
  const petiteRva = (job.sections[job.sections.length - 1] as { rva: number }).rva;
  let table = petiteRva + (job.version === 2 ? 0x1b8 : 0x178);
  const found: PetiteSection[] = [];
  const clues: EntryClues = { encrypted: 0, importsRva: 0, mangled: false };
  let bottom = 0;
  let firstOfGroup = true;
  let moves = 0;
  for (;;) {
    if (!has(table, 4)) return { ok: false, why: 'its block table runs out of the image' };
    const head = u32le(buf, table - min);
    if (head === 0) break;
    if (!has(table + 4, 8)) return { ok: false, why: 'its block table runs out of the image' };
    const a = u32le(buf, table + 4 - min);
    const b = u32le(buf, table + 8 - min);
    if (head & 0x80000000) {
      // A move of packed data to the end of its area, before that area's sections are expanded.
      const dwords = head & 0x7fffffff;
      if (++moves > MAX_MOVES || b > 0xfffffffb) return { ok: false, why: 'its block table is damaged' };
      firstOfGroup = true;
      bottom = b + 4;
      const from = a - (dwords - 1) * 4;
      const to = b - (dwords - 1) * 4;
      if (dwords === 0 || !has(from, dwords * 4) || !has(to, dwords * 4))
        return { ok: false, why: 'a block move leaves the image' };
      buf.copyWithin(to - min, from - min, from - min + dwords * 4);
      table += 12;
      continue;
    }
    table += 16;
    if (found.length >= MAX_SECTIONS) return { ok: false, why: `more than ${MAX_SECTIONS} sections` };
    // Its memory size: up to the end of its group's area, when that lies above it.
    const room = (bottom - b) | 0;
    const sect: PetiteSection = { rva: b, rsz: a, vsz: room > 0 ? room : a };
    found.push(sect);
    if (a === 0) continue; // an empty section (stripped relocations)
    const home = job.sections.find((s) => contains(s.rva, s.vsz, sect.rva, sect.vsz));
    if (home === undefined) return { ok: false, why: 'a section lies outside the packed sections' };
    if (firstOfGroup) {
      // The first section of a group may begin with data left unpacked (an icon): start at its home.
      sect.rva = home.rva;
      sect.rsz = b - home.rva + a;
    }
    const end = expand(buf, min, { src: head, dst: b, size: a });
    if (end === undefined) return { ok: false, why: 'its compressed data is damaged' };
    stripStub(buf, min, { sect, end, grown, skew }, clues);
    firstOfGroup = false;
  }
  if (found.length === 0) return { ok: false, why: 'its block table lists no section' };
  return finish(job, found, clues, petiteRva);
}

/** ClamAV's containment test on numbers: [inner, inner+innerLen) lies inside [outer, outer+outerLen). */
function contains(outer: number, outerLen: number, inner: number, innerLen: number): boolean {
  return outerLen > 0 && innerLen > 0 && innerLen <= outerLen && inner >= outer && inner + innerLen <= outer + outerLen;
}

/** Sorts the sections, sizes each up to the next, decrypts the entry point. */
function finish(job: PetiteJob, found: PetiteSection[], clues: EntryClues, petiteRva: number): PetiteOutcome {
  found.sort((x, y) => x.rva - y.rva);
  for (let t = 0; t + 1 < found.length; t++) {
    const cur = found[t] as PetiteSection;
    cur.vsz = ((found[t + 1] as PetiteSection).rva - cur.rva) >>> 0;
  }
  let entryRva = clues.encrypted;
  if (clues.encrypted) {
    const key = job.version === 2 ? walkImports(job, clues, petiteRva) : clues.encrypted;
    entryRva = key === undefined ? (found[0] as PetiteSection).rva : (job.entryRva + 5 + key) >>> 0;
  }
  return { ok: true, sections: found, entryRva };
}

/**
 * Petite 2.2 scrambles the entry point with a value rotated once per imported function; replays
 * that walk over the import thunks. Undefined when the walk does not end cleanly.
 */
function walkImports(job: PetiteJob, clues: EntryClues, petiteRva: number): number | undefined {
  const { buf, min } = job;
  const has = (rva: number) => rva >= min && rva - min + 4 <= buf.length;
  let key = clues.encrypted;
  let fake = (job.entryRva + 5 + job.imageBase) >>> 0;
  let rndm = 0;
  let thunk = clues.importsRva;
  let steps = 0;
  let listEnded = true;
  while (listEnded && has(thunk)) {
    const list = u32le(buf, thunk - min);
    if (list === 0) return key;
    thunk += 4;
    listEnded = false;
    for (let at = list; has(at); at += 4) {
      if (++steps > MAX_IMPORT_STEPS) return undefined;
      let api = u32le(buf, at - min);
      if (api === 0) {
        listEnded = true;
        break;
      }
      if (!(api & 0x80000000) && clues.mangled && --rndm < 0) {
        api = fake;
        fake = (fake + 5) >>> 0;
        rndm = fake & 7;
      } else api = 0xbff01337;
      if ((petiteRva + job.imageBase) >>> 0 < api) key = (key - 1) >>> 0;
      if (api < fake) key = (key - 1) >>> 0;
      key = ((key >>> 3) | (key << 29)) >>> 0;
    }
  }
  return undefined;
}

/** Where a section's compressed data is and where it expands to, and its expanded size. */
interface Stream {
  src: number;
  dst: number;
  size: number;
}

/** Petite's control bits, one byte at a time from the top, read from the stream it shares with literals. */
class ControlBits {
  private ctl = 0;

  constructor(
    private readonly buf: Uint8Array,
    public pos: number,
  ) {}

  /** The next bit, or -1; like Petite's own bounds, never takes the image's last byte. */
  bit(): number {
    const old = this.ctl;
    this.ctl = (old << 1) & 0xff;
    if (old & 0x7f) return old >> 7;
    if (this.pos < 0 || this.pos >= this.buf.length - 1) return -1;
    const next = this.buf[this.pos++] as number;
    this.ctl = ((next << 1) | 1) & 0xff;
    return next >> 7;
  }

  /** `n` bits appended to `v`, or -1. */
  more(v: number, n: number): number {
    let r = v;
    for (let k = 0; k < n; k++) {
      const b = this.bit();
      if (b < 0 || r >= 0x40000000) return -1;
      r = r * 2 + b;
    }
    return r;
  }

  /** An Elias-gamma number (2 and up), or -1. */
  gamma(): number {
    let v = 1;
    for (;;) {
      v = this.more(v, 1);
      if (v < 0) return -1;
      const go = this.bit();
      if (go < 0) return -1;
      if (!go) return v;
    }
  }
}

/** A copy's distance (the last one when it is reused) and its length. */
interface Match {
  dist: number;
  len: number;
}

/** Reads the copy after a 1-bit; longer distances (past `far`, `farther`) lengthen it. */
function readMatch(c: ControlBits, last: number, shape: readonly [number, number, number]): Match | undefined {
  const [far, farther, extraBits] = shape;
  const v = c.gamma();
  if (v < 0) return undefined;
  let dist = last;
  let extra = 0;
  if (v >= 3) {
    const d = c.more(v - 3, extraBits);
    if (d < 0) return undefined;
    dist = d + 1;
    extra = 1 + (dist > far ? 1 : 0) + (dist > farther ? 1 : 0);
  }
  let len = c.more(0, 2);
  if (len === 0) {
    const g = c.gamma();
    len = g < 0 ? -1 : g + 2;
  }
  if (len < 0) return undefined;
  return { dist, len: len + extra };
}

/** Petite's LZ coder: literals are XORed with the count of bytes left; copies may reuse a distance. */
function expand(buf: Uint8Array, min: number, s: Stream): number | undefined {
  let dst = s.dst - min;
  let left = s.size;
  const c = new ControlBits(buf, s.src - min);
  const shape: [number, number, number] =
    s.size < 0x10000 ? [0x3a0, 0x3fa0, 5] : s.size < 0x40000 ? [0x680, 0x7e80, 7] : [0x500, 0x7d00, 8];
  if (c.pos < 0 || c.pos >= buf.length || dst < 0 || dst >= buf.length) return undefined;
  buf[dst++] = buf[c.pos++] as number;
  left--;
  let lastDist = 0;
  while (left > 0) {
    const b = c.bit();
    if (b < 0) return undefined;
    if (b === 0) {
      if (c.pos >= buf.length || dst >= buf.length) return undefined;
      buf[dst++] = (buf[c.pos++] as number) ^ (left & 0xff);
      left--;
      continue;
    }
    const m = readMatch(c, lastDist, shape);
    if (m === undefined || m.len > left || dst + m.len > buf.length || dst - m.dist < 0) return undefined;
    lastDist = m.dist;
    left -= m.len;
    for (let k = 0; k < m.len; k++, dst++) buf[dst] = buf[dst - m.dist] as number;
  }
  return dst + min;
}

/** A decoded section, where its data ended, and Petite's stub sizes for this version. */
interface StubPlace {
  sect: PetiteSection;
  end: number;
  grown: number;
  skew: number;
}

/** Petite appends its own code to the last section it packs; finds it, reads its clues, cuts it. */
function stripStub(buf: Uint8Array, min: number, p: StubPlace, clues: EntryClues): void {
  const at = (rva: number, len: number) => rva >= min && rva - min + len <= buf.length;
  const magicAt = (rva: number) =>
    at(rva, 8) && u32le(buf, rva - min) === 0x645ec033 && u32le(buf, rva - min + 4) === 0x1b8b188b;
  const base = p.end - p.grown;
  let reloc: number | undefined;
  if (p.sect.rsz > p.grown && magicAt(base + 5 + 0x4f)) reloc = 0;
  else if (p.sect.rsz > p.grown + p.skew && magicAt(base + 5 + 0x4f - p.skew)) reloc = p.skew;
  if (reloc === undefined || !at(base + 0x0f - 8 - reloc, 8)) return;
  const code = base - reloc - min;
  const test1 = (i32le(buf, code + 0x07) ^ 0x9d6661aa) >>> 0;
  const test2 = (i32le(buf, code + 0x0b) ^ 0xe908c483) >>> 0;
  if (test1 === test2 && at(base + 0x0f - reloc, 0x1c0 - 0x0f + 4)) {
    clues.importsRva = u32le(buf, code + 0x121);
    clues.encrypted = (u32le(buf, code + 0x0f) ^ test1) >>> 0;
    clues.mangled = u32le(buf, code + 0x1c0) !== 0x90909090;
  }
  p.sect.rsz -= p.grown + reloc;
}
