import assert from 'node:assert/strict';
import { test } from 'node:test';
import fc from 'fast-check';
import { runHandler } from '../../test-support/extract.js';
import { latin1 } from '../read.js';
import { decodeBase64, decodePercent } from '../textcodecs.js';
import { htmlHandler } from './index.js';

/** The members as one global match over the whole page as a string finds them (the handler reads windows). */
function wholePage(data: Uint8Array): string[] {
  const re = /data:([\w.+-]+\/[\w.+-]+)?((?:;[\w.+-]+=[^;,"'\s>]*)*)(;base64)?,([^"'\s<>)]*)/gi;
  const out: string[] = [];
  for (const m of latin1(data).matchAll(re)) {
    const payload = m[4] ?? '';
    if (payload === '') continue;
    out.push(Buffer.from(m[3] !== undefined ? decodeBase64(payload) : decodePercent(payload)).toString('hex'));
  }
  return out;
}

const pieces = [
  'data:',
  'DaTa:',
  'text/plain',
  ';base64',
  ';charset=x',
  ';a=b)c',
  ',',
  'QUJD',
  '%41%42',
  'xyz',
  '"',
  "'",
  ' ',
  '\t',
  '\u00a0',
  '>',
  '<',
  ')',
  '=',
  ';',
  'a',
];

test('HTML data: URIs found in windows are those one match over the whole page finds (property)', () => {
  fc.assert(
    fc.property(fc.array(fc.constantFrom(...pieces), { maxLength: 40 }), (parts) => {
      const data = Uint8Array.from(parts.join(''), (c) => c.charCodeAt(0) & 0xff);
      const got = runHandler(htmlHandler, data).members.map((m) => Buffer.from(m.data).toString('hex'));
      assert.deepEqual(got, wholePage(data));
    }),
    { numRuns: 3000 },
  );
});
