// ASPack 2.x's block decompressor: an LZ77 stream of prefix codes. Four tables (721 main symbols:
// 256 literals, 58 distance slots x 8 lengths, and "new tables"; 28 long-length symbols; 8 symbols
// for a distance's low three bits; 19 symbols that send the others' code lengths as deltas from the
// previous tables, with runs). Distances come from the slot's base plus extra bits, or repeat one of
// the last three. The stub's own tables (length bases and extra bits, distance extra bits, distance
// bases) come from the caller; which blocks there are and where is index.ts's.
import { BitReader, CodeTable, Damaged } from './huffman.js';

/** Numbers of the four tables' symbols. */
const MAIN = 721;
const LONG = 28;
const ALIGNED = 8;
const PRE = 19;
/** Code lengths the pretree sends: main, long and aligned tables together. */
const ALL = MAIN + LONG + ALIGNED;
const LITERALS = 256;
const NEW_TABLES = 720;
/** ASPack's stub lets its reader run this far past a block's data (zeros). */
const PAD = 0x10e;

/** The tables the stub carries: 0x72 bytes at its compressed-block routine, and the slot bases. */
export interface StubTables {
  /** [0, 0x1c) long-length bases, [0x1c, 0x38) their extra bits, [0x38, 0x72) distance extra bits. */
  readonly stuff: Uint8Array;
  /** The 58 distance slots' bases. */
  readonly slotBase: Uint32Array;
}

/** The decoder state that lives across the blocks of one file, as in the stub. */
export class AspackDecoder {
  private readonly main = new CodeTable(MAIN);
  private readonly long = new CodeTable(LONG);
  private readonly aligned = new CodeTable(ALIGNED);
  private readonly pre = new CodeTable(PRE);
  /** The previous tables' code lengths, which new ones are sent against. */
  private readonly previous = new Uint8Array(ALL);
  private readonly preLengths = new Uint8Array(PRE);
  /** Index 0 is the "previous" of the first length (always 0); the lengths follow. */
  private readonly lengths = new Uint8Array(ALL + 1);
  private useAligned = false;

  constructor(private readonly stub: StubTables) {}

  /**
   * Decodes one block whose `size` bytes (at `out[at]`) hold its compressed data on input and the
   * decoded bytes on return. False when the data is damaged (the block is then partly overwritten).
   */
  block(out: Uint8Array, at: number, size: number): boolean {
    const input = new Uint8Array(size + PAD);
    input.set(out.subarray(at, at + size));
    const r = new BitReader(input);
    this.previous.fill(0);
    try {
      this.readTables(r);
      this.run(r, out.subarray(at, at + size));
      return true;
    } catch (e) {
      if (e instanceof Damaged) return false;
      throw e;
    }
  }

  /** New tables: a flag (keep the previous lengths as the base, or zeros), the pretree, the deltas. */
  private readTables(r: BitReader): void {
    if (r.bits(1) === 0) this.previous.fill(0);
    for (let i = 0; i < PRE; i++) this.preLengths[i] = r.bits(4);
    if (!this.pre.build(this.preLengths)) throw new Damaged('bad pretree');
    const len = this.lengths;
    let n = 0;
    while (n < ALL) {
      const s = this.pre.decode(r);
      if (s < 16) {
        len[n + 1] = ((this.previous[n] as number) + s) & 0xf;
        n++;
        continue;
      }
      const run = s === 16 ? 3 + r.bits(2) : s === 17 ? 3 + r.bits(3) : 11 + r.bits(7);
      for (let k = 0; k < run && n < ALL; k++, n++) len[n + 1] = s === 16 ? (len[n] as number) : 0;
    }
    const ok =
      this.main.build(len.subarray(1, 1 + MAIN)) &&
      this.long.build(len.subarray(1 + MAIN, 1 + MAIN + LONG)) &&
      this.aligned.build(len.subarray(1 + MAIN + LONG));
    if (!ok) throw new Damaged('bad code lengths');
    this.useAligned = len.subarray(1 + MAIN + LONG).some((l) => l !== 3);
    this.previous.set(len.subarray(1));
  }

  /** A match's length: from the main symbol, or a long-length symbol with its extra bits. */
  private matchLength(r: BitReader, code: number): number {
    const short = code & 7;
    if (short !== 7) return short + 2;
    const g = this.long.decode(r);
    const { stuff } = this.stub;
    return 9 + (stuff[g] as number) + r.bits(stuff[g + 0x1c] as number);
  }

  /** A match's distance code: the slot's base plus extra bits (the low three from the aligned table). */
  private distanceCode(r: BitReader, slot: number): number {
    let v = this.stub.slotBase[slot] as number;
    const extra = this.stub.stuff[slot + 0x38] as number;
    if (!this.useAligned || extra < 3) return (v + r.bits(extra)) >>> 0;
    v = (v + r.bits(extra - 3) * 8) >>> 0;
    return (v + this.aligned.decode(r)) >>> 0;
  }

  private run(r: BitReader, out: Uint8Array): void {
    const size = out.length;
    const recent = [0, 0, 0];
    let n = 0;
    while (n < size) {
      const sym = this.main.decode(r);
      if (sym < LITERALS) {
        out[n++] = sym;
        continue;
      }
      if (sym >= NEW_TABLES) {
        this.readTables(r);
        continue;
      }
      const code = sym - LITERALS;
      const len = this.matchLength(r, code);
      const d = this.distanceCode(r, code >>> 3);
      let back: number;
      if (d < 3) {
        back = recent[d] as number;
        recent[d] = recent[0] as number;
        recent[0] = back;
      } else {
        back = d - 3;
        recent[2] = recent[1] as number;
        recent[1] = recent[0] as number;
        recent[0] = back;
      }
      const dist = back + 1;
      if (dist > n || len > size - n) throw new Damaged('a match outside the block');
      for (let k = 0; k < len; k++, n++) out[n] = out[n - dist] as number;
    }
  }
}
