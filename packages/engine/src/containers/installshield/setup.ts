// Older InstallShield setups (Setup.exe with its files appended): the PE overlay is a run of file
// records, each four NUL-terminated strings (name, path, version, size in decimal) and then the
// file's bytes. Files are members as they are, except data1.hdr and the dataN.cab files, which
// hdr.ts reads together to extract the files they hold. Locating the overlay is overlay.ts's job.
import { cString } from '../read.js';
import type { ExtractContext, Member } from '../types.js';
import { type Cabinet, hdrFiles, type Span } from './hdr.js';
import { CAB_NUMBER_MAX, MAX_RECORDS, OVERLAY_STRING_MAX } from './limits.js';

/** A leading integer as C's strtol reads it (spaces, a sign, digits), and what follows; undefined without digits. */
export function leadingInteger(s: string): { value: number; rest: string } | undefined {
  const m = /^[ \t\n\v\f\r]*([+-]?)(\d+)/.exec(s);
  if (m === null) return undefined;
  const magnitude = Number(m[2]);
  return { value: m[1] === '-' ? -magnitude : magnitude, rest: s.slice(m[0].length) };
}

/** One file record of the overlay. */
interface Entry extends Span {
  readonly name: string;
}

/** The NUL-terminated string at `o`, if its NUL lies within the string cap and the data. */
function stringAt(d: Uint8Array, o: number): string | undefined {
  const nul = d.subarray(o, Math.min(d.length, o + OVERLAY_STRING_MAX)).indexOf(0);
  return nul < 0 ? undefined : cString(d, o, o + nul);
}

/**
 * The file records from `start`, within the overlay's `size` bytes, as ClamAV walks them: a record
 * whose size string is not a plain number, or whose file would reach the overlay's end, ends the walk
 * (`cut` is told when the file runs past that end, the overlay truncated, and when MAX_RECORDS is reached).
 */
export function* overlayEntries(
  d: Uint8Array,
  overlay: Span,
  cut: (what: string) => void = () => {},
): Generator<Entry> {
  const start = overlay.off;
  const size = overlay.size;
  let o = start;
  let room = size;
  for (let records = 0; ; records++) {
    if (records === MAX_RECORDS) {
      cut(`more than ${MAX_RECORDS} file records`);
      return;
    }
    const fields: string[] = [];
    let p = o;
    for (let i = 0; i < 4; i++) {
      const s = stringAt(d, p);
      if (s === undefined) return;
      fields.push(s);
      p += s.length + 1;
    }
    const [name = '', , , sizeText = ''] = fields;
    const n = leadingInteger(sizeText);
    const head = p - o;
    if (n === undefined || n.rest !== '' || n.value < 0) return;
    // ClamAV also drops a file that ends exactly at the overlay's end (setups end so: setup.inx).
    if (n.value >= room || head >= room - n.value) {
      if (head + n.value > room) cut(`${name} runs past the end of the data`);
      return;
    }
    yield { name, off: p, size: n.value };
    room -= head + n.value;
    o = p + n.value;
  }
}

/** dataN.cab's number N, when `name` is one ClamAV keeps for data1.hdr. */
function cabNumber(name: string): number | undefined {
  if (name.length <= 4 || name.slice(0, 4).toLowerCase() !== 'data') return undefined;
  const n = leadingInteger(name.slice(4));
  if (n === undefined || n.value <= 0 || n.value >= CAB_NUMBER_MAX) return undefined;
  return n.rest.toLowerCase() === '.cab' ? n.value : undefined;
}

/** A stored file as a member, unless it is empty or too big. */
function plain(d: Uint8Array, e: Span & { name: string }, ctx: ExtractContext): Member | undefined {
  if (e.size === 0) return undefined;
  if (e.size > ctx.maxMemberSize) {
    ctx.tooBig(e.name, e.size);
    return undefined;
  }
  return { name: e.name, data: d.subarray(e.off, e.off + e.size) };
}

/**
 * The members of an InstallShield setup overlay: its plain files first, then the files data1.hdr
 * lists in the cabinets, then (when reading those went amiss) data1.hdr and the cabinets themselves.
 */
export function* setupMembers(d: Uint8Array, overlay: Span, ctx: ExtractContext): Generator<Member> {
  let hdr: Entry | undefined;
  const cabs: Cabinet[] = [];
  const cut = (what: string) => ctx.broken(`InstallShield setup: ${what}`);
  for (const e of overlayEntries(d, overlay, cut)) {
    const lower = e.name.toLowerCase();
    if (lower === 'data1.hdr' && hdr === undefined) {
      hdr = e;
      continue;
    }
    const number = cabNumber(e.name);
    // ClamAV's duplicate test compares each cabinet's number with its index in the list.
    if (number !== undefined && !cabs.some((c, i) => c.number === i)) {
      cabs.push({ number, off: e.off, size: e.size });
      continue;
    }
    const m = plain(d, e, ctx);
    if (m !== undefined) yield m;
  }
  if (hdr === undefined && cabs.length === 0) return;
  const outcome = yield* hdrFiles(d, hdr, cabs, ctx);
  if (!outcome.rawToo) return;
  if (hdr !== undefined) {
    const m = plain(d, hdr, ctx);
    if (m !== undefined) yield m;
  }
  for (const c of cabs) {
    const m = plain(d, { name: `data${c.number}.cab`, off: c.off, size: c.size }, ctx);
    if (m !== undefined) yield m;
  }
}
