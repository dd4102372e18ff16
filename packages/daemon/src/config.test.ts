import assert from 'node:assert/strict';
import { readFileSync } from 'node:fs';
import { test } from 'node:test';
import { parseConfig } from './config.js';

test("Debian's stock clamd.conf loads, with clamd's values and defaults", () => {
  const c = parseConfig(readFileSync('/etc/clamav/clamd.conf', 'utf8'), '/etc/clamav/clamd.conf');
  assert.equal(c.localSocket, '/var/run/clamav/clamd.ctl');
  assert.equal(c.maxThreads, 12);
  assert.equal(c.readTimeout, 180_000);
  assert.equal(c.streamMaxLength, 25 * 1024 * 1024);
  assert.equal(c.scan.maxFileSize, 25 * 1024 * 1024);
  assert.equal(c.scan.maxRecursion, 16);
  assert.equal(c.localSocketMode, 0o666);
  assert.equal(c.user, 'clamav');
  // Set there, and not acted on by Vigil: listed so the daemon can say so.
  assert.ok(c.ignored.some((i) => i.option === 'ScanSWF'));
});

test('defaults are clamd 1.4 defaults', () => {
  const c = parseConfig('LocalSocket /tmp/s\n', 'x.conf');
  assert.equal(c.maxThreads, 10);
  assert.equal(c.maxQueue, 100);
  assert.equal(c.streamMaxLength, 100 * 1024 * 1024);
  assert.equal(c.commandReadTimeout, 30_000);
  assert.equal(c.idleTimeout, 30_000);
  assert.equal(c.selfCheck, 600);
  assert.equal(c.backlog, 200);
  assert.equal(c.scan.maxScanSize, 400 * 1024 * 1024);
  assert.equal(c.concurrentDatabaseReload, true);
  assert.equal(c.foreground, false);
});

test('values: booleans, sizes with units, repeated options, quotes, comments', () => {
  const c = parseConfig(
    [
      '# a comment',
      'TCPSocket 3310',
      'TCPAddr 127.0.0.1',
      'TCPAddr ::1',
      'StreamMaxLength 2M',
      'MaxScanSize 1g',
      'LogTime true',
      'LogClean 1',
      'Foreground yes',
      'ExcludePath ^/proc/',
      'ExcludePath ^/sys/',
      'VirusEvent "/usr/bin/notify %v"',
      'MaxThreads 3',
      'MaxThreads 4',
    ].join('\n'),
    'x.conf',
  );
  assert.deepEqual(c.tcpAddresses, ['127.0.0.1', '::1']);
  assert.equal(c.streamMaxLength, 2 * 1024 * 1024);
  assert.equal(c.scan.maxScanSize, 1024 ** 3);
  assert.equal(c.logTime && c.logClean && c.foreground, true);
  assert.equal(c.excludePaths.length, 2);
  assert.equal(c.virusEvent, '/usr/bin/notify %v');
  assert.equal(c.maxThreads, 4, 'the last one counts, as in clamd');
});

test('bad settings are errors naming the file and line', () => {
  const bad: [string, RegExp][] = [
    ['LocalSocket /s\nMaxThrads 4', /^x\.conf:2: unknown option MaxThrads$/],
    ['LocalSocket /s\nLogTime maybe', /^x\.conf:2: LogTime: 'maybe' is not a boolean/],
    ['LocalSocket /s\nStreamMaxLength 10X', /^x\.conf:2: StreamMaxLength: '10X' is not a size/],
    ['LocalSocket /s\nMaxThreads many', /^x\.conf:2: MaxThreads: 'many' is not a number/],
    ['LocalSocket /s\nExcludePath (', /^x\.conf:2: ExcludePath: '\(' is not a regular expression/],
    ['Example\nLocalSocket /s', /^x\.conf:1: the Example line is still there/],
    ['LocalSocket', /^x\.conf:1: LocalSocket needs a value/],
    ['LogFile /tmp/l', /^x\.conf: no socket to listen on/],
    ['LocalSocket /s\nMaxThreads 0', /^x\.conf:2: MaxThreads must be at least 1/],
    ['TCPSocket 70000', /^x\.conf:1: TCPSocket: 70000 is not a TCP port/],
    ['LocalSocket /s\nLocalSocketMode 999', /^x\.conf:2: LocalSocketMode: '999' is not an octal mode/],
    ['TLSSocket 3311', /^x\.conf:1: TLSSocket needs TLSCertificateFile and TLSPrivateKeyFile/],
    ['LocalSocket /s\nLogFacility LOG_NOPE', /^x\.conf:2: LogFacility: 'LOG_NOPE' is not a syslog facility/],
  ];
  for (const [text, message] of bad) assert.throws(() => parseConfig(text, 'x.conf'), { message }, text);
});

test('the example clamd.conf in deploy/ loads, and clamd-only options in it are none', () => {
  const file = new URL('../deploy/clamd.conf.example', import.meta.url);
  const c = parseConfig(readFileSync(file, 'utf8'), file.pathname);
  assert.equal(c.localSocket, '/run/clamav/clamd.ctl');
  assert.equal(c.localSocketMode, 0o660);
  assert.equal(c.user, 'clamav');
  assert.deepEqual(c.ignored, []);
});
