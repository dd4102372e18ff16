// HTML normalisation for target 3 (and generic signatures on HTML). Two views, as ClamAV scans
// them: the document without comments (tags kept, lower-cased, white space collapsed, character
// references decoded), and its text alone (tags dropped). At most `maxBytes` of input are
// normalised (MaxHTMLNormalize); the rest is left out and reported.

export interface HtmlViews {
  readonly views: readonly Uint8Array[];
  readonly limitHit: boolean;
}

const isSpace = (b: number): boolean => b === 0x20 || (b >= 0x09 && b <= 0x0d);
const lower = (b: number): number => (b >= 0x41 && b <= 0x5a ? b + 0x20 : b);

const NAMED: Readonly<Record<string, number>> = { amp: 0x26, lt: 0x3c, gt: 0x3e, quot: 0x22, apos: 0x27, nbsp: 0x20 };

class Out {
  buf: Uint8Array;
  n = 0;
  private space = false;
  constructor(size: number) {
    this.buf = new Uint8Array(Math.max(16, size));
  }
  push(b: number): void {
    if (isSpace(b)) {
      this.space = this.n > 0;
      return;
    }
    if (this.space) {
      this.put(0x20);
      this.space = false;
    }
    this.put(lower(b));
  }
  private put(b: number): void {
    if (this.n === this.buf.length) {
      const next = new Uint8Array(this.buf.length * 2);
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = b;
  }
  done(): Uint8Array {
    return this.buf.subarray(0, this.n);
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

export function normaliseHtml(data: Uint8Array, opts: { maxBytes: number }): HtmlViews {
  const limitHit = data.length > opts.maxBytes;
  const d = limitHit ? data.subarray(0, opts.maxBytes) : data;
  const full = new Out(d.length);
  const text = new Out(d.length >> 1);
  let inTag = false;
  for (let i = 0; i < d.length; i++) {
    const b = d[i] as number;
    if (!inTag && b === 0x3c && startsWith(d, i, '<!--')) {
      const end = indexOf(d, '-->', i + 4);
      i = end < 0 ? d.length : end + 2;
      continue;
    }
    if (b === 0x26) {
      const e = entity(d, i + 1);
      if (e !== undefined) {
        full.push(e[0]);
        if (!inTag) text.push(e[0]);
        i += e[1];
        continue;
      }
    }
    if (b === 0x3c) {
      inTag = true;
      text.push(0x20);
    }
    full.push(b);
    if (!inTag) text.push(b);
    if (b === 0x3e) inTag = false;
  }
  return { views: [full.done(), text.done()], limitHit };
}

function indexOf(d: Uint8Array, s: string, from: number): number {
  const first = s.charCodeAt(0);
  for (let i = d.indexOf(first, from); i >= 0; i = d.indexOf(first, i + 1)) if (startsWith(d, i, s)) return i;
  return -1;
}
