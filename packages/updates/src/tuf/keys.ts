// TUF signing keys: Ed25519 key pairs in TUF's key format (keytype and scheme "ed25519", the public
// key in hex, the key ID the SHA-256 of the key's canonical JSON), kept one per file, readable
// only by their owner. Root keys are meant to live offline: the repository never stores them.
import { createHash, createPrivateKey, createPublicKey, generateKeyPairSync, sign } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { canonicalize } from '@tufjs/canonical-json';
import { Key, Signature } from '@tufjs/models';
import { UpdateError } from '../errors.js';
import { writeAtomically } from '../files.js';

/** A private key able to sign TUF metadata, with its public half. */
export interface TufSigner {
  readonly key: Key;
  sign(data: Buffer): Signature;
}

const PKCS8_PREFIX = Buffer.from('302e020100300506032b657004220420', 'hex');
const SPKI_PREFIX_LENGTH = 12;

function publicKey(publicHex: string): Key {
  const body = { keytype: 'ed25519', scheme: 'ed25519', keyval: { public: publicHex } };
  const keyID = createHash('sha256').update(canonicalize(body)).digest('hex');
  return new Key({ keyID, keyType: body.keytype, scheme: body.scheme, keyVal: body.keyval });
}

function signer(seed: Buffer): TufSigner {
  const priv = createPrivateKey({ key: Buffer.concat([PKCS8_PREFIX, seed]), format: 'der', type: 'pkcs8' });
  const pub = createPublicKey(priv).export({ format: 'der', type: 'spki' }).subarray(SPKI_PREFIX_LENGTH);
  const key = publicKey(pub.toString('hex'));
  return {
    key,
    sign: (data) => new Signature({ keyID: key.keyID, sig: sign(null, data, priv).toString('hex') }),
  };
}

/** Writes a private key file (mode 0600); its contents name the key ID for the operator. */
export function saveTufSigner(path: string, s: TufSigner): void {
  const seed = seedOf(s);
  const body = {
    keyid: s.key.keyID,
    keytype: 'ed25519',
    scheme: 'ed25519',
    keyval: { public: s.key.keyVal.public, private: seed },
  };
  writeAtomically(path, `${JSON.stringify(body, null, 2)}\n`, 0o600);
}

const seeds = new WeakMap<TufSigner, string>();

function seedOf(s: TufSigner): string {
  const seed = seeds.get(s);
  if (seed === undefined) throw new UpdateError('E_FORMAT', `the private half of key ${s.key.keyID} is not held here`);
  return seed;
}

/** Reads a private key file written by `saveTufSigner`. */
export function loadTufSigner(path: string): TufSigner {
  let data: { keyval?: { private?: unknown; public?: unknown } };
  try {
    data = JSON.parse(readFileSync(path, 'utf8')) as typeof data;
  } catch (e) {
    throw new UpdateError('E_IO', `cannot read the key ${path}: ${(e as Error).message}`, { cause: e });
  }
  const seed = data.keyval?.private;
  if (typeof seed !== 'string' || !/^[0-9a-f]{64}$/.test(seed)) {
    throw new UpdateError('E_FORMAT', `${path}: keyval.private is not a 32-byte hex Ed25519 seed`);
  }
  const s = remember(signer(Buffer.from(seed, 'hex')), seed);
  if (s.key.keyVal.public !== data.keyval?.public)
    throw new UpdateError('E_FORMAT', `${path}: the public key does not match the private key`);
  return s;
}

function remember(s: TufSigner, seed: string): TufSigner {
  seeds.set(s, seed);
  return s;
}

/** A new key pair whose file can be saved. */
export function newTufSigner(): TufSigner {
  const { privateKey } = generateKeyPairSync('ed25519');
  const seed = privateKey.export({ format: 'der', type: 'pkcs8' }).subarray(PKCS8_PREFIX.length);
  return remember(signer(seed), seed.toString('hex'));
}
