// An MS-OVBA compressor for tests (MS-OVBA 2.4.1.3): a signature byte, then one compressed chunk
// per 4096 bytes of input, each a run of flag bytes with up to eight literal or copy tokens. The
// longest earlier match inside the chunk is found by brute force, which is plenty for test data.

const CHUNK = 4096;

/** How many low bits of a copy token hold the length, `difference` bytes into the chunk. */
function lengthBits(difference: number): number {
  let offsetBits = 4;
  while (1 << offsetBits < difference) offsetBits++;
  return 16 - offsetBits;
}

function compressChunk(data: Uint8Array, start: number, end: number): number[] {
  const out: number[] = [];
  let at = start;
  while (at < end) {
    const flagAt = out.length;
    out.push(0);
    for (let bit = 0; bit < 8 && at < end; bit++) {
      const bits = lengthBits(at - start);
      const maxLength = Math.min((1 << bits) + 2, end - at);
      let bestLength = 0;
      let bestOffset = 0;
      for (let from = at - 1; from >= start; from--) {
        let n = 0;
        while (n < maxLength && data[from + n] === data[at + n]) n++;
        if (n > bestLength) {
          bestLength = n;
          bestOffset = at - from;
        }
      }
      if (bestLength >= 3) {
        const token = ((bestOffset - 1) << bits) | (bestLength - 3);
        out.push(token & 0xff, token >>> 8);
        out[flagAt] = (out[flagAt] as number) | (1 << bit);
        at += bestLength;
      } else out.push(data[at++] as number);
    }
  }
  return out;
}

/** `data` as an MS-OVBA compressed container (every chunk compressed). */
export function compressOvba(data: Uint8Array): Uint8Array {
  const out: number[] = [0x01];
  for (let start = 0; start < data.length; start += CHUNK) {
    const body = compressChunk(data, start, Math.min(data.length, start + CHUNK));
    if (body.length > CHUNK) throw new Error('compressOvba: test data too random for a compressed chunk');
    const header = 0xb000 | (body.length + 2 - 3);
    out.push(header & 0xff, header >>> 8, ...body);
  }
  return Uint8Array.from(out);
}
