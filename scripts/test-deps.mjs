#!/usr/bin/env node
// Makes sure the peers the differential tests compare against are installed: Debian's clamav
// (clamscan, sigtool, clamd, clamdscan) and clamav-testfiles, pyclamd, and the tools that build the
// container tests' archives and the daemon tests' certificates, and PostgreSQL for the licence store.
// As root it installs them with apt-get; otherwise it says what to install and fails, so a missing
// peer is never a silently skipped test.
import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';

const needed = [
  ['clamav', '/usr/bin/clamscan'],
  ['clamav-testfiles', '/usr/share/clamav-testfiles/clam.exe'],
  ['zip', '/usr/bin/zip'],
  ['bzip2', '/usr/bin/bzip2'],
  ['cpio', '/usr/bin/cpio'],
  ['python3', '/usr/bin/python3'],
  ['p7zip-full', '/usr/bin/7z'],
  ['xz-utils', '/usr/bin/xz'],
  ['zstd', '/usr/bin/zstd'],
  ['arj', '/usr/bin/arj'],
  ['genisoimage', '/usr/bin/genisoimage'],
  ['clamav-daemon', '/usr/sbin/clamd'],
  ['clamdscan', '/usr/bin/clamdscan'],
  ['python3-pyclamd', '/usr/lib/python3/dist-packages/pyclamd'],
  ['openssl', '/usr/bin/openssl'],
  // The licensing tests start a private PostgreSQL server from these binaries.
  ['postgresql', '/usr/lib/postgresql'],
  // The daemon's descriptor reader (FILDES) is C, built against Node's headers (scripts/native.mjs).
  ['gcc', '/usr/bin/gcc'],
  ['libc6-dev', '/usr/include/stdio.h'],
];
const missing = needed.filter(([, path]) => !existsSync(path)).map(([pkg]) => pkg);
if (missing.length === 0) process.exit(0);
const run = (cmd, args) =>
  spawnSync(cmd, args, { stdio: 'inherit', env: { ...process.env, DEBIAN_FRONTEND: 'noninteractive' } });
if (process.getuid?.() === 0) {
  console.error(`test-deps: installing ${missing.join(' ')} (the peers of the differential tests)`);
  const ok =
    run('apt-get', ['update', '-qq']).status === 0 &&
    run('apt-get', ['install', '-y', '-qq', '--no-install-recommends', ...missing]).status === 0;
  if (ok) process.exit(0);
}
console.error(
  `test-deps: the tests need Debian packages: ${missing.join(' ')}\n  run: sudo apt-get install ${missing.join(' ')}`,
);
process.exit(1);
