// Text in a VBA project's code page, turned into UTF-8 the way ClamAV's cli_codepage_to_utf8
// does on Linux (through iconv): US-ASCII and UTF-8 pass through untouched, ISO-8859-1 maps byte
// for byte, the Windows code pages fail on the bytes they leave undefined, and any invalid
// sequence fails the whole string. Code pages ClamAV knows but the platform's TextDecoder does
// not (EBCDIC, most DOS pages) are not converted here: the caller writes its placeholder.

/** Code pages whose text ClamAV copies without converting. */
const US_ASCII = 20127;
const UTF8 = 65001;
const LATIN1 = 28591;
const CP1252 = 1252;

/** Code page → WHATWG encoding label, for the pages ClamAV converts and TextDecoder knows. */
const LABELS: ReadonlyMap<number, string> = new Map([
  [866, 'ibm866'],
  [874, 'windows-874'],
  [932, 'shift_jis'],
  [936, 'gbk'],
  [949, 'euc-kr'],
  [950, 'big5'],
  [1200, 'utf-16le'],
  [1201, 'utf-16be'],
  [1250, 'windows-1250'],
  [1251, 'windows-1251'],
  [1253, 'windows-1253'],
  [1254, 'windows-1254'],
  [1255, 'windows-1255'],
  [1256, 'windows-1256'],
  [1257, 'windows-1257'],
  [1258, 'windows-1258'],
  [10000, 'macintosh'],
  [20866, 'koi8-r'],
  [20932, 'euc-jp'],
  [21866, 'koi8-u'],
  [28592, 'iso-8859-2'],
  [28593, 'iso-8859-3'],
  [28594, 'iso-8859-4'],
  [28595, 'iso-8859-5'],
  [28596, 'iso-8859-6'],
  [28597, 'iso-8859-7'],
  [28598, 'iso-8859-8'],
  [28603, 'iso-8859-13'],
  [28605, 'iso-8859-15'],
  [50220, 'iso-2022-jp'],
  [51932, 'euc-jp'],
  [51936, 'gbk'],
  [51949, 'euc-kr'],
  [54936, 'gb18030'],
]);

type Decoder = InstanceType<typeof TextDecoder>;
/**
 * Windows-1252's 0x80-0x9F (0 where it defines nothing), decoded here: some Node releases drop
 * these bytes in their windows-1252 TextDecoder.
 */
const CP1252_HIGH = [
  0x20ac, 0, 0x201a, 0x0192, 0x201e, 0x2026, 0x2020, 0x2021, 0x02c6, 0x2030, 0x0160, 0x2039, 0x0152, 0, 0x017d, 0, 0,
  0x2018, 0x2019, 0x201c, 0x201d, 0x2022, 0x2013, 0x2014, 0x02dc, 0x2122, 0x0161, 0x203a, 0x0153, 0, 0x017e, 0x0178,
];

function cp1252(bytes: Uint8Array): string | undefined {
  const units = new Uint16Array(bytes.length);
  for (let i = 0; i < bytes.length; i++) {
    const b = bytes[i] as number;
    const high = b >= 0x80 && b < 0xa0;
    units[i] = high ? (CP1252_HIGH[b - 0x80] as number) : b;
    if (high && units[i] === 0) return undefined;
  }
  let s = '';
  for (let i = 0; i < units.length; i += 8192) s += String.fromCharCode(...units.subarray(i, i + 8192));
  return s;
}

const decoders = new Map<string, Decoder | null>();

function decoderFor(label: string): Decoder | null {
  let d = decoders.get(label);
  if (d === undefined) {
    try {
      d = new TextDecoder(label, { fatal: true, ignoreBOM: true });
    } catch {
      d = null; // a runtime without this encoding
    }
    decoders.set(label, d);
  }
  return d;
}

const encoder = new TextEncoder();

/**
 * `bytes` in code page `codepage` as UTF-8, or undefined when ClamAV's conversion would fail
 * (empty input, an unknown page, an invalid or undefined sequence) or the page is not supported.
 */
export function toUtf8(bytes: Uint8Array, codepage: number): Uint8Array | undefined {
  if (bytes.length === 0) return undefined;
  if (codepage === US_ASCII) return bytes.slice();
  if (codepage === UTF8) return trimIncompleteUtf8(bytes);
  if (codepage === LATIN1) return encoder.encode(latin1(bytes));
  if (codepage === CP1252) {
    const text = cp1252(bytes);
    return text === undefined ? undefined : encoder.encode(text);
  }
  const label = LABELS.get(codepage);
  const decoder = label === undefined ? null : decoderFor(label);
  if (decoder === null) return undefined;
  let text: string;
  try {
    text = decoder.decode(bytes);
  } catch {
    return undefined;
  }
  // WHATWG fills the holes of the Windows pages with C1 controls; iconv rejects those bytes.
  if (label?.startsWith('windows-') === true && /[\u0080-\u009f]/.test(text)) return undefined;
  return encoder.encode(text);
}

function latin1(bytes: Uint8Array): string {
  let s = '';
  for (let i = 0; i < bytes.length; i += 8192) s += String.fromCharCode(...bytes.subarray(i, i + 8192));
  return s;
}

/** UTF-8 passed through, with an incomplete last character zeroed (its bytes stay, as NULs). */
function trimIncompleteUtf8(bytes: Uint8Array): Uint8Array {
  const out = bytes.slice();
  const last = out.length - 1;
  if (((out[last] as number) & 0x80) === 0) return out;
  let start = last;
  while (start > 0 && ((out[start] as number) & 0xc0) === 0x80) start--;
  const count = last - start + 1;
  let lead = 0;
  while (lead < 8 && ((out[start] as number) & (0x80 >> lead)) !== 0) lead++;
  if (lead !== count) out.fill(0, start);
  return out;
}
