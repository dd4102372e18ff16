#!/usr/bin/env node
// Builds the daemon's native descriptor reader (packages/daemon/native/fdpass.c) with the machine's
// C compiler against the running Node's own headers (node_api.h, uv.h). It is what lets
// `vigil daemon` serve clamd's FILDES; everything else works without it.
//
// `--required` (the tests): a missing compiler or missing headers is an error. Without it
// (`npm run build`): a notice, and the daemon answers FILDES as a clamd built without it.
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, renameSync, rmSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

const root = join(dirname(fileURLToPath(import.meta.url)), '..');
const source = join(root, 'packages/daemon/native/fdpass.c');
const out = join(root, 'packages/daemon/build/fdpass.node');
const required = process.argv.includes('--required');

/** Node's headers: beside the binary (official builds, nvm, Debian/NodeSource packages) or at its configured prefix. */
const includes = [
  join(dirname(process.execPath), '..', 'include', 'node'),
  join(process.config.variables.node_prefix ?? '/usr', 'include', 'node'),
].filter((d) => existsSync(join(d, 'node_api.h')) && existsSync(join(d, 'uv.h')));
const compiler = process.env.CC ?? 'cc';

function giveUp(why) {
  const text = `native: ${why}; \`vigil daemon\` will answer FILDES with "FILDES support not compiled in".`;
  if (required) {
    console.error(`${text}\nThe tests need it: install a C compiler (Debian: gcc libc6-dev) and Node's headers.`);
    process.exit(1);
  }
  console.error(text);
  process.exit(0);
}

if (process.platform !== 'linux') giveUp(`descriptor passing is built for Linux only, not ${process.platform}`);
if (includes.length === 0) giveUp("Node's headers (node_api.h, uv.h) were not found beside node");
const probe = spawnSync(compiler, ['--version'], { encoding: 'utf8' });
if (probe.error || probe.status !== 0) giveUp(`no C compiler (${compiler})`);

mkdirSync(dirname(out), { recursive: true });
// Written beside and renamed, so a failed build never leaves half a module to load.
const partial = `${out}.${process.pid}.tmp`;
const r = spawnSync(
  compiler,
  ['-shared', '-fPIC', '-O2', '-std=c11', '-Wall', '-Wextra', '-Werror', `-I${includes[0]}`, '-o', partial, source],
  { encoding: 'utf8' },
);
if (r.status !== 0) {
  rmSync(partial, { force: true });
  console.error(r.stderr);
  giveUp(`${compiler} failed on ${source}`);
}
renameSync(partial, out);
