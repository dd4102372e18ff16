import assert from 'node:assert/strict';
import { test } from 'node:test';
import { formatG, hex } from './cformat.js';

test('%g renders as glibc printf does (values checked against C and Python), and hex as %0Nx', () => {
  const cases: [number, string][] = [
    [0, '0'],
    [0.1, '0.1'],
    [1.5, '1.5'],
    [1500, '1500'],
    [1e6, '1e+06'],
    [123456, '123456'],
    [1234567, '1.23457e+06'],
    [0.0001, '0.0001'],
    [0.00001, '1e-05'],
    [1234565, '1.23456e+06'], // an exact tie goes to the even digit
    [1234575, '1.23458e+06'],
    [999999.5, '1e+06'],
    [12345.65, '12345.6'], // not a tie: the double is just below
    [-0, '-0'],
    [0.000123456789, '0.000123457'],
    [-2.5e-300, '-2.5e-300'],
    [5e-324, '4.94066e-324'],
    [Number.NaN, 'nan'],
    [1e300 * 1e10, 'inf'],
    [Number.NEGATIVE_INFINITY, '-inf'],
  ];
  for (const [v, want] of cases) assert.equal(formatG(v), want, String(v));
  assert.equal(hex(0x1f, 8), '0x0000001f');
  assert.equal(hex(0xfedcba9876543210n, 16), '0xfedcba9876543210');
});
