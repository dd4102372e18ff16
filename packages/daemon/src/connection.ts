// One client connection speaking clamd's protocol. Outside a session, one command is answered and
// the connection closed, as clamd does. After IDSESSION, commands pipeline: each reply carries its
// command's number and is written when ready, so replies may come out of order. Timeouts as in
// clamd: CommandReadTimeout for the first command, IdleTimeout between session commands, ReadTimeout
// while a stream's data is awaited; each ends the connection with `COMMAND READ TIMED OUT`.
// A Unix connection is read with the descriptors passed along (FILDES), when the reader is built.
import { closeSync } from 'node:fs';
import type { Socket } from 'node:net';
import type { DaemonConfig } from './config.js';
import { type DescriptorReader, fdPassingMissing, readDescriptors } from './fdpass.js';
import { type Command, FrameReader } from './framing.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';
import type { PathMode, ScanService } from './service.js';
import type { StreamSink, StreamSpool } from './spool.js';

/** What the connection needs from the daemon beyond scanning. */
export interface DaemonControls {
  version(): string;
  stats(): string;
  reload(): void;
  shutdown(): void;
}

export interface ConnectionContext {
  readonly config: DaemonConfig;
  readonly service: ScanService;
  readonly metrics: Metrics;
  readonly log: Logger;
  readonly spool: StreamSpool;
  readonly controls: DaemonControls;
}

export const COMMAND_NAMES = [
  'SCAN',
  'QUIT',
  'RELOAD',
  'PING',
  'CONTSCAN',
  'VERSIONCOMMANDS',
  'VERSION',
  'END',
  'SHUTDOWN',
  'MULTISCAN',
  'FILDES',
  'STATS',
  'IDSESSION',
  'INSTREAM',
  'DETSTATSCLEAR',
  'DETSTATS',
  'ALLMATCHSCAN',
] as const;

/** Commands clamd accepts inside IDSESSION; any other ends the session with an error. */
const IN_SESSION = new Set(['PING', 'VERSION', 'VERSIONCOMMANDS', 'SCAN', 'INSTREAM', 'FILDES', 'STATS', 'END']);
const PATH_COMMANDS = new Set<string>(['SCAN', 'CONTSCAN', 'MULTISCAN', 'ALLMATCHSCAN']);

export class Connection {
  private readonly reader = new FrameReader();
  /** Inside IDSESSION: the number of the last command, and replies still to come. */
  private session: { lastId: number; pending: number; ending: boolean } | undefined;
  /** Outside a session: the one command has been read; later bytes are ignored. */
  private answered = false;
  private stream: { readonly sink: StreamSink; readonly id: number } | undefined;
  private timer: NodeJS.Timeout | undefined;
  private sendTimer: NodeJS.Timeout | undefined;
  private closed = false;
  private delimiter: '\n' | '\0' = '\n';
  private readonly peer: string;
  /** Unix connections: the reader that receives passed descriptors (undefined: Node reads). */
  private readonly descriptors: DescriptorReader | undefined;
  /** A descriptor received and not yet claimed by a FILDES. */
  private passed: number | undefined;

  constructor(
    private readonly socket: Socket,
    private readonly ctx: ConnectionContext,
    unix: boolean,
  ) {
    this.peer = unix ? 'local' : `${socket.remoteAddress ?? '?'}@${socket.remotePort ?? 0}`;
    ctx.metrics.connection(1);
    this.descriptors = unix
      ? readDescriptors(socket, {
          data: (data, fds) => this.receive(data, fds),
          end: () => this.peerEnded(),
          error: (message) => {
            this.ctx.log.warning(`LOCAL: ${message}`);
            this.close();
          },
        })
      : undefined;
    if (this.descriptors === undefined) {
      socket.on('data', (data: Buffer) => this.receive(data, []));
      socket.resume(); // accepted paused for the descriptor reader
    }
    socket.on('drain', () => {
      clearTimeout(this.sendTimer);
      this.sendTimer = undefined;
    });
    socket.on('error', () => this.close());
    socket.on('close', () => this.close());
    socket.on('end', () => this.peerEnded());
    this.arm(ctx.config.commandReadTimeout);
  }

  /**
   * A client that half-closes after its command still gets its reply; one that leaves in the middle
   * of a command or a stream has nothing to answer.
   */
  private peerEnded(): void {
    if (this.reader.partial || this.stream !== undefined) this.close();
  }

  /** (Re)starts the timeout: `ms` from now without the awaited bytes ends the connection. 0: none. */
  private arm(ms: number): void {
    clearTimeout(this.timer);
    this.timer = undefined;
    if (ms > 0 && !this.closed) this.timer = setTimeout(() => this.timedOut(), ms);
  }

  private timedOut(): void {
    this.ctx.metrics.reject('timeout');
    this.writeRaw('COMMAND READ TIMED OUT\n'); // a newline whatever the framing, as clamd
    this.end();
  }

  /** Outside a session, bytes after the one command (and its stream) are ignored, as by clamd. */
  private get deaf(): boolean {
    return this.closed || (this.answered && this.session === undefined && this.stream === undefined);
  }

  /** Bytes from the client, and the descriptors passed with the last of them. */
  private receive(data: Buffer, fds: number[]): void {
    // As clamd: a descriptor replaces one still unclaimed, which is closed.
    for (const fd of fds) {
      this.dropPassed();
      this.passed = fd;
    }
    if (this.deaf) {
      this.dropPassed();
      return;
    }
    for (const event of this.reader.push(data)) {
      // A session that ended (END, or an error) reads no further command.
      if (this.deaf || this.session?.ending === true) break;
      switch (event.type) {
        case 'command':
          this.command(event.command);
          break;
        case 'chunk-length':
          this.chunkLength(event.size);
          break;
        case 'chunk':
          this.chunk(event.data);
          break;
        case 'stream-end':
          this.streamEnd();
          break;
        case 'invalid':
          this.ctx.metrics.reject('malformed');
          this.reply(0, 'UNKNOWN COMMAND');
          this.end();
          return;
      }
    }
    // A descriptor that came with anything but a FILDES's byte is refused, as by clamd; after the
    // one command of a connection without a session, it is dropped as the bytes are.
    if (this.passed !== undefined) {
      const deaf = this.deaf;
      this.dropPassed();
      if (deaf) return;
      this.ctx.metrics.reject('malformed');
      // Before any command, in the framing of the one the descriptor came with; in a session,
      // numbered as the next command's reply.
      if (!this.answered) this.delimiter = this.reader.partialDelimiter ?? this.delimiter;
      this.reply(
        this.session === undefined ? 0 : this.session.lastId + 1,
        'PROTOCOL ERROR: ancillary data sent without FILDES. ERROR',
      );
      this.end();
      return;
    }
    // ReadTimeout runs from the last bytes of a stream.
    if (this.stream !== undefined) this.arm(this.ctx.config.readTimeout);
  }

  /** Writes one reply of command `id` (0 outside a session), with the session's numbering. */
  private reply(id: number, text: string): void {
    this.writeRaw(`${this.session !== undefined && id > 0 ? `${id}: ` : ''}${text}${this.delimiter}`);
  }

  private writeRaw(text: string): void {
    if (this.closed || this.socket.destroyed) return;
    this.socket.write(Buffer.from(text, 'latin1'));
    // A client that stops reading gets SendBufTimeout to drain our replies, then is dropped.
    if (this.socket.writableLength > 0 && this.sendTimer === undefined && this.ctx.config.sendBufTimeout > 0) {
      this.sendTimer = setTimeout(() => {
        this.ctx.metrics.reject('send-timeout');
        this.close();
      }, this.ctx.config.sendBufTimeout);
    }
  }

  /** Closes a passed descriptor nobody will scan. */
  private dropPassed(): void {
    if (this.passed !== undefined) closeSync(this.passed);
    this.passed = undefined;
  }

  private command(cmd: Command): void {
    // FILDES claims the descriptor that came with it (its command is complete only with that byte).
    const fd = cmd.name === 'FILDES' ? this.passed : undefined;
    if (cmd.name === 'FILDES') this.passed = undefined;
    this.ctx.metrics.command(COMMAND_NAMES.includes(cmd.name as never) ? cmd.name : 'unknown');
    if (this.session === undefined) {
      this.answered = true;
      this.delimiter = cmd.delimiter;
      this.arm(0);
      if (cmd.name === 'IDSESSION' && cmd.prefix !== '') {
        this.session = { lastId: 0, pending: 0, ending: false };
        this.arm(this.ctx.config.idleTimeout);
        return;
      }
      if (cmd.name === 'INSTREAM' && cmd.prefix !== '') {
        this.startStream(0);
        return;
      }
      this.run(cmd, 0, fd).then(
        () => this.end(),
        (e: unknown) => this.failed(e, 0),
      );
      return;
    }
    const s = this.session;
    const id = ++s.lastId;
    if (cmd.prefix === '' || !IN_SESSION.has(cmd.name)) {
      this.ctx.metrics.reject('invalid-in-session');
      if (fd !== undefined) closeSync(fd);
      this.reply(id, 'Command invalid inside IDSESSION. ERROR');
      this.endSession();
      return;
    }
    if (cmd.name === 'END') {
      this.endSession();
      return;
    }
    if (cmd.name === 'FILDES' && fd === undefined && fdPassingMissing === undefined) {
      // clamd ends the session on a FILDES without a descriptor.
      this.ctx.metrics.reject('malformed');
      this.reply(id, 'No file descriptor received. ERROR');
      this.endSession();
      return;
    }
    s.pending++;
    this.arm(0);
    if (cmd.name === 'INSTREAM') {
      this.startStream(id); // the stream's end finishes it
      return;
    }
    this.run(cmd, id, fd)
      .catch((e: unknown) => this.failed(e, id))
      .finally(() => this.sessionDone());
  }

  /** INSTREAM: the chunks that follow go to a sink (memory or spool file) until the zero length. */
  private startStream(id: number): void {
    this.stream = { sink: this.ctx.spool.open(), id };
    this.arm(this.ctx.config.readTimeout);
  }

  private sessionDone(): void {
    const s = this.session;
    if (s === undefined) return;
    s.pending--;
    if (s.ending && s.pending === 0) this.end();
    else if (s.pending === 0 && this.stream === undefined) this.arm(this.ctx.config.idleTimeout);
  }

  /** END (or an invalid command): no more commands; close once every pending reply is written. */
  private endSession(): void {
    const s = this.session as NonNullable<typeof this.session>;
    s.ending = true;
    this.arm(0);
    if (s.pending === 0) this.end();
  }

  private failed(e: unknown, id: number): void {
    this.ctx.log.error(`${(e as Error).message ?? String(e)}`);
    this.reply(id, `${(e as Error).message ?? String(e)}. ERROR`);
    this.end();
  }

  /** Runs a command, listed for STATS while it runs. */
  /** `fd`: the descriptor a FILDES claimed, which the command closes. */
  private async run(cmd: Command, id: number, fd: number | undefined): Promise<void> {
    const key = {};
    this.ctx.service.running.set(key, { command: cmd.name, since: performance.now() });
    try {
      await this.execute(cmd, id, fd);
    } finally {
      this.ctx.service.running.delete(key);
    }
  }

  private async execute(cmd: Command, id: number, fd: number | undefined): Promise<void> {
    const { controls, config, service } = this.ctx;
    const say = (text: string) => this.reply(id, text);
    if (PATH_COMMANDS.has(cmd.name)) {
      if (cmd.argument === undefined) {
        say('UNKNOWN COMMAND');
        return;
      }
      if (cmd.name === 'ALLMATCHSCAN' && !config.allowAllMatchScan) {
        say('ALLMATCHSCAN command disabled in clamd.conf. ERROR');
        return;
      }
      await service.scanPath(cmd.argument, cmd.name as PathMode, say, () => this.closed);
      return;
    }
    switch (cmd.name) {
      case 'PING':
        say('PONG');
        return;
      case 'VERSION':
        say(controls.version());
        return;
      case 'VERSIONCOMMANDS':
        // As clamd, FILDES is listed only where it is served.
        say(
          `${controls.version()}| COMMANDS: ${COMMAND_NAMES.filter((n) => n !== 'FILDES' || fdPassingMissing === undefined).join(' ')}`,
        );
        return;
      case 'STATS':
        say(controls.stats());
        return;
      case 'RELOAD':
        say('RELOADING');
        controls.reload();
        return;
      case 'SHUTDOWN':
      case 'QUIT':
        controls.shutdown();
        return;
      case 'DETSTATS':
      case 'DETSTATSCLEAR':
        // clamd 1.4 keeps no detection statistics: it closes without a reply, and so does Vigil.
        return;
      case 'INSTREAM': // only prefixed, as clamd
      case 'IDSESSION':
        say('UNKNOWN COMMAND');
        return;
      case 'FILDES':
        if (fd === undefined)
          say(
            fdPassingMissing !== undefined
              ? 'FILDES support not compiled in. ERROR'
              : 'No file descriptor received. ERROR',
          );
        else say(await service.scanDescriptor(fd));
        return;
      default:
        this.ctx.metrics.reject('unknown-command');
        say('UNKNOWN COMMAND');
    }
  }

  private chunkLength(size: number): void {
    const st = this.stream;
    if (st === undefined) return;
    const max = this.ctx.config.streamMaxLength;
    if (st.sink.size + size > max) {
      this.ctx.log.warning(
        `INSTREAM: Size limit reached, (requested: ${size}, max: ${Math.max(0, max - st.sink.size)})`,
      );
      this.ctx.metrics.reject('stream-limit');
      st.sink.discard();
      this.stream = undefined;
      this.reply(st.id, 'INSTREAM size limit exceeded. ERROR');
      this.end();
    }
  }

  private chunk(data: Uint8Array): void {
    const st = this.stream;
    if (st === undefined) return;
    try {
      st.sink.write(data);
    } catch (e) {
      // The spool file could not be written (a full disk): this stream fails, the daemon goes on.
      this.stream = undefined;
      st.sink.discard();
      this.failed(new Error(`INSTREAM: can't spool the stream: ${(e as Error).message}`), st.id);
    }
  }

  private streamEnd(): void {
    const st = this.stream;
    if (st === undefined) return;
    this.stream = undefined;
    this.arm(0);
    let job: ReturnType<StreamSink['finish']>;
    try {
      job = st.sink.finish();
    } catch (e) {
      this.failed(e, st.id);
      return;
    }
    const key = {};
    this.ctx.service.running.set(key, { command: 'INSTREAM', since: performance.now() });
    this.ctx.service
      .scanStream(job.job, this.peer)
      .then(
        (line) => this.reply(st.id, line),
        (e: unknown) => this.failed(e, st.id),
      )
      .finally(() => {
        this.ctx.service.running.delete(key);
        job.release();
        if (this.session === undefined) this.end();
        else this.sessionDone();
      });
  }

  /**
   * Ends the connection once the replies written so far are handed to the kernel, as clamd closes
   * its side (a client still sending then sees the connection reset). A client that does not read
   * them is cut off after SendBufTimeout.
   */
  private end(): void {
    if (this.closed) return;
    this.finish();
    this.socket.pause();
    this.socket.end();
    this.socket.once('finish', () => this.socket.destroy());
    setTimeout(() => this.socket.destroy(), Math.max(this.ctx.config.sendBufTimeout, 1000)).unref();
  }

  /** Drops the connection now (the peer left, or a socket error). */
  private close(): void {
    if (!this.closed) this.finish();
    this.socket.destroy();
  }

  private finish(): void {
    this.closed = true;
    this.descriptors?.stop();
    this.dropPassed();
    clearTimeout(this.timer);
    clearTimeout(this.sendTimer);
    this.stream?.sink.discard();
    this.stream = undefined;
    this.ctx.metrics.connection(-1);
  }
}
