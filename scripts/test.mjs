#!/usr/bin/env node
// Runs every compiled test file (packages/*/dist/**/*.test.js) with Node's own test runner.
// Build first (`tsc -b`); `npm test` does both. Extra arguments go to `node --test`.
import { spawnSync } from 'node:child_process';
import { readdirSync } from 'node:fs';
import { join } from 'node:path';

function walk(dir, out) {
  for (const e of readdirSync(dir, { withFileTypes: true })) {
    const p = join(dir, e.name);
    if (e.isDirectory()) walk(p, out);
    else if (e.name.endsWith('.test.js')) out.push(p);
  }
  return out;
}
const files = [];
for (const pkg of readdirSync('packages')) {
  try {
    walk(join('packages', pkg, 'dist'), files);
  } catch {
    // a package without a build has no tests to run
  }
}
files.sort();
const r = spawnSync(process.execPath, ['--test', ...process.argv.slice(2), ...files], { stdio: 'inherit' });
process.exit(r.status ?? 1);
