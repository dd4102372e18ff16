// yC (yoda's Crypter) 1.3 and its variants: recognises the stub at the last section's start + 0x60,
// decrypts the second-stage decryptor with the first (poly.ts), then each section with the second,
// and cuts the crypter's section off the file with its headers fixed (entry point, section count,
// size of image, no import table), as ClamAV does. What the program was packed with underneath (the
// test file is UPX inside) is for the scanner's next pass over the result.
import { u16le, u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedSection, type AlignedView, alignedView } from '../aligned.js';
import { bytesAt, i32le, putU32 } from '../bytes.js';
import { type PeLayout, tooBig, type UnpackResult, unpackerHandler } from '../pe.js';
import { runPoly } from './poly.js';

/** A recognised stub: the length of the first layer and where the crypter's code is shifted to. */
interface YcStub {
  readonly ecx: number;
  readonly offset: number;
}

/** Section names (first four bytes, little-endian) whose data yC leaves unencrypted. */
const PLAIN_NAMES = new Set([
  0x63727372, // rsrc
  0x7273722e, // .rsr
  0x6f6c6572, // relo
  0x6c65722e, // .rel
  0x6164652e, // .eda
  0x6164722e, // .rda
  0x6164692e, // .ida
  0x736c742e, // .tls
]);
const YC_NAME = 0x4379;

/** The three entry stubs ClamAV knows, each with the check that yields the first layer's length. */
function findStub(ep: Uint8Array): YcStub | undefined {
  let ecx = 0;
  let offset = 0;
  if (
    bytesAt(ep, 0, [0x55, 0x8b, 0xec, 0x53, 0x56, 0x57, 0x60, 0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed]) &&
    bytesAt(ep, 0x26, [0x8d, 0x3a, 0x8b, 0xf7, 0x33, 0xc0, 0xeb, 0x04, 0x90, 0xeb, 0x01, 0xc2, 0xac]) &&
    ep[0x13] === 0xb9 &&
    u16le(ep, 0x18) === 0xe981 &&
    bytesAt(ep, 0x1e, [0x8b, 0xd5, 0x81, 0xc2])
  ) {
    if (((0x6c - i32le(ep, 0xf) + i32le(ep, 0x22)) | 0) === 0xc6) ecx = (i32le(ep, 0x14) - i32le(ep, 0x1a)) >>> 0;
  }
  if (
    !ecx &&
    bytesAt(ep, 0, [0x55, 0x8b, 0xec, 0x83, 0xec, 0x40, 0x53, 0x56, 0x57]) &&
    bytesAt(ep, 0x17, [0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed]) &&
    ep[0x23] === 0xb9
  ) {
    offset = 0x10;
    if (((0x6c - i32le(ep, 0x1f) + i32le(ep, 0x32)) | 0) === 0xc6) ecx = (i32le(ep, 0x24) - i32le(ep, 0x2a)) >>> 0;
  }
  if (
    !ecx &&
    bytesAt(ep, 0, [0x60, 0xe8, 0, 0, 0, 0, 0x5d, 0x81, 0xed]) &&
    ep[0xd] === 0xb9 &&
    u16le(ep, 0x12) === 0xbd8d &&
    bytesAt(ep, 0x18, [0x8b, 0xf7, 0xac])
  ) {
    offset = -0x18;
    if (((0x66 - i32le(ep, 0x9) + i32le(ep, 0x14)) | 0) === 0xae) ecx = u32le(ep, 0xe);
  }
  if (ecx <= 0x800 || ecx >= 0x2000 || !bytesAt(ep, 0x63 + offset, [0xaa, 0xe2, 0xcc])) return undefined;
  return { ecx, offset };
}

/** Decrypts the second layer with the first, then every section yC encrypted with the second. */
function decrypt(buf: Uint8Array, view: AlignedView, stub: YcStub): string | undefined {
  const last = view.sections[view.sections.length - 1] as AlignedSection;
  const yc = last.raw + stub.offset;
  const first = runPoly(buf, {
    decryptor: yc + 0x93,
    code: yc + 0xc6,
    count: stub.ecx,
    max: stub.ecx,
    limit: buf.length,
  });
  if (first !== undefined) return `the first layer cannot be run (${first})`;
  const kept = buf.length - last.ursz;
  for (const [i, s] of view.sections.slice(0, -1).entries()) {
    const name = u32le(buf, view.sectionTable + i * 0x28);
    if (!s.raw || !s.rsz || PLAIN_NAMES.has(name) || (name & 0xffff) === YC_NAME) continue;
    if (s.raw > kept) return 'a section starts inside the crypter';
    const decryptor = yc + (stub.offset === -0x18 ? 0x3ea : 0x457);
    const job = { decryptor, code: s.raw, count: s.ursz, max: kept - s.raw, limit: buf.length };
    const r = runPoly(buf, job);
    if (r !== undefined) return `a section cannot be decrypted (${r})`;
  }
  return undefined;
}

function unpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const view = alignedView(data, pe);
  if (view === undefined || view.sections.length < 2) return { kind: 'not-packed' };
  const last = view.sections[view.sections.length - 1] as AlignedSection;
  if (pe.entryRva !== last.rva + 0x60) return { kind: 'not-packed' };
  const stub = findStub(view.epbuff);
  if (stub === undefined || data.length < last.raw + 0xc6 + stub.ecx + stub.offset) return { kind: 'not-packed' };
  if (data.length > ctx.maxMemberSize) return tooBig(ctx, 'yc-unpacked', data.length);
  const buf = data.slice();
  const why = decrypt(buf, view, stub);
  if (why !== undefined) return { kind: 'failed', why: `yC: ${why}` };
  const oepAt = last.raw + stub.offset + 0xa0f;
  if (oepAt + 4 > buf.length) return { kind: 'failed', why: 'yC: the original entry point lies past the end' };
  const opt = pe.peOffset + 24;
  const count = view.sections.length - 1;
  buf[pe.peOffset + 6] = count & 0xff;
  buf[pe.peOffset + 7] = count >> 8;
  buf.fill(0, opt + 0x68, opt + 0x70); // the import table was the crypter's
  putU32(buf, opt + 16, u32le(buf, oepAt));
  putU32(buf, opt + 0x38, u32le(buf, opt + 0x38) - last.vsz);
  return { kind: 'unpacked', pe: buf.slice(0, buf.length - last.ursz) };
}

/** Decrypts yC 1.3 executables, as ClamAV's yc.c does. */
export const ycHandler = unpackerHandler('yC', unpack);
