// Offline licence files: issued and verified with a key pair, refused when tampered with, signed by
// an unknown key, expired (saying when) or malformed (naming the field).
import assert from 'node:assert/strict';
import { generateKeyPairSync, sign } from 'node:crypto';
import { test } from 'node:test';
import { isLicenceError, type LicenceErrorCode } from './errors.js';
import {
  canonicalJson,
  generateLicenceKeys,
  issueLicenceFile,
  type Licence,
  licenceKeyId,
  privateKeyFrom,
  verifyLicenceFile,
} from './licence-file.js';

const keys = generateLicenceKeys();
const LICENCE: Licence = {
  id: 'L-1',
  product: 'vigil',
  plan: 'pro',
  customer: 'C-1',
  billingCountry: 'DE',
  seats: 3,
  issuedAt: '2024-01-01T00:00:00.000Z',
  expiresAt: '2025-01-01T00:00:00.000Z',
};
const NOW = new Date('2024-06-01T00:00:00Z');

function refused(fn: () => unknown, code: LicenceErrorCode, message: RegExp, field?: string): void {
  assert.throws(fn, (e: unknown) => {
    assert.ok(isLicenceError(e, code), `expected ${code}, got ${String(e)}`);
    assert.match(e.message, message);
    if (field !== undefined) assert.equal(e.details.field, field);
    return true;
  });
}

/** A file whose licence is signed as given, without the issuer's checks. */
function signedAsIs(licence: Record<string, unknown>): string {
  const signature = sign(null, Buffer.from(canonicalJson(licence)), keys.privateKey).toString('base64');
  return JSON.stringify({ licence, signature, keyId: keys.keyId });
}

test('an issued licence file verifies with its public key, as object or PEM', () => {
  const text = issueLicenceFile(LICENCE, keys.privatePem);
  const file = JSON.parse(text);
  assert.deepEqual(Object.keys(file), ['licence', 'signature', 'keyId']);
  assert.match(file.keyId, /^[0-9a-f]{16}$/);
  assert.equal(file.keyId, licenceKeyId(keys.publicPem));
  assert.deepEqual(verifyLicenceFile(text, [keys.publicKey], NOW), LICENCE);
  assert.deepEqual(verifyLicenceFile(text, [generateLicenceKeys().publicPem, keys.publicPem], NOW), LICENCE);
  // The layout of the file does not matter: the signature covers the canonical licence.
  assert.deepEqual(verifyLicenceFile(JSON.stringify(file), [keys.publicKey], NOW), LICENCE);
});

test('canonical JSON sorts keys at every level and has no whitespace', () => {
  assert.equal(canonicalJson({ b: 1, a: [1, { d: 2, c: 'x y' }] }), '{"a":[1,{"c":"x y","d":2}],"b":1}');
  assert.throws(() => canonicalJson({ a: Number.NaN }), /no JSON form/);
});

test('a tampered licence is refused: the signature does not verify', () => {
  const file = JSON.parse(issueLicenceFile(LICENCE, keys.privateKey));
  file.licence.seats = 300;
  refused(
    () => verifyLicenceFile(JSON.stringify(file), [keys.publicKey], NOW),
    'E_SIGNATURE',
    /signature does not verify/,
  );
  const other = JSON.parse(issueLicenceFile({ ...LICENCE, id: 'L-2' }, keys.privateKey));
  file.licence.seats = 3;
  file.signature = other.signature;
  refused(() => verifyLicenceFile(JSON.stringify(file), [keys.publicKey], NOW), 'E_SIGNATURE', /changed after/);
});

test('a licence signed by a key that is not trusted is refused, naming the key', () => {
  const stranger = generateLicenceKeys();
  const text = issueLicenceFile(LICENCE, stranger.privateKey);
  refused(
    () => verifyLicenceFile(text, [keys.publicKey], NOW),
    'E_UNKNOWN_KEY',
    new RegExp(`signed by key ${stranger.keyId}, which is not a trusted key \\(trusted: ${keys.keyId}\\)`),
  );
  refused(() => verifyLicenceFile(text, [], NOW), 'E_UNKNOWN_KEY', /trusted: none/);
});

test('an expired licence is refused with its expiry; the instant before is fine', () => {
  const text = issueLicenceFile(LICENCE, keys.privateKey);
  refused(
    () => verifyLicenceFile(text, [keys.publicKey], new Date('2025-01-01T00:00:00Z')),
    'E_EXPIRED',
    /licence L-1 expired on 2025-01-01T00:00:00.000Z/,
  );
  assert.equal(verifyLicenceFile(text, [keys.publicKey], new Date('2024-12-31T23:59:59.999Z')).id, 'L-1');
});

test('malformed licence files are refused, naming the field', () => {
  const good = JSON.parse(issueLicenceFile(LICENCE, keys.privateKey));
  const verifyText = (text: string) => () => verifyLicenceFile(text, [keys.publicKey], NOW);
  const verifyObject = (o: unknown) => verifyText(JSON.stringify(o));
  refused(verifyText('{"licence": '), 'E_INPUT', /^licence file: not JSON/);
  refused(verifyText('[]'), 'E_INPUT', /licence file must be a JSON object/);
  refused(verifyText(' '.repeat(70_000)), 'E_INPUT', /65536/);
  refused(verifyObject({ ...good, signature: undefined }), 'E_INPUT', /^signature: missing field/, 'signature');
  refused(verifyObject({ ...good, signature: 'AAAA' }), 'E_INPUT', /64-byte signature/, 'signature');
  refused(verifyObject({ ...good, keyId: 'ABC' }), 'E_INPUT', /16 lower-case hex/, 'keyId');
  refused(verifyObject({ ...good, extra: 1 }), 'E_INPUT', /^extra: unknown field/, 'extra');
  refused(verifyObject({ ...good, licence: [] }), 'E_INPUT', /licence must be a JSON object/);
  const nested = { ...good, licence: { ...good.licence, seats: { n: 3 } } };
  refused(verifyObject(nested), 'E_INPUT', /^licence.seats: expected a string or a number/, 'licence.seats');
  // Signed as is, so that the signature holds and the fields are what is wrong.
  const { seats: _, ...noSeats } = LICENCE;
  refused(verifyText(signedAsIs(noSeats)), 'E_INPUT', /^licence.seats: missing field/, 'licence.seats');
  const cases: [Record<string, unknown>, string, RegExp][] = [
    [{ seats: '3' }, 'licence.seats', /"3" is not a whole number from 1 to/],
    [{ billingCountry: 'de' }, 'licence.billingCountry', /"de" is not an ISO 3166-1/],
    [{ expiresAt: '2025-13-01' }, 'licence.expiresAt', /not an ISO 8601 instant/],
    [{ expiresAt: '2023-01-01T00:00:00Z' }, 'licence.expiresAt', /is not after issuedAt/],
    [{ id: 'L 1' }, 'licence.id', /is not an id/],
    [{ note: 'x' }, 'licence.note', /unknown field/],
  ];
  for (const [change, field, message] of cases) {
    refused(verifyText(signedAsIs({ ...LICENCE, ...change })), 'E_INPUT', message, field);
  }
});

test('keys: only Ed25519, and the issuer checks the licence it signs', () => {
  const rsa = generateKeyPairSync('rsa', { modulusLength: 1024 });
  refused(() => privateKeyFrom(rsa.privateKey), 'E_INPUT', /rsa, expected an Ed25519 key/);
  refused(() => privateKeyFrom('not a key'), 'E_INPUT', /not a private key in PEM form/);
  refused(() => privateKeyFrom(keys.publicKey), 'E_INPUT', /expected a private key/);
  refused(() => issueLicenceFile({ ...LICENCE, seats: 0 }, keys.privateKey), 'E_INPUT', /seats/, 'licence.seats');
  assert.equal(licenceKeyId(keys.privatePem), keys.keyId);
});
