// Running `vigil daemon` and the real clamd side by side for black-box tests: each gets its own
// directory, socket and log, the same database and settings, and is stopped after the test.
import { type ChildProcess, spawn } from 'node:child_process';
import { chmodSync, existsSync, mkdtempSync, readdirSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { connect, type Socket } from 'node:net';
import { tmpdir } from 'node:os';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';

export const repoRoot = resolve(dirname(fileURLToPath(import.meta.url)), '../../../..');
export const vigilBin = join(repoRoot, 'bin', 'vigil');
export const CLAM_EXE_SHA256 = '71e7b604d18aefd839e51a39c88df8383bb4c071dc31f87f00a2b5df580d4495';

export interface RunningDaemon {
  readonly kind: 'clamd' | 'vigil';
  readonly dir: string;
  readonly socket: string;
  readonly conf: string;
  readonly child: ChildProcess;
  /** Everything the process printed so far. */
  output(): string;
  stop(): Promise<void>;
}

/** Waits until `check` is true, polling; throws with `what` after `ms`. */
export async function until(check: () => boolean | Promise<boolean>, ms: number, what: string): Promise<void> {
  const end = Date.now() + ms;
  while (!(await check())) {
    if (Date.now() > end) throw new Error(`timed out waiting for ${what}`);
    await new Promise((r) => setTimeout(r, 25));
  }
}

/**
 * Starts a daemon with `settings` (clamd.conf lines; LocalSocket, Foreground and PidFile are added)
 * and waits until it answers PING.
 */
export async function startDaemon(
  kind: 'clamd' | 'vigil',
  settings: readonly string[],
  env: Record<string, string> = {},
): Promise<RunningDaemon> {
  const dir = mkdtempSync(join(tmpdir(), `${kind}-test-`));
  // A daemon that gives up root (User) must still be able to create its socket there.
  if (settings.some((s) => s.startsWith('User '))) chmodSync(dir, 0o1777);
  // A LocalSocket among the settings replaces the daemon's own.
  const socket = settings.find((s) => s.startsWith('LocalSocket '))?.slice(12) ?? join(dir, 'sock');
  const conf = join(dir, 'clamd.conf');
  writeFileSync(
    conf,
    [`LocalSocket ${socket}`, 'Foreground yes', `PidFile ${join(dir, 'pid')}`, ...settings, ''].join('\n'),
  );
  const [cmd, args] = kind === 'clamd' ? ['clamd', ['-c', conf]] : [vigilBin, ['daemon', '-c', conf]];
  const child = spawn(cmd, args, {
    stdio: ['ignore', 'pipe', 'pipe'],
    env: { ...process.env, VIGIL_CACHE_DIR: join(dir, 'cache'), ...env },
  });
  let out = '';
  child.stdout?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  child.stderr?.on('data', (d: Buffer) => {
    out += d.toString();
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  const d: RunningDaemon = {
    kind,
    dir,
    socket,
    conf,
    child,
    output: () => out,
    stop: async () => {
      if (!exited) {
        child.kill('SIGTERM');
        await until(() => exited, 10_000, `${kind} to stop`).catch(() => child.kill('SIGKILL'));
      }
      rmSync(dir, { recursive: true, force: true });
    },
  };
  try {
    await until(
      async () => {
        if (exited) throw new Error(`${kind} exited at start:\n${out}`);
        return existsSync(socket) && (await request(socket, 'zPING\0', 2000).catch(() => '')) === 'PONG\0';
      },
      60_000,
      `${kind} to answer PING`,
    );
  } catch (e) {
    await d.stop();
    throw e;
  }
  return d;
}

/** Sends `data` (a string is sent as Latin-1), reads until the daemon closes; resolves with the reply. */
export function request(path: string, data: string | Uint8Array, timeoutMs = 10_000): Promise<string> {
  return new Promise((resolve, reject) => {
    const s = connect(path);
    const parts: Buffer[] = [];
    const timer = setTimeout(() => {
      s.destroy();
      reject(
        new Error(
          `no end of reply within ${timeoutMs} ms (got ${JSON.stringify(Buffer.concat(parts).toString('latin1'))})`,
        ),
      );
    }, timeoutMs);
    s.on('connect', () => s.write(typeof data === 'string' ? Buffer.from(data, 'latin1') : data));
    s.on('data', (d: Buffer) => parts.push(d));
    s.on('error', (e) => {
      clearTimeout(timer);
      // A daemon that closes while we still write (a refused stream) is a reply, not a failure.
      if ((e as NodeJS.ErrnoException).code === 'EPIPE' || (e as NodeJS.ErrnoException).code === 'ECONNRESET')
        resolve(Buffer.concat(parts).toString('latin1'));
      else reject(e);
    });
    s.on('close', () => {
      clearTimeout(timer);
      resolve(Buffer.concat(parts).toString('latin1'));
    });
  });
}

/**
 * An open connection, for tests that pace what they send. A Unix socket whose listen backlog is
 * full refuses at once (EAGAIN) instead of queueing: like a real client, try again shortly.
 */
export async function open(path: string): Promise<Socket> {
  for (let attempt = 0; ; attempt++) {
    try {
      return await new Promise<Socket>((resolve, reject) => {
        const s = connect(path);
        s.once('connect', () => resolve(s));
        s.once('error', reject);
      });
    } catch (e) {
      if ((e as NodeJS.ErrnoException).code !== 'EAGAIN' || attempt >= 100) throw e;
      await new Promise((r) => setTimeout(r, 20));
    }
  }
}

/** INSTREAM framing: the command, chunks of at most `chunk` bytes, the zero length. */
export function instream(data: Uint8Array, prefix: 'z' | 'n' = 'z', chunk = 65536): Buffer {
  const parts: Buffer[] = [Buffer.from(prefix === 'z' ? 'zINSTREAM\0' : 'nINSTREAM\n')];
  for (let i = 0; i < data.length; i += chunk) {
    const piece = data.subarray(i, i + chunk);
    const len = Buffer.alloc(4);
    len.writeUInt32BE(piece.length);
    parts.push(len, Buffer.from(piece));
  }
  parts.push(Buffer.alloc(4));
  return Buffer.concat(parts);
}

/** Open file descriptors of a process. */
export function openFds(pid: number): number {
  return readdirSync(`/proc/${pid}/fd`).length;
}

/** Resident memory of a process, in bytes. */
export function rss(pid: number): number {
  const m = /VmRSS:\s+(\d+) kB/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'));
  return Number(m?.[1] ?? 0) * 1024;
}
