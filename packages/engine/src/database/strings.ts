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
  private previous = new Uint8Array(0);
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
      if (id >> 3 >= this.flags.length) {
        const grown = new Uint8Array(this.flags.length * 2);
        grown.set(this.flags);
        this.flags = grown;
      }
      this.flags[id >> 3] = (this.flags[id >> 3] as number) | (1 << (id & 7));
    }
    const utf8 = this.enc.encode(base);
    let shared = 0;
    if (id % BLOCK === 0) {
      this.blockStarts.push(this.length);
    } else {
      const max = Math.min(utf8.length, this.previous.length);
      while (shared < max && utf8[shared] === this.previous[shared]) shared++;
    }
    this.varint(shared);
    this.varint(utf8.length - shared);
    this.ensure(utf8.length - shared);
    this.bytes.set(utf8.subarray(shared), this.length);
    this.length += utf8.length - shared;
    this.previous = utf8;
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
