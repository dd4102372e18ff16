// VBA projects for tests (MS-OVBA): the `dir` stream's records, a `_VBA_PROJECT` stream (the
// 7-byte one of MS-OVBA, or one that ClamAV's older VBA 5/6 walk can read), module streams (some
// p-code bytes, then the compressed source), and the documents holding them: a Word 97 file's
// compound file, the `vbaProject.bin` an OOXML .docm keeps, and the .docm itself.

import { type CfbNode, type CfbStorage, compoundFile } from './compound.js';
import { compressOvba } from './ovba.js';

/** One module of a test project. */
export interface VbaModule {
  readonly name: string;
  readonly source: string | Uint8Array;
  /** The stream's name when not the module's. */
  readonly streamName?: string;
  /** Bytes of p-code before the compressed source (the module's MODULEOFFSET). */
  readonly pcode?: number;
  readonly kind?: 'procedural' | 'class';
}

/** A test project and the ways a test may spoil it. */
export interface VbaProjectSpec {
  readonly modules: readonly VbaModule[];
  readonly codepage?: number;
  /** A `_VBA_PROJECT` that ClamAV's older walk reads (listing the modules), or the 7-byte one. */
  readonly legacy?: boolean;
  /** Replaces the decompressed dir stream (to damage it) before it is compressed. */
  readonly editDir?: (dir: Uint8Array) => Uint8Array;
  /** Replaces the compressed dir stream. */
  readonly editCompressedDir?: (dir: Uint8Array) => Uint8Array;
}

const te = new TextEncoder();
const bytes = (s: string | Uint8Array) => (typeof s === 'string' ? te.encode(s) : s);

function utf16(s: string): Uint8Array {
  const out = new Uint8Array(s.length * 2);
  for (let i = 0; i < s.length; i++) {
    out[i * 2] = s.charCodeAt(i) & 0xff;
    out[i * 2 + 1] = s.charCodeAt(i) >>> 8;
  }
  return out;
}

class Bytes {
  readonly parts: number[] = [];
  u16(v: number): this {
    this.parts.push(v & 0xff, (v >>> 8) & 0xff);
    return this;
  }
  u32(v: number): this {
    return this.u16(v & 0xffff).u16(v >>> 16);
  }
  raw(b: Uint8Array | readonly number[]): this {
    for (const x of b) this.parts.push(x);
    return this;
  }
  /** A dir record: identifier, size, body. */
  rec(id: number, body: Uint8Array | readonly number[] = []): this {
    return this.u16(id).u32(body.length).raw(body);
  }
  done(): Uint8Array {
    return Uint8Array.from(this.parts);
  }
}

const u32b = (v: number) => new Bytes().u32(v).done();
const u16b = (v: number) => new Bytes().u16(v).done();

/** The decompressed `dir` stream of a project (MS-OVBA 2.3.4.2), with one reference. */
export function dirRecords(spec: VbaProjectSpec): Uint8Array {
  const b = new Bytes()
    .rec(0x01, u32b(1))
    .rec(0x02, u32b(0x409))
    .rec(0x14, u32b(0x409))
    .rec(0x03, u16b(spec.codepage ?? 1252))
    .rec(0x04, te.encode('VBAProject'))
    .rec(0x05)
    .rec(0x40)
    .rec(0x06)
    .rec(0x3d)
    .rec(0x07, u32b(0))
    .rec(0x08, u32b(0));
  b.u16(0x09).u32(4).u32(0x5b2c0bc1).u16(6); // PROJECTVERSION: its size says 4 for 6 bytes
  b.rec(0x0c).rec(0x3c);
  const libid = te.encode(
    '*\\G{00020430-0000-0000-C000-000000000046}#2.0#0#C:\\Windows\\System32\\stdole2.tlb#OLE Automation',
  );
  b.rec(0x16, te.encode('stdole')).rec(0x3e, utf16('stdole'));
  b.rec(0x0d, new Bytes().u32(libid.length).raw(libid).u32(0).u16(0).done());
  b.rec(0x0f, u16b(spec.modules.length)).rec(0x13, u16b(0xffff));
  for (const m of spec.modules) {
    const stream = m.streamName ?? m.name;
    b.rec(0x19, te.encode(m.name)).rec(0x47, utf16(m.name));
    b.rec(0x1a, te.encode(stream)).rec(0x32, utf16(stream));
    b.rec(0x1c).rec(0x48);
    b.rec(0x31, u32b(m.pcode ?? 0))
      .rec(0x1e, u32b(0))
      .rec(0x2c, u16b(0xffff));
    b.rec(m.kind === 'class' ? 0x22 : 0x21).rec(0x2b);
  }
  return b.rec(0x10).done();
}

/** A module stream: `pcode` bytes of stand-in p-code, then the compressed source. */
export function moduleStream(m: VbaModule): Uint8Array {
  const pcode = new Uint8Array(m.pcode ?? 0).map((_, i) => (i * 7 + 1) & 0xff);
  const packed = compressOvba(bytes(m.source));
  const out = new Uint8Array(pcode.length + packed.length);
  out.set(pcode);
  out.set(packed, pcode.length);
  return out;
}

const MIDDLE = [
  0x00, 0x00, 0xe1, 0x2e, 0x45, 0x0d, 0x8f, 0xe0, 0x1a, 0x10, 0x85, 0x2e, 0x02, 0x60, 0x8c, 0x4d, 0x0b, 0xb4, 0x00,
  0x00,
];

/**
 * A `_VBA_PROJECT` stream. The 7-byte form is MS-OVBA's (no performance cache). The legacy form
 * has what ClamAV's walk reads: a 34-byte header, one reference string, padding up to 0xFFFF
 * marks, and a record per module with its name and source offset.
 */
export function vbaProjectStream(spec: VbaProjectSpec): Uint8Array {
  if (spec.legacy !== true) return Uint8Array.of(0xcc, 0x61, 0xff, 0xff, 0x00, 0x00, 0x00);
  const ref = utf16('*\\G{000204EF-0000-0000-C000-000000000046}#4.2#9#VBE7.DLL#Visual Basic For Applications');
  const b = new Bytes().raw([0xcc, 0x61, 0xb5, 0x00, 0x00, 0x01]).raw(new Uint8Array(28));
  b.u16(ref.length).raw(ref).u16(0).raw(new Uint8Array(10)).raw(MIDDLE);
  b.u16(0).u16(0xffff).u16(0xffff).u16(0xffff).raw(new Uint8Array(100));
  b.u16(spec.modules.length);
  for (const m of spec.modules) {
    const name = utf16(m.streamName ?? m.name);
    b.u16(name.length).raw(name).u16(0).u16(0).raw(new Uint8Array(10)).u16(0).raw(new Uint8Array(5));
    b.u32(m.pcode ?? 0).u16(0);
  }
  return b.done();
}

/** The `VBA` storage of a project: `dir`, `_VBA_PROJECT` and the module streams. */
export function vbaStorage(spec: VbaProjectSpec): CfbStorage {
  let dir = dirRecords(spec);
  if (spec.editDir !== undefined) dir = spec.editDir(dir);
  let packed = compressOvba(dir);
  if (spec.editCompressedDir !== undefined) packed = spec.editCompressedDir(packed);
  return {
    name: 'VBA',
    children: [
      { name: '_VBA_PROJECT', data: vbaProjectStream(spec) },
      { name: 'dir', data: packed },
      ...spec.modules.map((m) => ({ name: m.streamName ?? m.name, data: moduleStream(m) })),
    ],
  };
}

function projectStream(spec: VbaProjectSpec): Uint8Array {
  const lines = ['ID="{00000000-0000-0000-0000-000000000000}"'];
  for (const m of spec.modules) lines.push(m.kind === 'class' ? `Document=${m.name}/&H00000000` : `Module=${m.name}`);
  lines.push('Name="VBAProject"', 'HelpContextID="0"', 'VersionCompatible32="393222000"', '');
  return te.encode(lines.join('\r\n'));
}

/** The `vbaProject.bin` of an OOXML document: a compound file with the project at its top. */
export function vbaProjectBin(spec: VbaProjectSpec): Uint8Array {
  return compoundFile([vbaStorage(spec), { name: 'PROJECT', data: projectStream(spec) }]);
}

/** A Word 97-2003 document's compound file with the project under `Macros`. */
export function wordDocument(spec: VbaProjectSpec): Uint8Array {
  const word = new Uint8Array(1536).map((_, i) => (i < 2 ? ([0xec, 0xa5][i] as number) : (i * 13) & 0x7f));
  const nodes: CfbNode[] = [
    { name: 'WordDocument', data: word },
    { name: '1Table', data: new Uint8Array(600).fill(0x11) },
    { name: 'Macros', children: [vbaStorage(spec), { name: 'PROJECT', data: projectStream(spec) }] },
  ];
  return compoundFile(nodes);
}
