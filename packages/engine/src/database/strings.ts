// A table of strings (signature names) in typed arrays, decoded only when a detection needs one, so
// a million names cost bytes, not objects. Names are front-coded in blocks of 16 (each stores how
// many leading bytes it shares with the one before, then the rest), because signature names share
// long prefixes (`Win.Trojan.Agent-1234567-0`); ClamAV's `.UNOFFICIAL` suffix is a bit, not bytes.
import type { Sections } from './format.js';
import { section } from './format.js';

const BLOCK = 16;
const UNOFFICIAL = '.UNOFFICIAL';

/** Collects strings and hands back their ids (dense, from 0, in order of addition). */
export class StringTableBuilder {
  private bytes = new Uint8Array(1 << 16);
  private length = 0;
  private readonly blockStarts: number[] = [];
  private flags = new Uint8Array(1 << 10);
  private count = 0;
  /** The name added last, as `previous[prevStart, prevEnd)`. */
  private previous: Uint8Array = new Uint8Array(0);
  private prevStart = 0;
  private prevEnd = 0;
  private readonly enc = new TextEncoder();

  private ensure(extra: number): void {
    if (this.length + extra <= this.bytes.length) return;
    const grown = new Uint8Array(Math.max(this.length + extra, this.bytes.length * 2));
    grown.set(this.bytes.subarray(0, this.length));
    this.bytes = grown;
  }

  private varint(n: number): void {
    this.ensure(5);
    while (n >= 0x80) {
      this.bytes[this.length++] = (n & 0x7f) | 0x80;
      n >>>= 7;
    }
    this.bytes[this.length++] = n;
  }

  /** Adds `s` and returns its id. */
  add(s: string): number {
    const id = this.count++;
    let base = s;
    if (s.endsWith(UNOFFICIAL)) {
      base = s.slice(0, -UNOFFICIAL.length);
      this.flag(id);
    }
    const utf8 = this.enc.encode(base);
    return this.addBytes(utf8, 0, utf8.length, id);
  }

  /**
   * Adds a name given as bytes `src[start, end)` of a signature file (ASCII; the caller checked),
   * with ClamAV's `.UNOFFICIAL` suffix when `unofficial`. Returns its id.
   */
  addAscii(src: Uint8Array, start: number, end: number, unofficial: boolean): number {
    const id = this.count++;
    if (unofficial) this.flag(id);
    return this.addBytes(src, start, end, id);
  }

  private flag(id: number): void {
    if (id >> 3 >= this.flags.length) {
      const grown = new Uint8Array(this.flags.length * 2);
      grown.set(this.flags);
      this.flags = grown;
    }
    this.flags[id >> 3] = (this.flags[id >> 3] as number) | (1 << (id & 7));
  }

  /** Adds the name `src[start, end)`, front-coded against the name before it. */
  private addBytes(src: Uint8Array, start: number, end: number, id: number): number {
    const len = end - start;
    let shared = 0;
    if (id % BLOCK === 0) {
      this.blockStarts.push(this.length);
    } else {
      const prev = this.previous;
      const max = Math.min(len, this.prevEnd - this.prevStart);
      while (shared < max && src[start + shared] === prev[this.prevStart + shared]) shared++;
    }
    this.varint(shared);
    this.varint(len - shared);
    this.ensure(len - shared);
    this.bytes.set(src.subarray(start + shared, end), this.length);
    this.length += len - shared;
    this.previous = src;
    this.prevStart = start;
    this.prevEnd = end;
    return id;
  }

  get size(): number {
    return this.count;
  }

  toSections(prefix: string): Sections {
    return {
      [`${prefix}.bytes`]: this.bytes.slice(0, this.length),
      [`${prefix}.blocks`]: Uint32Array.from(this.blockStarts),
      [`${prefix}.unofficial`]: this.flags.slice(0, (this.count + 7) >> 3),
    };
  }
}

/** Reads strings by id from the sections a StringTableBuilder wrote. */
export class StringTable {
  private readonly bytes: Uint8Array;
  private readonly blocks: Uint32Array;
  private readonly unofficial: Uint8Array;
  private readonly dec = new TextDecoder();

  constructor(sections: Sections, prefix: string) {
    this.bytes = section(sections, `${prefix}.bytes`, Uint8Array);
    this.blocks = section(sections, `${prefix}.blocks`, Uint32Array);
    this.unofficial = section(sections, `${prefix}.unofficial`, Uint8Array);
  }

  get size(): number {
    return this.unofficial.length * 8;
  }

  get(id: number): string {
    let at = this.blocks[Math.floor(id / BLOCK)];
    if (at === undefined || id < 0) return '';
    const b = this.bytes;
    let current = new Uint8Array(0);
    const varint = () => {
      let n = 0;
      let shift = 0;
      for (;;) {
        const x = b[at as number] as number;
        at = (at as number) + 1;
        n += (x & 0x7f) * 2 ** shift;
        if (x < 0x80 || at >= b.length) return n;
        shift += 7;
      }
    };
    for (let k = id - (id % BLOCK); k <= id; k++) {
      const shared = varint();
      const rest = varint();
      const next = new Uint8Array(shared + rest);
      next.set(current.subarray(0, shared));
      next.set(b.subarray(at, at + rest), shared);
      at += rest;
      current = next;
    }
    const name = this.dec.decode(current);
    return ((this.unofficial[id >> 3] ?? 0) >> (id & 7)) & 1 ? `${name}${UNOFFICIAL}` : name;
  }
}
