import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, afterEach, test } from 'node:test';
import { gzipSync } from 'node:zlib';
import { createScanner, resolveScanOptions } from '@vigil/engine';
import { loadDatabase } from './database.js';
import { nodeEnv } from './env.js';
import { type FileOutcome, scanBytes, scanFile } from './scanfile.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-node-scanfile-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const signatures = join(dir, 'tail.ndb');
writeFileSync(signatures, `Test.Tail:0:EOF-8:${Buffer.from('TAILMARK').toString('hex')}\n`);
const scanner = createScanner(loadDatabase([signatures], { detectPua: false }).database, nodeEnv);
const options = resolveScanOptions();
const names = (o: FileOutcome) => (o.status === 'scanned' ? o.result.detections.map((d) => d.name) : [o.message]);

/** `size` bytes of text ending in the signature's mark. */
function marked(size: number): Buffer {
  const b = Buffer.alloc(size, 'a');
  b.write('TAILMARK', size - 8);
  return b;
}

/** Counts calls of a stand-in for the `gc` that --expose-gc defines. */
const g = globalThis as { gc?: () => void };
let collections = 0;
g.gc = () => collections++;
afterEach(() => {
  collections = 0;
});
after(() => {
  delete g.gc;
});

test('a scan of a megabyte or more has its garbage collected at once, a small one does not', () => {
  assert.deepEqual(names(scanBytes(scanner, marked(1000), options)), ['Test.Tail.UNOFFICIAL']);
  assert.equal(collections, 0);
  assert.deepEqual(names(scanBytes(scanner, marked(2 << 20), options)), ['Test.Tail.UNOFFICIAL']);
  assert.equal(collections, 1);
});

test('what is extracted counts: a small gzip that holds megabytes is collected after', () => {
  const small = join(dir, 'big.txt.gz');
  writeFileSync(small, gzipSync(marked(3 << 20)));
  const outcome = scanFile(scanner, small, options);
  assert.ok(outcome.status === 'scanned' && outcome.result.bytesScanned > 3 << 20);
  assert.deepEqual(names(outcome), ['Test.Tail.UNOFFICIAL']);
  assert.equal(collections, 1);
});

test('files above and below the reused buffer are read whole, in any order', () => {
  const sizes = [100, 3 << 20, 5000, (1 << 20) + 1, 1 << 20, 20];
  for (const [i, size] of sizes.entries()) {
    const file = join(dir, `f${i}.txt`);
    writeFileSync(file, marked(size));
    const outcome = scanFile(scanner, file, options);
    assert.equal(outcome.status === 'scanned' ? outcome.size : -1, size);
    assert.deepEqual(names(outcome), ['Test.Tail.UNOFFICIAL'], `${size} bytes`);
  }
  assert.equal(collections, 3);
});
