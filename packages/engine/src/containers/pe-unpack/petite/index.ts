// Petite 2.x (ClamAV's "v2.1" and "v2.2" stubs): recognises the packer by the entry point loading the
// address of its section, lays the packed file's sections out in memory, has inflate.ts expand
// them, and rebuilds a PE from the sections found. Scanning the result is the scanner's job.
import { u32le } from '../../read.js';
import type { ExtractContext } from '../../types.js';
import { type AlignedView, alignedView } from '../aligned.js';
import { buildPe, type PeLayout, tooBig, type UnpackResult, unpackerHandler } from '../pe.js';
import { petiteInflate } from './inflate.js';

/** ClamAV wants at least this much of the entry point's code (the view holds what it reads). */
const EP_MIN = 200;
/** The dword at entry+0x80 of a stub that only stores (level 0), which ClamAV does not undo. */
const LEVEL_ZERO = 0x163c988d;

/** Which stub: 2 when the entry loads the last section's address, 1 for the one before. */
function petiteVersion(view: AlignedView): 1 | 2 | undefined {
  const ep = view.epbuff;
  if (ep.length < EP_MIN || ep[0] !== 0xb8) return undefined;
  const loaded = u32le(ep, 1);
  const n = view.sections.length;
  const at = (i: number) => ((view.sections[i]?.rva ?? 0) + view.imageBase) >>> 0;
  if (loaded === at(n - 1)) return 2;
  if (n >= 2 && loaded === at(n - 2)) return 1;
  return undefined;
}

/** The packed file's sections' data placed at their addresses, from the lowest on. */
function layOut(data: Uint8Array, view: AlignedView): Uint8Array | undefined {
  const image = new Uint8Array(view.max - view.min);
  for (const s of view.sections) {
    if (!s.raw) continue;
    const at = s.rva - view.min;
    if (!s.rsz || !s.ursz || at + s.ursz > image.length || s.raw + s.ursz > data.length) return undefined;
    image.set(data.subarray(s.raw, s.raw + s.ursz), at);
  }
  return image;
}

function unpack(data: Uint8Array, pe: PeLayout, ctx: ExtractContext): UnpackResult {
  const view = alignedView(data, pe);
  if (view === undefined) return { kind: 'not-packed' };
  const version = petiteVersion(view);
  if (version === undefined) return { kind: 'not-packed' };
  if (u32le(data, view.ep + 0x80) === LEVEL_ZERO)
    return { kind: 'failed', why: 'Petite level-0 (stored) files are not unpacked' };
  const size = view.max - view.min;
  if (size > ctx.maxMemberSize) return tooBig(ctx, 'petite-unpacked', size);
  const image = layOut(data, view);
  if (image === undefined) return { kind: 'not-packed' };
  const sections = view.sections.slice(0, version === 1 ? -1 : undefined);
  const r = petiteInflate({
    buf: image,
    min: view.min,
    sections,
    imageBase: pe.imageBase,
    entryRva: pe.entryRva,
    version,
  });
  if (!r.ok) return { kind: 'failed', why: `Petite: ${r.why}` };
  const rebuilt = buildPe(
    {
      imageBase: pe.imageBase,
      entryRva: r.entryRva,
      sections: r.sections.map((s) => {
        const at = s.rva - view.min;
        const ok = s.rsz > 0 && at >= 0 && at + s.rsz <= image.length;
        return { rva: s.rva, virtualSize: s.vsz, data: ok ? image.slice(at, at + s.rsz) : new Uint8Array(0) };
      }),
      directories: [
        [0, 0],
        [0, 0],
        [u32le(data, pe.dataDirOffset + 16), u32le(data, pe.dataDirOffset + 20)],
      ],
    },
    ctx.maxMemberSize,
  );
  if (rebuilt === undefined) return tooBig(ctx, 'petite-unpacked', undefined);
  return { kind: 'unpacked', pe: rebuilt };
}

/** Unpacks Petite 2.x executables, as ClamAV's petite.c does. */
export const petiteHandler = unpackerHandler('Petite', unpack);
