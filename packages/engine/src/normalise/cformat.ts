// C printf's renderings that ClamAV's output carries (`%g`, `0x%08x`, `0x%016lx`): AutoIt's EA06
// script text and the JS normaliser's numbers read byte for byte as ClamAV writes them (glibc: ties to even).

/** `0x` and `v` as `width` lowercase hex digits. */
export function hex(v: bigint | number, width: number): string {
  return `0x${v.toString(16).padStart(width, '0')}`;
}

/** True when `x` is exactly `digits` × 10^`exp` (an integer of decimal digits). */
function exactly(x: number, digits: bigint, exp: number): boolean {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, Math.abs(x));
  const hi = view.getUint32(0);
  const biased = (hi >>> 20) & 0x7ff;
  let m = (BigInt(hi & 0xfffff) << 32n) | BigInt(view.getUint32(4));
  if (biased !== 0) m |= 1n << 52n;
  const k = (biased === 0 ? 1 : biased) - 1075;
  // m·2^k = digits·10^exp, with both sides scaled to integers.
  const left = m * 2n ** BigInt(Math.max(0, k)) * 10n ** BigInt(Math.max(0, -exp));
  const right = digits * 10n ** BigInt(Math.max(0, exp)) * 2n ** BigInt(Math.max(0, -k));
  return left === right;
}

/** Six significant digits of |x| and its decimal exponent, rounded half to even on exact ties. */
function sixDigits(x: number): { digits: string; exp: number } {
  const [m = '', e = '0'] = Math.abs(x).toExponential(5).split('e');
  let digits = m.replace('.', '');
  let exp = Number(e);
  const [m7 = '', e7 = '0'] = Math.abs(x).toExponential(6).split('e');
  const seven = m7.replace('.', '');
  // JavaScript rounds exact ties up; C rounds them to the even digit.
  if (seven.endsWith('5') && Number(seven[5]) % 2 === 0 && exactly(x, BigInt(seven), Number(e7) - 6)) {
    digits = seven.slice(0, 6);
    exp = Number(e7);
  }
  return { digits, exp };
}

/** `x` as C's `%g` prints it (six significant digits, trailing zeros dropped). */
export function formatG(x: number): string {
  const view = new DataView(new ArrayBuffer(8));
  view.setFloat64(0, x);
  const sign = view.getUint8(0) & 0x80 ? '-' : '';
  if (Number.isNaN(x)) return `${sign}nan`;
  if (!Number.isFinite(x)) return `${sign}inf`;
  if (x === 0) return `${sign}0`;
  const { digits, exp } = sixDigits(x);
  const trim = (int: string, frac: string) => {
    const f = frac.replace(/0+$/, '');
    return f === '' ? int : `${int}.${f}`;
  };
  if (exp < -4 || exp >= 6) {
    const e = `${exp < 0 ? '-' : '+'}${String(Math.abs(exp)).padStart(2, '0')}`;
    return `${sign}${trim(digits.slice(0, 1), digits.slice(1))}e${e}`;
  }
  if (exp >= 0) return sign + trim(digits.slice(0, exp + 1), digits.slice(exp + 1));
  return sign + trim('0', '0'.repeat(-exp - 1) + digits);
}
