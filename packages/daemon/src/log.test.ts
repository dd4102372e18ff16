import assert from 'node:assert/strict';
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, test } from 'node:test';
import { Logger } from './log.js';

const dir = mkdtempSync(join(tmpdir(), 'vigil-log-'));
after(() => rmSync(dir, { recursive: true, force: true }));

const quiet = { logFileMaxSize: 0, logRotate: false, logTime: false, logVerbose: false, logSyslog: false };

/**
 * A stand-in for the system log: a Unix datagram socket that prints each message it receives as a
 * JSON line (Node cannot open datagram Unix sockets; Python can), and util-linux's real logger
 * pointed at it by a `logger` earlier on PATH that adds `--socket`.
 */
async function syslogServer(): Promise<{ messages: () => string[]; stop: () => void }> {
  const socket = join(dir, 'log.sock');
  writeFileSync(join(dir, 'logger'), `#!/bin/sh\nexec /usr/bin/logger --socket ${socket} "$@"\n`);
  chmodSync(join(dir, 'logger'), 0o755);
  const path = process.env.PATH;
  process.env.PATH = `${dir}:${path}`;
  const script = `
import json, socket, sys
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
s.bind(sys.argv[1])
print('ready', flush=True)
while True:
    print(json.dumps(s.recv(65536).decode('utf-8', 'replace')), flush=True)
`;
  const child: ChildProcess = spawn('/usr/bin/python3', ['-c', script, socket], {
    stdio: ['ignore', 'pipe', 'inherit'],
  });
  let out = '';
  await new Promise<void>((resolve, reject) => {
    child.stdout?.on('data', (d: Buffer) => {
      out += d.toString();
      if (out.startsWith('ready\n')) resolve();
    });
    child.on('exit', (code) => reject(new Error(`the syslog stand-in exited with ${code}`)));
  });
  return {
    messages: () =>
      out
        .split('\n')
        .slice(1)
        .filter((l) => l !== '')
        .map((l) => JSON.parse(l) as string),
    stop: () => {
      child.kill();
      process.env.PATH = path;
    },
  };
}

test("LogSyslog: each line reaches syslog through logger, with LogFacility's priority and the daemon's tag", async () => {
  const server = await syslogServer();
  try {
    const log = new Logger({ ...quiet, logSyslog: true, logFacility: 'LOG_MAIL' }, false);
    log.info('/srv/a: Eicar-Test FOUND');
    log.verbose('not without LogVerbose');
    log.warning('a warning');
    log.error('an error');
    log.close();
    const deadline = Date.now() + 10_000;
    while (server.messages().length < 3 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 50));
    const got = server.messages();
    // RFC 3164 as logger writes it: <facility * 8 + severity>, a time stamp, tag[pid]: text.
    const tail = `vigil\\[${process.pid}\\]: `;
    assert.equal(got.length, 3, JSON.stringify(got));
    assert.match(
      got[0] ?? '',
      new RegExp(`^<22>\\w{3} [ \\d]\\d \\d\\d:\\d\\d:\\d\\d ${tail}/srv/a: Eicar-Test FOUND$`),
    );
    assert.match(got[1] ?? '', new RegExp(`^<20>.* ${tail}WARNING: a warning$`));
    assert.match(got[2] ?? '', new RegExp(`^<19>.* ${tail}ERROR: an error$`));
  } finally {
    server.stop();
  }
});

test('LogFile: LogTime prefixes, LogFileMaxSize stops the log with a last line, LogRotate renames it instead', () => {
  const file = join(dir, 'clamd.log');
  const log = new Logger({ ...quiet, logFile: file, logFileMaxSize: 100, logFacility: 'LOG_LOCAL6' }, false);
  log.info('x'.repeat(60));
  log.info('y'.repeat(60));
  log.info('z');
  assert.equal(readFileSync(file, 'utf8'), `${'x'.repeat(60)}\nLOGGING DISABLED (Maximal log file size exceeded).\n`);
  rmSync(file);
  const rotating = new Logger(
    { ...quiet, logFile: file, logFileMaxSize: 100, logRotate: true, logFacility: 'LOG_LOCAL6' },
    false,
  );
  rotating.info('x'.repeat(60));
  rotating.info('y'.repeat(60));
  const old = readdirSync(dir).filter((f) => f.startsWith('clamd.log.'));
  assert.equal(old.length, 1);
  assert.equal(readFileSync(join(dir, old[0] as string), 'utf8'), `${'x'.repeat(60)}\n`);
  assert.equal(readFileSync(file, 'utf8'), `${'y'.repeat(60)}\n`);
  rmSync(file);
  const timed = new Logger({ ...quiet, logFile: file, logTime: true, logFacility: 'LOG_LOCAL6' }, false);
  timed.warning('w');
  assert.match(readFileSync(file, 'utf8'), /^\w{3} \w{3} [ \d]\d \d\d:\d\d:\d\d \d{4} -> WARNING: w\n$/);
});
