// Hostile and unlucky clients: each gets clamd's answer or a closed connection within its timeout,
// the daemon keeps serving the others, and nothing leaks across thousands of such sessions.
import assert from 'node:assert/strict';
import {
  chmodSync,
  copyFileSync,
  mkdirSync,
  mkdtempSync,
  readdirSync,
  readFileSync,
  readlinkSync,
  rmSync,
  writeFileSync,
} from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, before, test } from 'node:test';
import { tar } from '@vigil/engine/test-support/archives';
import {
  CLAM_EXE_SHA256,
  instream,
  open,
  openFds,
  type RunningDaemon,
  request,
  rss,
  startDaemon,
  until,
} from './harness.js';

const exe = new Uint8Array(readFileSync('/usr/share/clamav-testfiles/clam.exe'));
let work = '';
let db = '';
let many = '';
let spool = '';
let vigil: RunningDaemon;

const be32 = (n: number) => {
  const b = Buffer.alloc(4);
  b.writeUInt32BE(n);
  return b;
};
const sleep = (ms: number) => new Promise((r) => setTimeout(r, ms));

before(async () => {
  work = mkdtempSync(join(tmpdir(), 'vigil-daemon-bad-'));
  chmodSync(work, 0o755);
  db = join(work, 'db');
  many = join(work, 'many');
  mkdirSync(db);
  mkdirSync(many);
  spool = join(work, 'spool');
  mkdirSync(spool);
  writeFileSync(join(db, 'test.hsb'), `${CLAM_EXE_SHA256}:544:ClamAV-Test-File\n`);
  // A directory whose MULTISCAN reply is long (every file infected): for clients that leave mid-reply.
  for (let i = 0; i < 400; i++) copyFileSync('/usr/share/clamav-testfiles/clam.exe', join(many, `f${i}.exe`));
  vigil = await startDaemon('vigil', [
    `DatabaseDirectory ${db}`,
    'StreamMaxLength 64K',
    'CommandReadTimeout 2',
    'ReadTimeout 2',
    'IdleTimeout 2',
    'MaxThreads 2',
    'MaxQueue 4',
    'SelfCheck 0',
    // Streams past 16 KiB in memory (all clients together) go to spool files.
    'StreamMemoryLimit 16K',
    `TemporaryDirectory ${spool}`,
  ]);
});

after(async () => {
  await vigil?.stop();
  if (work) rmSync(work, { recursive: true, force: true });
});

/** Sends `bytes` one at a time, `gapMs` apart; resolves with the reply and when it came. */
async function slowly(path: string, bytes: string, gapMs: number): Promise<{ reply: string; ms: number }> {
  const s = await open(path);
  const t0 = Date.now();
  let reply = '';
  s.on('data', (d: Buffer) => {
    reply += d.toString('latin1');
  });
  const closed = new Promise<void>((r) => s.on('close', () => r()));
  s.on('error', () => {});
  for (const ch of bytes) {
    if (s.destroyed) break;
    s.write(ch);
    await sleep(gapMs);
  }
  await closed;
  return { reply, ms: Date.now() - t0 };
}

test('a client sending one byte a second is cut off at CommandReadTimeout, as clamd does; a slow but timely one is served', async () => {
  const clamd = await startDaemon('clamd', [`DatabaseDirectory ${db}`, 'CommandReadTimeout 2', 'SelfCheck 0']);
  try {
    const [c, v] = await Promise.all([slowly(clamd.socket, 'nPING\n', 1000), slowly(vigil.socket, 'nPING\n', 1000)]);
    assert.equal(v.reply, c.reply);
    assert.equal(v.reply, 'COMMAND READ TIMED OUT\n');
    assert.ok(v.ms < 3500, `cut off after ${v.ms} ms`);
    const [c2, v2] = await Promise.all([slowly(clamd.socket, 'nPING\n', 200), slowly(vigil.socket, 'nPING\n', 200)]);
    assert.equal(v2.reply, c2.reply);
    assert.equal(v2.reply, 'PONG\n');
  } finally {
    await clamd.stop();
  }
});

test('a thousand idle connections: the daemon answers others meanwhile and closes each at CommandReadTimeout', async () => {
  const pid = vigil.child.pid as number;
  const fds = openFds(pid);
  const idle = await Promise.all(Array.from({ length: 1000 }, () => open(vigil.socket)));
  const closed = idle.map(
    (s) =>
      new Promise<string>((r) => {
        let got = '';
        s.on('data', (d: Buffer) => {
          got += d.toString();
        });
        s.on('error', () => {});
        s.on('close', () => r(got));
      }),
  );
  const t0 = Date.now();
  assert.equal(await request(vigil.socket, 'zPING\0'), 'PONG\0');
  assert.equal(await request(vigil.socket, instream(exe)), 'stream: ClamAV-Test-File.UNOFFICIAL FOUND\0');
  assert.ok(Date.now() - t0 < 1500, 'served while a thousand clients sat idle');
  const replies = await Promise.all(closed);
  assert.ok(replies.every((r) => r === 'COMMAND READ TIMED OUT\n'));
  await until(() => openFds(pid) <= fds, 5000, 'descriptors to be released');
});

test('clients that leave mid-stream, mid-command or mid-reply cost nothing: the daemon keeps serving', async () => {
  // Mid-stream: half a chunk, then gone.
  const a = await open(vigil.socket);
  a.end(Buffer.concat([Buffer.from('zINSTREAM\0'), be32(1000), Buffer.alloc(10)]));
  // Mid-reply: a long MULTISCAN reply, the client leaves at the first bytes.
  const b = await open(vigil.socket);
  b.write(`zMULTISCAN ${many}\0`);
  await new Promise<void>((r) => b.once('data', () => r()));
  b.destroy();
  // Mid-command.
  const c = await open(vigil.socket);
  c.end('zSCAN /tm');
  assert.equal(await request(vigil.socket, 'zPING\0'), 'PONG\0');
  assert.match(await request(vigil.socket, `nSCAN ${many}/f1.exe\n`), /FOUND\n$/);
});

test('10,000 bad sessions leak no descriptor and no memory', async () => {
  const pid = vigil.child.pid as number;
  const bad: (() => Promise<unknown>)[] = [
    () => request(vigil.socket, 'nFOO\n'),
    () => request(vigil.socket, Buffer.concat([Buffer.from('zINSTREAM\0'), be32(1 << 30)])),
    () => request(vigil.socket, instream(new Uint8Array(70_000))),
    () => request(vigil.socket, `nIDSESSION\nnPING\nnSHUTDOWN\n`),
    () =>
      request(vigil.socket, Buffer.concat([Buffer.from('nIDSESSION\n'), instream(exe, 'n'), Buffer.from('nEND\n')])),
    async () => {
      const s = await open(vigil.socket);
      s.on('error', () => {});
      s.end(Buffer.concat([Buffer.from('zINSTREAM\0'), be32(500), Buffer.alloc(100)]));
    },
    async () => {
      const s = await open(vigil.socket);
      s.on('error', () => {});
      s.write(`zCONTSCAN ${many}\0`);
      await new Promise<void>((r) => s.once('data', () => r()));
      s.destroy();
    },
  ];
  const round = async (n: number) => {
    let next = 0;
    await Promise.all(
      Array.from({ length: 50 }, async () => {
        while (next < n) await (bad[next++ % bad.length] as () => Promise<unknown>)();
      }),
    );
    await request(vigil.socket, 'zPING\0'); // and the daemon still answers
  };
  await round(2000); // warm: workers, buffers and the JIT reach their steady size
  await sleep(500);
  const fds = openFds(pid);
  const mem = rss(pid);
  await round(8000);
  await until(() => openFds(pid) <= fds, 10_000, `descriptors back to ${fds} (now ${openFds(pid)})`);
  const grown = rss(pid) - mem;
  assert.ok(grown < 48 * 1024 * 1024, `resident memory grew ${(grown / 1048576).toFixed(1)} MiB over 8,000 sessions`);
  assert.equal(await request(vigil.socket, 'zPING\0'), 'PONG\0');
});

test('streams past the memory limit are spooled to files that vanish with them; MaxQueue holds the rest back', async () => {
  // A tar of 30 KiB with clam.exe at its end is past StreamMemoryLimit (16K) alone: it always spools,
  // and is found only if the scan read the spooled bytes. Clean streams of the same size go along.
  const big = tar([
    { name: 'filler.bin', data: new Uint8Array(30_000) },
    { name: 'clam.exe', data: exe },
  ]);
  const clean = new Uint8Array(big.length);
  const replies = await Promise.all(
    Array.from({ length: 12 }, (_, i) => request(vigil.socket, instream(i % 2 === 0 ? big : clean, 'z', 1000))),
  );
  assert.deepEqual(
    replies.map((r) => r.replace('ClamAV-Test-File.UNOFFICIAL ', '')),
    Array.from({ length: 12 }, (_, i) => (i % 2 === 0 ? 'stream: FOUND\0' : 'stream: OK\0')),
  );
  assert.deepEqual(readdirSync(spool), [], 'spool files are unlinked as soon as they are made');
  const fds = readdirSync(`/proc/${vigil.child.pid}/fd`).map((fd) => {
    try {
      return readlinkSync(`/proc/${vigil.child.pid}/fd/${fd}`);
    } catch {
      return '';
    }
  });
  assert.deepEqual(
    fds.filter((l) => l.includes('vigil-stream-')),
    [],
    'no spool file is left open',
  );
});

test('SCAN of a path that does not exist or cannot be read: the same answer as clamd (both running as nobody)', async () => {
  const secret = join(work, 'secret');
  mkdirSync(secret, { recursive: true });
  writeFileSync(join(secret, 'locked.exe'), exe);
  chmodSync(join(secret, 'locked.exe'), 0o000);
  mkdirSync(join(secret, 'closed'));
  writeFileSync(join(secret, 'closed', 'x'), 'x');
  chmodSync(join(secret, 'closed'), 0o000);
  const settings = [`DatabaseDirectory ${db}`, 'User nobody', 'SelfCheck 0'];
  const [clamd, v] = await Promise.all([startDaemon('clamd', settings), startDaemon('vigil', settings)]);
  try {
    for (const cmd of [
      `nSCAN ${secret}/locked.exe\n`,
      `nSCAN ${secret}/missing\n`,
      `nSCAN ${secret}/closed/x\n`,
      `nCONTSCAN ${secret}/closed\n`,
    ]) {
      const [c, g] = await Promise.all([request(clamd.socket, cmd), request(v.socket, cmd)]);
      assert.equal(g, c, cmd);
      assert.match(g, /ERROR\n/, cmd);
    }
  } finally {
    await Promise.all([clamd.stop(), v.stop()]);
  }
});
