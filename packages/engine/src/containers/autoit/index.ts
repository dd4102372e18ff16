// AutoIt v3 compiled scripts (CL_TYPE_AUTOIT): the archive an AutoIt executable carries, handed
// over from its 16-byte marker and "AU3!EA05" or "AU3!EA06" (finding it inside the executable is
// the scanner's embedded-type step). Members are the script (EA06 scripts decompiled to text, as
// ClamAV scans them) and the files it installs. Entry checksums and times are not checked, as
// ClamAV does not check them.
import type { ContainerHandler, ExtractContext, Member } from '../types.js';
import { EA05, EA06, entries } from './archive.js';

/** The version digit's offset: after the 16-byte marker and "AU3!EA0". */
const VERSION_AT = 23;
/** The first entry: after "AU3!EA0x" and 16 more bytes (EA05 keys its data with their sum). */
const ENTRIES_AT = 40;

function* extract(data: Uint8Array, ctx: ExtractContext): Generator<Member> {
  const version = data[VERSION_AT];
  if (version === 0x35) {
    let sum = 0;
    for (let i = VERSION_AT + 1; i < ENTRIES_AT; i++) sum += data[i] ?? 0;
    yield* entries(data, { dialect: EA05, start: ENTRIES_AT, dataSeed: 0x22af + sum }, ctx);
  } else if (version === 0x36) {
    // EA06 ignores those 16 bytes: its data seed is fixed.
    yield* entries(data, { dialect: EA06, start: ENTRIES_AT, dataSeed: 0x2477 }, ctx);
  }
}

/** AutoIt's script archive (EA05 and EA06). */
export const autoitHandler: ContainerHandler = {
  name: 'AutoIt',
  families: ['archive'],
  types: ['CL_TYPE_AUTOIT'],
  extract,
};
