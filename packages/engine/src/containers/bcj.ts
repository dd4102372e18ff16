// The x86 branch converter (BCJ) that 7-Zip and XZ put before executables: CALL and JMP targets
// were made absolute to compress better; decoding makes them relative again, in place.

const ALLOWED = [true, true, true, false, true, false, false, false];
const BIT_NUMBER = [0, 1, 2, 2, 3, 3, 3, 3];
const isEdgeByte = (b: number) => b === 0 || b === 0xff;

/** Undoes the x86 BCJ filter over `buf` (a whole stream starting at position 0). */
export function unBcjX86(buf: Uint8Array): void {
  let prevMask = 0;
  let prevPos = -5;
  for (let pos = 0; pos + 5 <= buf.length; ) {
    const op = buf[pos] as number;
    if (op !== 0xe8 && op !== 0xe9) {
      pos++;
      continue;
    }
    const gap = pos - prevPos;
    prevPos = pos;
    if (gap > 5) prevMask = 0;
    else for (let i = 0; i < gap; i++) prevMask = ((prevMask & 0x77) << 1) & 0xff;
    let b = buf[pos + 4] as number;
    if (isEdgeByte(b) && ALLOWED[(prevMask >>> 1) & 7] === true && prevMask >>> 1 < 0x10) {
      let src =
        ((b << 24) | ((buf[pos + 3] as number) << 16) | ((buf[pos + 2] as number) << 8) | (buf[pos + 1] as number)) >>>
        0;
      let dest: number;
      for (;;) {
        dest = (src - (pos + 5)) >>> 0;
        if (prevMask === 0) break;
        const i = BIT_NUMBER[prevMask >>> 1] as number;
        b = (dest >>> (24 - i * 8)) & 0xff;
        if (!isEdgeByte(b)) break;
        src = (dest ^ (2 ** (32 - i * 8) - 1)) >>> 0;
      }
      buf[pos + 4] = (dest >>> 24) & 1 ? 0xff : 0;
      buf[pos + 3] = (dest >>> 16) & 0xff;
      buf[pos + 2] = (dest >>> 8) & 0xff;
      buf[pos + 1] = dest & 0xff;
      pos += 5;
      prevMask = 0;
    } else {
      pos++;
      prevMask |= 1;
      if (isEdgeByte(b)) prevMask |= 0x10;
    }
  }
}
