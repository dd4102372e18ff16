// Offline licence files: a licence record signed with Ed25519 so that a client can check it with
// the vendor's public key and no network. The file is JSON `{ licence, signature, keyId }`; the
// signature covers the canonical JSON of `licence` (keys sorted, no whitespace), so the file's own
// layout does not matter. Issuing, verifying and the key helpers are here; storing licences and
// deciding who may have one is the service's job.
import {
  createHash,
  createPrivateKey,
  createPublicKey,
  generateKeyPairSync,
  type KeyObject,
  sign,
  verify,
} from 'node:crypto';
import { describe } from '../check.js';
import { LicenceError } from './errors.js';
import { SERVICE_LIMITS } from './limits.js';
import { badInput, checkCountry, checkId, checkInstant, checkObject, checkSeats, type Fields } from './validate.js';

/** A licence: who may run which product on how many machines, until when. */
export interface Licence {
  readonly id: string;
  readonly product: string;
  readonly plan: string;
  readonly customer: string;
  /** ISO 3166-1 alpha-2 code of the billing address: the jurisdiction of the regional policy. */
  readonly billingCountry: string;
  /** How many machines may be activated at once. */
  readonly seats: number;
  /** ISO 8601 instant the licence was issued. */
  readonly issuedAt: string;
  /** ISO 8601 instant the licence stops being valid (the first instant it is expired). */
  readonly expiresAt: string;
}

/** The fields of a licence, in the order files show them. */
export const LICENCE_FIELDS = [
  'id',
  'product',
  'plan',
  'customer',
  'billingCountry',
  'seats',
  'issuedAt',
  'expiresAt',
] as const;

/** The parsed form of a licence file. */
export interface LicenceFile {
  readonly licence: Licence;
  /** Base64 of the 64-byte Ed25519 signature over `canonicalJson(licence)`. */
  readonly signature: string;
  /** `licenceKeyId` of the signing key: 16 hex digits. */
  readonly keyId: string;
}

/** A freshly generated signing key pair, as key objects and as PEM text. */
export interface LicenceKeys {
  readonly privateKey: KeyObject;
  readonly publicKey: KeyObject;
  /** PKCS #8 PEM of the private key: keep it secret. */
  readonly privatePem: string;
  /** SPKI PEM of the public key: ship it with clients. */
  readonly publicPem: string;
  readonly keyId: string;
}

const SIGNATURE = /^[A-Za-z0-9+/]{86}==$/;
const KEY_ID = /^[0-9a-f]{16}$/;

/** Generates an Ed25519 key pair for signing licence files. */
export function generateLicenceKeys(): LicenceKeys {
  const { privateKey, publicKey } = generateKeyPairSync('ed25519');
  return {
    privateKey,
    publicKey,
    privatePem: privateKey.export({ type: 'pkcs8', format: 'pem' }).toString(),
    publicPem: publicKey.export({ type: 'spki', format: 'pem' }).toString(),
    keyId: licenceKeyId(publicKey),
  };
}

function ed25519(key: KeyObject, what: string): KeyObject {
  if (key.asymmetricKeyType !== 'ed25519') {
    throw new LicenceError('E_INPUT', `${what} is ${key.asymmetricKeyType ?? key.type}, expected an Ed25519 key`);
  }
  return key;
}

/** An Ed25519 private key from a key object or PKCS #8 PEM text. */
export function privateKeyFrom(key: KeyObject | string): KeyObject {
  if (typeof key !== 'string') {
    if (key.type !== 'private') throw new LicenceError('E_INPUT', `expected a private key, got a ${key.type} key`);
    return ed25519(key, 'the private key');
  }
  try {
    return ed25519(createPrivateKey(key), 'the private key');
  } catch (e) {
    if (e instanceof LicenceError) throw e;
    throw new LicenceError('E_INPUT', `not a private key in PEM form: ${(e as Error).message}`, { cause: e });
  }
}

/** An Ed25519 public key from a key object or PEM text (a private key gives its public half). */
export function publicKeyFrom(key: KeyObject | string): KeyObject {
  try {
    const k = typeof key === 'string' ? createPublicKey(key) : key.type === 'private' ? createPublicKey(key) : key;
    return ed25519(k, 'the public key');
  } catch (e) {
    if (e instanceof LicenceError) throw e;
    throw new LicenceError('E_INPUT', `not a public key in PEM form: ${(e as Error).message}`, { cause: e });
  }
}

/** The id of a key: hex of the first 8 bytes of SHA-256 over the raw 32-byte Ed25519 public key. */
export function licenceKeyId(key: KeyObject | string): string {
  const jwk = publicKeyFrom(key).export({ format: 'jwk' });
  const raw = Buffer.from(String(jwk.x), 'base64url');
  return createHash('sha256').update(raw).digest().subarray(0, 8).toString('hex');
}

/**
 * JSON with object keys sorted (by UTF-16 code units) and no whitespace: the bytes a licence
 * signature covers. Only JSON values are allowed (no undefined, functions or non-finite numbers).
 */
export function canonicalJson(value: unknown): string {
  if (value === null || typeof value === 'boolean' || typeof value === 'string') return JSON.stringify(value);
  if (typeof value === 'number') {
    if (!Number.isFinite(value)) throw new LicenceError('E_INPUT', `${value} has no JSON form`);
    return JSON.stringify(value);
  }
  if (Array.isArray(value)) return `[${value.map(canonicalJson).join(',')}]`;
  if (typeof value === 'object') {
    const fields = value as Fields;
    const keys = Object.keys(fields)
      .filter((k) => fields[k] !== undefined)
      .sort();
    return `{${keys.map((k) => `${JSON.stringify(k)}:${canonicalJson(fields[k])}`).join(',')}}`;
  }
  throw new LicenceError('E_INPUT', `a ${typeof value} has no JSON form`);
}

/** Checks that `value` is a licence: every field present and valid, no others, issued before it expires. */
export function checkLicence(value: unknown, prefix = 'licence.'): Licence {
  const fields = checkObject(value, prefix === '' ? 'licence' : prefix.slice(0, -1));
  for (const key of Object.keys(fields)) {
    if (!(LICENCE_FIELDS as readonly string[]).includes(key)) {
      badInput(prefix + key, `unknown field (fields: ${LICENCE_FIELDS.join(', ')})`);
    }
  }
  for (const key of LICENCE_FIELDS) {
    if (!Object.hasOwn(fields, key)) badInput(prefix + key, 'missing field');
  }
  const issuedMs = checkInstant(fields.issuedAt, `${prefix}issuedAt`);
  const expiresMs = checkInstant(fields.expiresAt, `${prefix}expiresAt`);
  if (expiresMs <= issuedMs) badInput(`${prefix}expiresAt`, `${fields.expiresAt} is not after issuedAt`);
  if (expiresMs > SERVICE_LIMITS.maxExpiryMs) badInput(`${prefix}expiresAt`, 'is after the year 9999');
  return {
    id: checkId(fields.id, `${prefix}id`),
    product: checkId(fields.product, `${prefix}product`),
    plan: checkId(fields.plan, `${prefix}plan`),
    customer: checkId(fields.customer, `${prefix}customer`),
    billingCountry: checkCountry(fields.billingCountry, `${prefix}billingCountry`),
    seats: checkSeats(fields.seats, `${prefix}seats`),
    issuedAt: fields.issuedAt as string,
    expiresAt: fields.expiresAt as string,
  };
}

/** Signs `licence` and returns the text of its licence file (pretty-printed JSON). */
export function issueLicenceFile(licence: Licence, privateKey: KeyObject | string): string {
  const checked = checkLicence(licence);
  const key = privateKeyFrom(privateKey);
  const signature = sign(null, Buffer.from(canonicalJson(checked), 'utf8'), key).toString('base64');
  const ordered = Object.fromEntries(LICENCE_FIELDS.map((k) => [k, checked[k]]));
  return `${JSON.stringify({ licence: ordered, signature, keyId: licenceKeyId(key) }, null, 2)}\n`;
}

/** The envelope of a licence file, its licence a flat object whose signature is still to check. */
function parseEnvelope(text: string): { licence: Fields; signature: string; keyId: string } {
  const size = Buffer.byteLength(text, 'utf8');
  const max = SERVICE_LIMITS.maxLicenceFileBytes;
  if (size > max) throw new LicenceError('E_INPUT', `licence file: ${size} bytes, over the limit of ${max}`);
  let parsed: unknown;
  try {
    parsed = JSON.parse(text);
  } catch (e) {
    throw new LicenceError('E_INPUT', `licence file: not JSON (${(e as Error).message})`, { cause: e });
  }
  const file = checkObject(parsed, 'licence file');
  for (const key of Object.keys(file)) {
    if (!['licence', 'signature', 'keyId'].includes(key))
      badInput(key, 'unknown field (fields: licence, signature, keyId)');
  }
  const licence = checkObject(file.licence ?? badInput('licence', 'missing field'), 'licence');
  for (const [key, v] of Object.entries(licence)) {
    // Flat values only: the canonical form of anything nested would be unbounded work.
    if (typeof v !== 'string' && typeof v !== 'number') {
      badInput(`licence.${key}`, `expected a string or a number, got ${describe(v)}`);
    }
  }
  const { signature, keyId } = file;
  if (typeof signature !== 'string' || !SIGNATURE.test(signature)) {
    badInput('signature', signature === undefined ? 'missing field' : 'is not the base64 of a 64-byte signature');
  }
  if (typeof keyId !== 'string' || !KEY_ID.test(keyId)) {
    badInput('keyId', keyId === undefined ? 'missing field' : `${describe(keyId)} is not 16 lower-case hex digits`);
  }
  return { licence, signature, keyId };
}

/**
 * Verifies a licence file against the trusted public keys at `now`, and returns its licence.
 * Throws a LicenceError: E_INPUT for a malformed file (naming the field), E_UNKNOWN_KEY when no
 * trusted key has its key id, E_SIGNATURE when the signature does not verify (the licence was
 * changed), E_EXPIRED when `now` is at or after `expiresAt`.
 */
export function verifyLicenceFile(text: string, publicKeys: readonly (KeyObject | string)[], now: Date): Licence {
  const nowMs = now.getTime();
  if (Number.isNaN(nowMs)) throw new LicenceError('E_INPUT', 'now: expected a valid Date', { field: 'now' });
  const envelope = parseEnvelope(text);
  const { keyId } = envelope;
  const keys = publicKeys.map(publicKeyFrom).filter((k) => licenceKeyId(k) === keyId);
  if (keys.length === 0) {
    const trusted = publicKeys.length === 0 ? 'none' : publicKeys.map(licenceKeyId).join(', ');
    throw new LicenceError(
      'E_UNKNOWN_KEY',
      `licence file: signed by key ${keyId}, which is not a trusted key (trusted: ${trusted})`,
      { keyId },
    );
  }
  const data = Buffer.from(canonicalJson(envelope.licence), 'utf8');
  const signature = Buffer.from(envelope.signature, 'base64');
  if (!keys.some((k) => verify(null, data, k, signature))) {
    throw new LicenceError(
      'E_SIGNATURE',
      `licence file: signature does not verify with key ${keyId}: the licence was changed after it was signed`,
      { keyId },
    );
  }
  const licence = checkLicence(envelope.licence);
  const expiresMs = checkInstant(licence.expiresAt, 'licence.expiresAt');
  if (nowMs >= expiresMs) {
    const when = new Date(expiresMs).toISOString();
    throw new LicenceError('E_EXPIRED', `licence ${licence.id} expired on ${when}`, {
      licenceId: licence.id,
      expiresAt: when,
    });
  }
  return licence;
}
