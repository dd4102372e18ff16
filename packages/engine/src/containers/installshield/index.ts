// InstallShield installers, the two ways ClamAV reaches them: the MSI-based payload after an
// `InstallShield\0` marker (msi.ts, handed over by the scanner's embedded-file search), and older
// setups whose files are appended to Setup.exe as its PE overlay (setup.ts, with data1.hdr and the
// `ISc(` cabinets in hdr.ts). The files found (an .msi, a Microsoft CAB, a PE) go to their own handlers.
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { peOverlay } from './overlay.js';
import { setupMembers } from './setup.js';

export { installShieldMsiHandler } from './msi.js';

function* overlayMembers(data: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const overlay = peOverlay(data);
  if (overlay === undefined) return;
  yield* setupMembers(data, { off: overlay.start, size: overlay.size }, ctx);
}

/**
 * InstallShield setups appended to a PE32 executable. ClamAV reads them as part of its PE scan, so
 * this runs with `--scan-pe` (not `--scan-archive`), as clamscan does.
 */
export const installShieldSetupHandler: ContainerHandler = {
  name: 'InstallShield',
  families: ['pe'],
  types: ['CL_TYPE_MSEXE'],
  extract: overlayMembers,
};
