// ClamAV's signed containers. A .cvd is a 512-byte text header
// (`ClamAV-VDB:BuildTime:Version:Signatures:FLevel:MD5:DSig:Builder:BuildSeconds`) followed by a
// gzipped tar of database files. The MD5 is of everything after the header; DSig is that MD5 signed
// with ClamAV's RSA key. A .cld (what freshclam writes after applying updates) holds a plain or
// gzipped tar and is not re-signed; a .cud is an unsigned .cvd. The tar's .info member lists each
// file's size and SHA256, which are checked too.
import type { EngineEnv } from '../../env.js';
import { FieldError } from './fields.js';

/** An RSA public key as ClamAV's signatures use it. */
export interface DsigKey {
  readonly n: bigint;
  readonly e: bigint;
}

/** ClamAV's public key (modulus and exponent, decimal), as published in its sources (libclamav/dsig.c). */
const CLAMAV_N = BigInt(
  '118640995551645342603070001658453189751527774412027743746599405743243142607464144767361060640655844749760788890022283424922762488917565551002467771109669598189410434699034532232228621591089508178591428456220796841621637175567590476666928698770143328137383952820383197532047771780196576957695822641224262693037',
);
const CLAMAV_E = 100001027n;
export const CLAMAV_KEY: DsigKey = Object.freeze({ n: CLAMAV_N, e: CLAMAV_E });

/** The 2048-bit key ClamAV signs its CDIFF updates with (published in its sources). */
export const CLAMAV_CDIFF_KEY: DsigKey = Object.freeze({
  n: BigInt(
    '1478390587407746709026222851655791757025459963837620353203198921410555284726' +
      '9687489771975792123442185817287694951949800908791527542017115600501303394778' +
      '6185358648452357000415900563182301024496122174585490160893133065913885907907' +
      '9651581965410232072571230082235634872401123265483750324173617790778419870083' +
      '4440681124727060540035754699658105895050096576226753008596881698828185652424' +
      '9019216687583265784620032479064709820922981067896572119054889862810783463614' +
      '6952448482955956088622719809199549844067663963983046359321138605506536028842' +
      '2394053998134458623712540683294034953818412458362198117811990006021989844180' +
      '721010947',
  ),
  e: 100002053n,
});

const DSIG_ALPHABET = 'abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789+/';

/** The most a container may expand to (the official main.cvd holds a few hundred MB). */
const MAX_UNPACKED = 2 ** 31 - 1;

export interface CvdHeader {
  readonly buildTime: string;
  readonly version: number;
  readonly signatures: number;
  readonly flevel: number;
  readonly md5: string;
  readonly dsig: string;
  readonly builder: string;
}

export interface CvdMember {
  readonly name: string;
  readonly bytes: Uint8Array;
}

export interface Cvd {
  readonly header: CvdHeader;
  /** True when the digital signature verified with ClamAV's key (or a .cld, which freshclam built). */
  readonly official: boolean;
  readonly members: readonly CvdMember[];
}

function bad(message: string): FieldError {
  return new FieldError('S013', message, 0);
}

function hex(bytes: Uint8Array): string {
  let s = '';
  for (const b of bytes) s += b.toString(16).padStart(2, '0');
  return s;
}

function modPow(base: bigint, exp: bigint, mod: bigint): bigint {
  let result = 1n;
  base %= mod;
  while (exp > 0n) {
    if (exp & 1n) result = (result * base) % mod;
    base = (base * base) % mod;
    exp >>= 1n;
  }
  return result;
}

/** The number ClamAV's signature text encodes: 6 bits a character, the first the lowest. */
function decodeDsigNumber(dsig: string): bigint | undefined {
  let c = 0n;
  for (let i = dsig.length - 1; i >= 0; i--) {
    const v = DSIG_ALPHABET.indexOf(dsig[i] as string);
    if (v < 0) return undefined;
    c = (c << 6n) | BigInt(v);
  }
  return c;
}

/** `dsig` decrypted with `key`, as `length` big-endian bytes, or undefined when it does not fit. */
function decodeDsig(dsig: string, length: number, key: DsigKey): Uint8Array | undefined {
  const c = decodeDsigNumber(dsig);
  if (c === undefined) return undefined;
  let p = modPow(c, key.e, key.n);
  const plain = new Uint8Array(length);
  for (let i = length - 1; i >= 0; i--) {
    plain[i] = Number(p & 0xffn);
    p >>= 8n;
  }
  return p === 0n ? plain : undefined;
}

/** True when `dsig` is ClamAV's RSA signature of `md5` (32 hex digits), by default with ClamAV's key. */
export function verifyDsig(md5: string, dsig: string, key: DsigKey = CLAMAV_KEY): boolean {
  const plain = decodeDsig(dsig, 16, key);
  return plain !== undefined && hex(plain) === md5.toLowerCase();
}

const PSS_LENGTH = 256;
const PSS_SALT = 32;

/**
 * True when `dsig` is a signature of `sha256` in ClamAV's second scheme (cli_versig2, used for
 * CDIFF files): RSA over a 2048-bit PSS-style block with SHA-256, MGF1 and a 32-byte salt.
 */
export function verifyDsig2(sha256: Uint8Array, dsig: string, key: DsigKey, env: Pick<EngineEnv, 'hash'>): boolean {
  const em = decodeDsig(dsig, PSS_LENGTH, key);
  if (em === undefined || em[PSS_LENGTH - 1] !== 0xbc) return false;
  const blockLength = PSS_LENGTH - 33;
  const h = em.subarray(blockLength, blockLength + 32);
  const db = new Uint8Array(blockLength);
  for (let i = 0, counter = 0; i < blockLength; counter++) {
    const mask = env.hash('sha256', Uint8Array.of(...h, 0, 0, counter >> 8, counter & 0xff));
    for (let k = 0; k < 32 && i < blockLength; k++, i++) db[i] = (mask[k] as number) ^ (em[i] as number);
  }
  db[0] = (db[0] as number) & 0x7f;
  const one = db.indexOf(1);
  if (one < 0 || blockLength - (one + 1) !== PSS_SALT) return false;
  const expected = env.hash('sha256', Uint8Array.of(0, 0, 0, 0, 0, 0, 0, 0, ...sha256, ...db.subarray(one + 1)));
  return hex(expected) === hex(h);
}

export function parseCvdHeader(bytes: Uint8Array): CvdHeader {
  if (bytes.length < 512) throw bad(`the file is ${bytes.length} bytes, shorter than a CVD header (512)`);
  let text = '';
  for (let i = 0; i < 512; i++) text += String.fromCharCode(bytes[i] as number);
  text = text.replace(/[\0 ]+$/, '');
  const f = text.split(':');
  if (f[0] !== 'ClamAV-VDB') throw bad("the header does not start with 'ClamAV-VDB'");
  if (f.length < 8) throw bad(`the header has ${f.length} fields, expected 9`);
  const num = (s: string | undefined, what: string) => {
    if (s === undefined || !/^\d+$/.test(s)) throw bad(`the header's ${what} '${s ?? ''}' is not a number`);
    return Number(s);
  };
  return {
    buildTime: f[1] ?? '',
    version: num(f[2], 'version'),
    signatures: num(f[3], 'signature count'),
    flevel: num(f[4], 'functionality level'),
    md5: f[5] ?? '',
    dsig: f[6] ?? '',
    builder: f[7] ?? '',
  };
}

/** Reads the members of a ustar/GNU tar. Truncation is an error; nothing is skipped silently. */
export function readTar(tar: Uint8Array): CvdMember[] {
  const members: CvdMember[] = [];
  if (tar.length === 0) throw bad('the container holds no tar archive');
  let at = 0;
  while (at + 512 <= tar.length) {
    const h = tar.subarray(at, at + 512);
    if (h.every((b) => b === 0)) return members;
    let name = '';
    for (let i = 0; i < 100 && h[i] !== 0; i++) name += String.fromCharCode(h[i] as number);
    let sizeText = '';
    for (let i = 124; i < 136 && h[i] !== 0; i++) sizeText += String.fromCharCode(h[i] as number);
    sizeText = sizeText.trim();
    if (!/^[0-7]+$/.test(sizeText)) throw bad(`tar entry '${name}' has a bad size field`);
    const size = Number.parseInt(sizeText, 8);
    const type = h[156];
    const start = at + 512;
    if (start + size > tar.length) throw bad(`tar entry '${name}' is truncated (${size} bytes announced)`);
    if (type === 0 || type === 0x30)
      members.push({ name: name.slice(name.lastIndexOf('/') + 1), bytes: tar.subarray(start, start + size) });
    at = start + Math.ceil(size / 512) * 512;
  }
  // Without its end-of-archive block a tar must end exactly after its last entry.
  if (at < tar.length) throw bad(`the tar archive is cut short (${tar.length - at} stray bytes at byte ${at})`);
  return members;
}

function checkInfo(members: readonly CvdMember[], env: EngineEnv): void {
  const info = members.find((m) => m.name.endsWith('.info'));
  if (info === undefined) return;
  const text = new TextDecoder('latin1').decode(info.bytes);
  for (const line of text.split('\n')) {
    const f = line.trim().split(':');
    if (f.length !== 3 || f[0] === 'ClamAV-VDB' || !/^[0-9a-f]{64}$/i.test(f[2] as string)) continue;
    const m = members.find((x) => x.name === f[0]);
    if (m === undefined) throw bad(`${info.name} lists ${f[0]}, which the container lacks`);
    if (m.bytes.length !== Number(f[1])) throw bad(`${f[0]} is ${m.bytes.length} bytes, ${info.name} says ${f[1]}`);
    if (hex(env.hash('sha256', m.bytes)) !== (f[2] as string).toLowerCase())
      throw bad(`${f[0]} does not match its SHA256 in ${info.name}`);
  }
}

/** Opens a .cvd, .cld or .cud: checks header, MD5, signature (.cvd) and the .info list. */
export function openCvd(
  bytes: Uint8Array,
  kind: 'cvd' | 'cld' | 'cud',
  env: EngineEnv,
  key: DsigKey = CLAMAV_KEY,
): Cvd {
  const header = parseCvdHeader(bytes);
  const body = bytes.subarray(512);
  let official = kind === 'cld';
  if (kind !== 'cld') {
    if (hex(env.hash('md5', body)) !== header.md5.toLowerCase()) {
      throw bad('the MD5 of the contents does not match the header (truncated or altered)');
    }
    if (kind === 'cvd') {
      if (!verifyDsig(header.md5, header.dsig, key)) {
        throw bad(
          `the digital signature does not verify with ${key === CLAMAV_KEY ? "ClamAV's key" : 'the given key'}`,
        );
      }
      official = true;
    }
  }
  let tar: Uint8Array;
  if (body[0] === 0x1f && body[1] === 0x8b) {
    try {
      tar = env.gunzip(body, MAX_UNPACKED);
    } catch (e) {
      throw bad(`the compressed contents are corrupt: ${e instanceof Error ? e.message : String(e)}`);
    }
  } else {
    tar = body;
  }
  const members = readTar(tar);
  checkInfo(members, env);
  return { header, official, members };
}
