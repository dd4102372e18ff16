// HTML normalisation for target 3 (and generic signatures on HTML). Three views, each rule checked
// against clamscan 1.4 with probe signatures:
//   - the document: comments (`<!--` to the next `>`) removed, character references decoded, lower-cased, white space
//     collapsed to one space, and dropped after `>`, before `>` and around `=` inside a tag
//     (`<a HREF = "X">  Y` becomes `<a href="x">y`);
//   - its text: what lies outside tags, tags counting as word breaks (`Hel<b>lo` is `hel lo`);
//   - its links: the values of href and src attributes in their own case, each followed by a
//     space, after a leading space (` Pic.PNG Page.HTML `).
// A fourth view, `script`, holds the bodies of its `<script>` elements normalised as JavaScript
// (see js.ts). At most `maxBytes` of input are normalised (MaxHTMLNormalize); the rest is left out
// and reported.

export interface HtmlViews {
  readonly views: readonly Uint8Array[];
  /** The normalised scripts (ClamAV's `javascript` file); empty when there is no `<script>`. */
  readonly script: Uint8Array;
  readonly limitHit: boolean;
}

import { normaliseScripts, scriptEnd } from './js.js';
import { keep, scratch } from './scratch.js';
import { isSpace } from './text.js';

const lower = (b: number): number => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);
const GT = 0x3e;
const LT = 0x3c;
const EQ = 0x3d;

const NAMED: Readonly<Record<string, number>> = { amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, apos: 0x27, nbsp: 0x20 };

/** A growing byte buffer, reused between files (see scratch.ts). */
class Bytes {
  buf: Uint8Array;
  n = 0;
  constructor(
    private readonly slot: string,
    size: number,
  ) {
    this.buf = scratch(slot, size);
  }
  put(b: number): void {
    if (this.n === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = b;
  }
  last(): number {
    return this.n > 0 ? (this.buf[this.n - 1] as number) : -1;
  }
  done(): Uint8Array {
    keep(this.slot, this.buf);
    return this.buf.subarray(0, this.n);
  }
}

/** Lower-cased output with runs of white space as one space, kept only where the rules allow. */
class Collapsed extends Bytes {
  private space = false;
  push(b: number, inTag: boolean): void {
    if (isSpace(b)) {
      this.space = this.n > 0;
      return;
    }
    if (this.space) {
      const prev = this.last();
      const dropped = prev === GT || (inTag && (b === GT || b === EQ || prev === EQ));
      if (!dropped) this.put(0x20);
      this.space = false;
    }
    this.put(lower(b));
  }
}

/** Decodes a character reference at `i` (just after '&'); returns [byte, length] or undefined. */
function entity(d: Uint8Array, i: number): [number, number] | undefined {
  let j = i;
  let name = '';
  while (j < d.length && j - i < 10 && d[j] !== 0x3b) name += String.fromCharCode(d[j++] as number);
  if (d[j] !== 0x3b) return undefined;
  const len = j - i + 1;
  if (name.startsWith('#x') || name.startsWith('#X')) {
    const v = Number.parseInt(name.slice(2), 16);
    return Number.isNaN(v) || v > 0xff ? undefined : [v, len];
  }
  if (name.startsWith('#')) {
    const v = Number.parseInt(name.slice(1), 10);
    return Number.isNaN(v) || v > 0xff ? undefined : [v, len];
  }
  const v = NAMED[name.toLowerCase()];
  return v === undefined ? undefined : [v, len];
}

function startsWith(d: Uint8Array, i: number, s: string): boolean {
  for (let k = 0; k < s.length; k++) if (d[i + k] !== s.charCodeAt(k)) return false;
  return true;
}

/** Appends the href/src values of the tag `d[start, end)` (its bytes between `<` and `>`) to `links`. */
function collectLinks(d: Uint8Array, start: number, end: number, links: Bytes): void {
  let i = start;
  while (i < end) {
    while (i < end && !isSpace(d[i] as number)) i++;
    while (i < end && isSpace(d[i] as number)) i++;
    const nameStart = i;
    while (i < end && !isSpace(d[i] as number) && d[i] !== EQ) i++;
    let name = '';
    for (let k = nameStart; k < i && k - nameStart < 4; k++) name += String.fromCharCode(lower(d[k] as number));
    const nameLen = i - nameStart;
    while (i < end && isSpace(d[i] as number)) i++;
    if (d[i] !== EQ) continue;
    i++;
    while (i < end && isSpace(d[i] as number)) i++;
    const quote = d[i] === 0x22 || d[i] === 0x27 ? (d[i] as number) : -1;
    if (quote >= 0) i++;
    const valueStart = i;
    while (i < end && (quote >= 0 ? d[i] !== quote : !isSpace(d[i] as number))) i++;
    if ((name === 'href' && nameLen === 4) || (name === 'src' && nameLen === 3)) {
      for (let k = valueStart; k < i; k++) links.put(d[k] as number);
      links.put(0x20);
    }
    if (quote >= 0) i++;
  }
}

/** Whether the tag `d[start, end)` (between `<` and `>`) is a script start tag. */
function isScriptTag(d: Uint8Array, start: number, end: number): boolean {
  if (end - start < 6 || !(end - start === 6 || isSpace(d[start + 6] as number))) return false;
  for (let k = 0; k < 6; k++) if (lower(d[start + k] as number) !== 'script'.charCodeAt(k)) return false;
  return true;
}

/** The views of `data`; valid until the next call (the buffers are reused). */
export function normaliseHtml(data: Uint8Array, opts: { maxBytes: number }): HtmlViews {
  const limitHit = data.length > opts.maxBytes;
  const d = limitHit ? data.subarray(0, opts.maxBytes) : data;
  const full = new Collapsed('html', d.length);
  const text = new Collapsed('html-text', d.length >> 1);
  const links = new Bytes('html-links', 256);
  links.put(0x20);
  let tagStart = -1;
  // Script bodies, and where the last one ends: a `<script>` inside a script starts nothing.
  const scripts: [number, number][] = [];
  let scriptUntil = 0;
  for (let i = 0; i < d.length; i++) {
    const b = d[i] as number;
    const inTag = tagStart >= 0;
    if (!inTag && b === LT && startsWith(d, i, '<!--')) {
      // As in ClamAV, a comment ends at its first `>`, not at `-->`: `<!-- a > b -->` leaves ` b -->`.
      const end = d.indexOf(GT, i + 4);
      i = end < 0 ? d.length : end;
      continue;
    }
    if (b === 0x26) {
      const e = entity(d, i + 1);
      if (e !== undefined) {
        full.push(e[0], inTag);
        if (!inTag) text.push(e[0], false);
        i += e[1];
        continue;
      }
    }
    if (b === LT && !inTag) {
      tagStart = i;
      text.push(0x20, false);
    }
    full.push(b, tagStart >= 0);
    if (tagStart < 0) text.push(b, false);
    if (b === GT && tagStart >= 0) {
      collectLinks(d, tagStart + 1, i, links);
      if (tagStart >= scriptUntil && isScriptTag(d, tagStart + 1, i)) {
        let start = i + 1;
        while (start < d.length && isSpace(d[start] as number)) start++;
        scriptUntil = scriptEnd(d, start);
        scripts.push([start, scriptUntil]);
      }
      tagStart = -1;
    }
  }
  const views = [full.done(), text.done(), links.done()];
  return { views, script: normaliseScripts(d, scripts), limitHit };
}
