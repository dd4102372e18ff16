// `vigil daemon`: clamd's job. Loads the database, listens where clamd.conf says (Unix socket, TCP,
// and Vigil's TLS and HTTP endpoints), serves clamd's protocol on each connection, reloads on
// RELOAD, SIGUSR2 and SelfCheck, and shuts down on SHUTDOWN, SIGTERM and SIGINT, removing its
// socket and PID files.
import { createHash } from 'node:crypto';
import { chmodSync, chownSync, readdirSync, readFileSync, rmSync, statSync } from 'node:fs';
import { createConnection, createServer, type Server, type Socket } from 'node:net';
import { createServer as createTlsServer } from 'node:tls';
import { writeFileAtomically } from '@vigil/node';
import { type DaemonConfig, readConfig } from './config.js';
import { Connection, type ConnectionContext } from './connection.js';
import { startHttp } from './http.js';
import { ctime, Logger } from './log.js';
import { Metrics } from './metrics.js';
import { ScanService } from './service.js';
import { StreamSpool } from './spool.js';

/** A user's or group's numeric id from /etc/passwd or /etc/group. */
function lookupId(file: '/etc/passwd' | '/etc/group', name: string, field: number): number | undefined {
  for (const line of readFileSync(file, 'utf8').split('\n')) {
    const f = line.split(':');
    if (f[0] === name) return Number(f[field]);
  }
  return /^\d+$/.test(name) ? Number(name) : undefined;
}

/** A stamp of the database directory's files (names, sizes, times): SelfCheck reloads when it changes. */
function directoryStamp(dir: string): string {
  const h = createHash('sha256');
  try {
    for (const name of readdirSync(dir).sort()) {
      const st = statSync(`${dir}/${name}`, { throwIfNoEntry: false });
      h.update(`${name}\0${st?.size}\0${st?.mtimeMs}\0${st?.ino}\n`);
    }
  } catch (e) {
    h.update(String(e));
  }
  return h.digest('hex');
}

function listen(server: Server, options: { path: string } | { port: number; host?: string }, backlog: number) {
  return new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ ...options, backlog }, () => {
      server.off('error', reject);
      resolve();
    });
  });
}

/** True when something answers on the Unix socket `path`. */
function socketInUse(path: string): Promise<boolean> {
  return new Promise((resolve) => {
    const s = createConnection(path);
    s.once('connect', () => {
      s.destroy();
      resolve(true);
    });
    s.once('error', () => resolve(false));
  });
}

export class Daemon {
  readonly metrics = new Metrics();
  readonly log: Logger;
  readonly service: ScanService;
  private readonly servers: Server[] = [];
  private readonly sockets = new Set<Socket>();
  private selfCheckTimer: NodeJS.Timeout | undefined;
  private stamp = '';
  private stopping: Promise<void> | undefined;
  /** Files this daemon created, removed when it stops (never another daemon's socket). */
  private readonly ownFiles: string[] = [];
  private readonly stopped: Promise<void>;
  private markStopped = () => {};

  constructor(
    readonly config: DaemonConfig,
    private readonly engineVersion: string,
    foreground: boolean,
  ) {
    this.log = new Logger(config, foreground);
    this.service = new ScanService(config, this.log, this.metrics);
    this.stopped = new Promise((r) => {
      this.markStopped = r;
    });
  }

  /** clamd's VERSION reply: `Vigil 0.1.0`, then `/daily version/date` when a daily CVD is loaded. */
  version(): string {
    const db = this.service.database.version;
    return `Vigil ${this.engineVersion}${db === '' ? '' : `/${db}`}`;
  }

  /** clamd's STATS reply, with Vigil's threads and queue. */
  stats(): string {
    const t = this.service.threads;
    const now = performance.now();
    const jobs = [...this.service.running.values()].map(
      (r) => `\t${r.command} ${((now - r.since) / 1000).toFixed(6)} `,
    );
    const mem = process.memoryUsage();
    const mb = (n: number) => `${(n / 1048576).toFixed(3)}M`;
    return [
      'POOLS: 1',
      '',
      'STATE: VALID PRIMARY',
      `THREADS: live ${t.live}  idle ${t.idle} max ${this.config.maxThreads} idle-timeout ${this.config.idleTimeout / 1000}`,
      `QUEUE: ${t.queued} items`,
      ...jobs,
      '',
      `MEMSTATS: heap ${mb(mem.heapUsed)} mmap N/A used ${mb(mem.rss)} free N/A releasable N/A pools 1 pools_used ${mb(this.service.database.shared.byteLength)} pools_total ${mb(this.service.database.shared.byteLength)}`,
      'END',
    ].join('\n');
  }

  async start(): Promise<void> {
    const c = this.config;
    this.log.info(`+++ Started at ${ctime(new Date())}`);
    this.log.info(`Vigil daemon ${this.engineVersion} (clamd protocol; Node.js ${process.version})`);
    for (const i of c.ignored) this.log.verbose(`${i.option} is accepted and ignored: ${i.reason}`);
    this.stamp = directoryStamp(c.databaseDirectory);
    await this.service.start();
    const ctx: ConnectionContext = {
      config: c,
      service: this.service,
      metrics: this.metrics,
      log: this.log,
      spool: new StreamSpool(c.streamMemoryLimit, c.temporaryDirectory),
      controls: {
        version: () => this.version(),
        stats: () => this.stats(),
        reload: () => void this.reload(),
        shutdown: () => void this.stop(),
      },
    };
    const accept = (unix: boolean) => (socket: Socket) => {
      this.sockets.add(socket);
      socket.once('close', () => this.sockets.delete(socket));
      new Connection(socket, ctx, unix);
    };
    try {
      if (c.localSocket !== undefined) await this.listenUnix(c.localSocket, accept(true));
      if (c.tcpPort !== undefined) {
        for (const host of c.tcpAddresses.length > 0 ? c.tcpAddresses : [undefined]) {
          const server = createServer(accept(false));
          this.servers.push(server);
          await listen(server, { port: c.tcpPort, ...(host !== undefined ? { host } : {}) }, c.backlog);
          this.log.info(`TCP: Bound to [${host ?? '0.0.0.0'}]:${c.tcpPort}`);
        }
      }
      if (c.tls !== undefined) {
        const tls = c.tls;
        const options = {
          cert: readFileSync(tls.certificateFile),
          key: readFileSync(tls.privateKeyFile),
          ...(tls.clientCaFile !== undefined
            ? { ca: readFileSync(tls.clientCaFile), requestCert: true, rejectUnauthorized: true }
            : {}),
          handshakeTimeout: c.commandReadTimeout || 30_000,
        };
        for (const host of tls.addresses.length > 0 ? tls.addresses : [undefined]) {
          const server = createTlsServer(options, accept(false));
          server.on('tlsClientError', () => this.metrics.reject('tls-handshake'));
          this.servers.push(server);
          await listen(server, { port: tls.port, ...(host !== undefined ? { host } : {}) }, c.backlog);
          this.log.info(
            `TLS: Bound to [${host ?? '0.0.0.0'}]:${tls.port}${tls.clientCaFile !== undefined ? ' (client certificates required)' : ''}`,
          );
        }
      }
      if (c.httpPort !== undefined) {
        const server = startHttp(ctx, (sock) => {
          this.sockets.add(sock);
          sock.once('close', () => this.sockets.delete(sock));
        });
        this.servers.push(server);
        await listen(server, { port: c.httpPort, host: c.httpAddress }, c.backlog);
        this.log.info(`HTTP: Bound to [${c.httpAddress}]:${c.httpPort} (/metrics, /scan, /healthz)`);
      }
      if (c.pidFile !== undefined) {
        writeFileAtomically(c.pidFile, new TextEncoder().encode(`${process.pid}\n`));
        this.ownFiles.push(c.pidFile);
      }
      if (c.user !== undefined) this.dropPrivileges(c.user);
    } catch (e) {
      await this.stop();
      throw e;
    }
    if (c.selfCheck > 0) {
      this.log.info(`Self checking every ${c.selfCheck} seconds.`);
      this.selfCheckTimer = setInterval(() => this.selfCheck(), c.selfCheck * 1000);
      this.selfCheckTimer.unref();
    }
  }

  private async listenUnix(path: string, onConnection: (s: Socket) => void): Promise<void> {
    const c = this.config;
    if (statSync(path, { throwIfNoEntry: false }) !== undefined) {
      if (await socketInUse(path)) throw new Error(`Socket file ${path} is in use by another process.`);
      if (!c.fixStaleSocket)
        throw new Error(`Socket file ${path} exists. Either remove it, or configure a different one.`);
      this.log.info(`LOCAL: Removing stale socket file ${path}`);
      rmSync(path, { force: true });
    }
    // Paused: a connection is read by the descriptor-passing reader when it is built (fdpass.ts).
    const server = createServer({ pauseOnConnect: true }, onConnection);
    this.servers.push(server);
    await listen(server, { path }, c.backlog);
    this.ownFiles.push(path);
    chmodSync(path, c.localSocketMode);
    if (c.localSocketGroup !== undefined) {
      const gid = lookupId('/etc/group', c.localSocketGroup, 2);
      if (gid === undefined) throw new Error(`LocalSocketGroup: no group named ${c.localSocketGroup}`);
      chownSync(path, -1, gid);
    }
    this.log.info(`LOCAL: Unix socket file ${path}`);
  }

  private dropPrivileges(user: string): void {
    if (process.getuid?.() !== 0) {
      this.log.warning(`User ${user}: not running as root, so the user is not changed`);
      return;
    }
    const gid = lookupId('/etc/passwd', user, 3);
    if (gid === undefined) throw new Error(`User: no user named ${user}`);
    (process as { initgroups?: (user: string, group: number) => void }).initgroups?.(user, gid);
    process.setgid?.(gid);
    process.setuid?.(user);
  }

  private selfCheck(): void {
    const now = directoryStamp(this.config.databaseDirectory);
    if (now === this.stamp) {
      this.log.verbose('SelfCheck: Database status OK.');
      return;
    }
    this.log.info('SelfCheck: Database modification detected. Forcing reload.');
    void this.reload();
  }

  /** Reloads the database (RELOAD, SIGUSR2, SelfCheck); scans go on meanwhile. */
  async reload(): Promise<void> {
    this.stamp = directoryStamp(this.config.databaseDirectory);
    try {
      await this.service.reload();
    } catch (e) {
      this.log.error(`${(e as Error).message}; stopping`);
      process.exitCode = 2;
      await this.stop();
    }
  }

  /** Stops listening, drops the clients, removes the socket and PID files. */
  stop(): Promise<void> {
    this.stopping ??= (async () => {
      clearInterval(this.selfCheckTimer);
      for (const s of this.servers) s.close();
      for (const s of this.sockets) s.destroy();
      await this.service.close();
      // Logged before the socket and PID files go, so that their going means the log is complete.
      this.log.info(`--- Stopped at ${ctime(new Date())}`);
      for (const f of this.ownFiles) rmSync(f, { force: true });
      this.log.close();
      this.markStopped();
    })();
    return this.stopping;
  }

  /** Resolves once the daemon has stopped. */
  get done(): Promise<void> {
    return this.stopped;
  }
}

/** Starts a daemon from a clamd.conf; signals as clamd: TERM/INT stop, USR2 reloads, HUP reopens the log. */
export async function runDaemon(configFile: string, engineVersion: string, foreground?: boolean): Promise<Daemon> {
  const config = readConfig(configFile);
  const daemon = new Daemon(config, engineVersion, foreground ?? config.foreground);
  await daemon.start();
  const stop = () => void daemon.stop();
  process.on('SIGTERM', stop);
  process.on('SIGINT', stop);
  process.on('SIGUSR2', () => void daemon.reload());
  process.on('SIGHUP', () =>
    daemon.log.info('SIGHUP caught: the log file is opened for each line; nothing to reopen.'),
  );
  void daemon.done.then(() => {
    process.off('SIGTERM', stop);
    process.off('SIGINT', stop);
  });
  return daemon;
}
