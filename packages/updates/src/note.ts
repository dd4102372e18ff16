// Signed notes (c2sp.org/signed-note): a text, a blank line, and signature lines `— <name>
// base64(key ID || signature)`. Ed25519 keys for signers (type 0x01) and witnesses' timestamped
// cosignatures (type 0x04, c2sp.org/tlog-cosignature), in the vkey/skey text forms that Go's
// note package and the witness network use. What a note's text means is left to checkpoint.ts.
import { createHash, createPrivateKey, createPublicKey, type KeyObject, randomBytes, sign, verify } from 'node:crypto';
import { UpdateError } from './errors.js';

/** Signature types of c2sp.org/signed-note. */
export const ED25519 = 0x01;
export const COSIGNATURE_V1 = 0x04;
type KeyType = typeof ED25519 | typeof COSIGNATURE_V1;

/** Notes larger than this, or with more signatures, are refused before any work. */
export const MAX_NOTE_BYTES = 1 << 16;
export const MAX_SIGNATURES = 100;

const DASH = '\u2014 ';

/** A public key able to check one kind of signature from one named signer. */
export interface Verifier {
  readonly name: string;
  readonly type: KeyType;
  readonly keyId: Uint8Array;
  readonly publicKey: Uint8Array;
  /** The vkey text: `<name>+<key ID hex>+<base64(type || public key)>`. */
  readonly vkey: string;
}

/** A private key and its verifier. */
export interface Signer extends Verifier {
  /** The skey text: `PRIVATE+KEY+<name>+<key ID hex>+<base64(type || seed)>`. */
  readonly skey: string;
  sign(message: Uint8Array): Uint8Array;
}

const enc = new TextEncoder();
const dec = new TextDecoder('utf-8', { fatal: true });
const b64 = (b: Uint8Array) => Buffer.from(b).toString('base64');
const hex = (b: Uint8Array) => Buffer.from(b).toString('hex');

function keyId(name: string, type: KeyType, publicKey: Uint8Array): Uint8Array {
  return new Uint8Array(
    createHash('sha256').update(`${name}\n`).update(Uint8Array.of(type)).update(publicKey).digest(),
  ).subarray(0, 4);
}

function checkName(name: string): void {
  if (name.length === 0 || /[\s+]/u.test(name) || [...name].some((c) => c < ' ')) {
    throw new UpdateError('E_FORMAT', `key name ${JSON.stringify(name)} must be non-empty, without spaces or '+'`);
  }
}

// Ed25519 keys as Node takes them: the 32 raw bytes behind fixed DER prefixes (RFC 8410).
const SPKI_PREFIX = Buffer.from('302a300506032b6570032100', 'hex');
const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const publicKeyObject = (raw: Uint8Array): KeyObject =>
  createPublicKey({ key: Buffer.concat([SPKI_PREFIX, raw]), format: 'der', type: 'spki' });
const privateKeyObject = (seed: Uint8Array): KeyObject =>
  createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });

function makeVerifier(name: string, type: KeyType, publicKey: Uint8Array): Verifier {
  checkName(name);
  const id = keyId(name, type, publicKey);
  return {
    name,
    type,
    keyId: id,
    publicKey,
    vkey: `${name}+${hex(id)}+${b64(Uint8Array.of(type, ...publicKey))}`,
  };
}

function makeSigner(name: string, type: KeyType, seed: Uint8Array): Signer {
  const key = privateKeyObject(seed);
  const spki = createPublicKey(key).export({ format: 'der', type: 'spki' });
  const v = makeVerifier(name, type, new Uint8Array(spki.subarray(SPKI_PREFIX.length)));
  return {
    ...v,
    skey: `PRIVATE+KEY+${name}+${hex(v.keyId)}+${b64(Uint8Array.of(type, ...seed))}`,
    sign: (message) => new Uint8Array(sign(null, message, key)),
  };
}

/** A new Ed25519 key pair for a log (type 0x01) or a witness (type 0x04). */
export function generateSigner(name: string, type: KeyType = ED25519): Signer {
  return makeSigner(name, type, new Uint8Array(randomBytes(32)));
}

/** Reads `name+id+base64` (base64 may hold '+' itself; the name and the hex ID cannot). */
function parseKeyText(text: string, what: string): { name: string; type: KeyType; key: Uint8Array } {
  const bad = (why: string) => new UpdateError('E_FORMAT', `not a ${what}: ${why}`);
  const m = /^([^+\s]+)\+([^+]*)\+(\S+)$/.exec(text.trim());
  if (m === null) throw bad("expected '<name>+<key ID>+<key>'");
  const [, name, id, data] = m as unknown as [string, string, string, string];
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length !== 33 || b64(bytes) !== data) throw bad('the key is not base64 of a type byte and 32 bytes');
  const type = bytes[0];
  if (type !== ED25519 && type !== COSIGNATURE_V1) throw bad(`signature type 0x${type?.toString(16)} is not supported`);
  if (!/^[0-9a-f]{8}$/.test(id)) throw bad(`key ID ${id} is not 8 hex digits`);
  return { name, type, key: new Uint8Array(bytes.subarray(1)) };
}

/** Reads a vkey (`name+id+base64`), checking that the key ID matches the key. */
export function parseVerifier(vkey: string): Verifier {
  const { name, type, key } = parseKeyText(vkey, 'verifier key');
  const v = makeVerifier(name, type, key);
  if (v.vkey !== vkey.trim())
    throw new UpdateError('E_FORMAT', `verifier key ${name}: the key ID does not match the key`);
  return v;
}

/** Reads an skey (`PRIVATE+KEY+name+id+base64`). */
export function parseSigner(skey: string): Signer {
  const prefix = 'PRIVATE+KEY+';
  if (!skey.trim().startsWith(prefix)) throw new UpdateError('E_FORMAT', 'not a signer key: no PRIVATE+KEY+ prefix');
  const { name, type, key } = parseKeyText(skey.trim().slice(prefix.length), 'signer key');
  const s = makeSigner(name, type, key);
  if (s.skey !== skey.trim())
    throw new UpdateError('E_FORMAT', `signer key ${name}: the key ID does not match the key`);
  return s;
}

/** One signature line of a note. */
export interface NoteSignature {
  readonly name: string;
  readonly keyId: Uint8Array;
  /** The bytes after the key ID. */
  readonly signature: Uint8Array;
  /** The line as it was, without its newline. */
  readonly line: string;
}

/** A signed note taken apart: its text (with the final newline) and its signature lines. */
export interface Note {
  readonly text: string;
  readonly signatures: readonly NoteSignature[];
}

/** Splits a signed note into text and signatures, refusing anything the format does not allow. */
export function parseNote(bytes: Uint8Array | string): Note {
  const raw = typeof bytes === 'string' ? enc.encode(bytes) : bytes;
  const bad = (why: string) => new UpdateError('E_FORMAT', `malformed signed note: ${why}`);
  if (raw.length > MAX_NOTE_BYTES) throw bad(`${raw.length} bytes, more than the ${MAX_NOTE_BYTES} allowed`);
  let s: string;
  try {
    s = dec.decode(raw);
  } catch {
    throw bad('not UTF-8');
  }
  if ([...s].some((c) => c < ' ' && c !== '\n')) throw bad('a control character other than newline');
  if (!s.endsWith('\n')) throw bad('it does not end with a newline');
  const sep = s.lastIndexOf('\n\n');
  if (sep < 0) throw bad('no blank line before the signatures');
  const text = s.slice(0, sep + 1);
  const lines = s.slice(sep + 2, -1).split('\n');
  if (lines.length > MAX_SIGNATURES) throw bad(`${lines.length} signatures, more than ${MAX_SIGNATURES}`);
  return { text, signatures: lines.map((l, i) => parseSignatureLine(l, i + 1)) };
}

/** Reads one `— name base64` line. */
export function parseSignatureLine(line: string, n = 1): NoteSignature {
  const bad = (why: string) => new UpdateError('E_FORMAT', `malformed signed note: signature line ${n}: ${why}`);
  if (!line.startsWith(DASH)) throw bad('it does not start with an em dash and a space');
  const rest = line.slice(DASH.length);
  const space = rest.indexOf(' ');
  if (space <= 0) throw bad('no key name');
  const name = rest.slice(0, space);
  const data = rest.slice(space + 1);
  const bytes = Buffer.from(data, 'base64');
  if (bytes.length < 5 || b64(bytes) !== data) throw bad('the signature is not base64 of a key ID and a signature');
  return { name, keyId: new Uint8Array(bytes.subarray(0, 4)), signature: new Uint8Array(bytes.subarray(4)), line };
}

/** A signature line for `text` by `signer` (type 0x01). */
export function signNote(text: string, signer: Signer): string {
  if (signer.type !== ED25519) throw new UpdateError('E_SIGNATURE', `${signer.name} is not a note signing key`);
  const sig = signer.sign(enc.encode(text));
  return `${DASH}${signer.name} ${b64(Uint8Array.of(...signer.keyId, ...sig))}`;
}

/** The note with its signature lines. */
export const formatNote = (text: string, lines: readonly string[]): string => `${text}\n${lines.join('\n')}\n`;

const sameId = (a: Uint8Array, b: Uint8Array) => a.length === b.length && a.every((x, i) => x === b[i]);

/** The signatures of `note` made by `v` (same name and key ID); others are ignored, as the format asks. */
export const signaturesBy = (note: Note, v: Verifier): NoteSignature[] =>
  note.signatures.filter((s) => s.name === v.name && sameId(s.keyId, v.keyId));

/** Whether `sig` is a valid Ed25519 signature of `message` by `v`. */
export function checkSignature(v: Verifier, message: Uint8Array, sig: Uint8Array): boolean {
  if (sig.length !== 64) return false;
  return verify(null, message, publicKeyObject(v.publicKey), sig);
}

/**
 * Checks that `note` carries a valid signature from one of `verifiers` (type 0x01), and that every
 * signature from a known key verifies. Returns the verifiers whose signatures held.
 */
export function verifyNote(note: Note, verifiers: readonly Verifier[]): Verifier[] {
  const good: Verifier[] = [];
  for (const v of verifiers.filter((k) => k.type === ED25519)) {
    for (const s of signaturesBy(note, v)) {
      if (!checkSignature(v, enc.encode(note.text), s.signature)) {
        throw new UpdateError('E_SIGNATURE', `the signature by ${v.name} does not verify`);
      }
      good.push(v);
    }
  }
  if (good.length === 0) {
    const names = verifiers.map((v) => v.name).join(', ');
    throw new UpdateError('E_SIGNATURE', `no signature from a trusted key (${names || 'none configured'})`);
  }
  return good;
}
