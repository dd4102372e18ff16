// `vigil policy` as a process, on the 2024 case: check, decide (exit 0 allowed, 1 denied) and a
// dry run of the rule against a list of licences.
import assert from 'node:assert/strict';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { repoRoot, run, vigilBin } from './peer.js';

const us2024 = join(repoRoot, 'packages', 'licensing', 'src', 'testdata', 'us-2024.json');
const dir = mkdtempSync(join(tmpdir(), 'vigil-policy-'));
after(() => rmSync(dir, { recursive: true, force: true }));

test('vigil policy: check, decide and dry-run on the 2024 case', () => {
  assert.match(run(vigilBin, ['policy', 'check', us2024]).stdout, /1 jurisdiction\(s\), 6 rule\(s\): OK/);
  const decide = (action: string, country: string, at: string) =>
    run(vigilBin, ['policy', 'decide', us2024, '--action', action, '--country', country, '--at', at]);
  const buy = decide('new-sale', 'US', '2024-07-01');
  assert.equal(buy.status, 0);
  assert.equal(JSON.parse(buy.stdout).notices[0].daysLeft, 19);
  const update = decide('signature-update', 'US', '2024-10-01');
  assert.equal(update.status, 1);
  assert.equal(JSON.parse(update.stdout).existingInstallations, 'keep-working');
  assert.equal(decide('signature-update', 'DE', '2024-10-01').status, 0);

  const empty = join(dir, 'none.json');
  writeFileSync(empty, JSON.stringify({ version: 1, publishedAt: '2024-01-01T00:00:00Z', jurisdictions: [] }));
  const licences = join(dir, 'licences.json');
  writeFileSync(
    licences,
    JSON.stringify([
      { id: 'L-US', customer: 'c1', billingCountry: 'US', expires: '2025-06-30', activations: 2 },
      { id: 'L-DE', customer: 'c2', billingCountry: 'DE', expires: '2025-06-30', activations: 1 },
    ]),
  );
  const dry = run(vigilBin, [
    'policy',
    'dry-run',
    empty,
    us2024,
    '--licences',
    licences,
    '--from',
    '2024-07-01',
    '--to',
    '2024-12-31',
  ]);
  assert.equal(dry.status, 0, dry.stderr);
  assert.match(dry.stdout, /L-US/);
  assert.doesNotMatch(dry.stdout, /L-DE/);

  const bad = run(vigilBin, [
    'policy',
    'check',
    join(repoRoot, 'packages', 'licensing', 'src', 'testdata', 'bad', 'effective-month-13.json'),
  ]);
  assert.equal(bad.status, 2);
  assert.match(bad.stderr, /rules\[2\]\.effective: "2024-13-01" is not a date/);
});
