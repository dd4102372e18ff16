// A table of strings (signature names) as two typed arrays: UTF-8 bytes and end offsets. Names are
// decoded only when a detection needs one, so a million names cost bytes, not objects.
import type { Sections } from './format.js';
import { section } from './format.js';

/** Collects strings and hands back their ids. Identical strings are not merged (names are unique). */
export class StringTableBuilder {
  private bytes = new Uint8Array(1 << 16);
  private length = 0;
  private ends: number[] = [];
  private readonly enc = new TextEncoder();

  /** Adds `s` and returns its id. */
  add(s: string): number {
    const need = this.length + s.length * 3;
    if (need > this.bytes.length) {
      const grown = new Uint8Array(Math.max(need, this.bytes.length * 2));
      grown.set(this.bytes.subarray(0, this.length));
      this.bytes = grown;
    }
    const { written } = this.enc.encodeInto(s, this.bytes.subarray(this.length));
    this.length += written;
    this.ends.push(this.length);
    return this.ends.length - 1;
  }

  get size(): number {
    return this.ends.length;
  }

  toSections(prefix: string): Sections {
    return {
      [`${prefix}.bytes`]: this.bytes.slice(0, this.length),
      [`${prefix}.ends`]: Uint32Array.from(this.ends),
    };
  }
}

/** Reads strings by id from the sections a StringTableBuilder wrote. */
export class StringTable {
  private readonly bytes: Uint8Array;
  private readonly ends: Uint32Array;
  private readonly dec = new TextDecoder();

  constructor(sections: Sections, prefix: string) {
    this.bytes = section(sections, `${prefix}.bytes`, Uint8Array);
    this.ends = section(sections, `${prefix}.ends`, Uint32Array);
  }

  get size(): number {
    return this.ends.length;
  }

  get(id: number): string {
    const end = this.ends[id];
    if (end === undefined) return '';
    const start = id === 0 ? 0 : (this.ends[id - 1] as number);
    // A copy: TextDecoder refuses views of a SharedArrayBuffer, and names are short.
    return this.dec.decode(this.bytes.slice(start, end));
  }
}
