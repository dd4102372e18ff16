// clamd's wire framing, as a pure state machine fed with bytes. A command is `zNAME args\0`,
// `nNAME args\n`, or the old unprefixed `NAME args\n` (or without the newline, ended by the read);
// replies end with the same delimiter. After a prefixed INSTREAM come chunks (a 4-byte big-endian
// length, then the bytes) until a zero length. The reader switches to chunk mode itself, so
// pipelined session commands after a stream parse correctly. FILDES is followed by one more byte,
// the one its file descriptor was sent with; the command is complete once that byte is read.

/** One parsed command. `delimiter` ends its reply. */
export interface Command {
  readonly name: string;
  /** Everything after the first space, as sent (clamd keeps trailing spaces in paths), one byte per character. */
  readonly argument: string | undefined;
  readonly prefix: 'z' | 'n' | '';
  readonly delimiter: '\0' | '\n';
}

export type FrameEvent =
  | { readonly type: 'command'; readonly command: Command }
  /** A chunk's length, before its bytes arrive (so a limit is checked before anything is read). */
  | { readonly type: 'chunk-length'; readonly size: number }
  | { readonly type: 'chunk'; readonly data: Uint8Array }
  | { readonly type: 'stream-end' }
  /** A command line longer than the reader accepts, or bytes that cannot be a command. */
  | { readonly type: 'invalid'; readonly reason: string };

/** Longest command line accepted: a command word plus a path of PATH_MAX (4096) and room to spare. */
export const MAX_COMMAND_LENGTH = 8192;

export class FrameReader {
  private pending: Uint8Array[] = [];
  private pendingLength = 0;
  /** Bytes still to come of the current chunk, or -1 when reading a chunk length, or undefined between commands. */
  private chunkLeft: number | undefined;
  private failed = false;
  /** A FILDES command waiting for the byte its descriptor comes with. */
  private fildes: Command | undefined;

  /** True while the reader is inside an INSTREAM's chunks. */
  get inStream(): boolean {
    return this.chunkLeft !== undefined;
  }

  /** True when bytes of an unfinished command or chunk header are buffered. */
  get partial(): boolean {
    return this.pendingLength > 0 || this.fildes !== undefined || (this.chunkLeft !== undefined && this.chunkLeft > 0);
  }

  /** The delimiter the unfinished command will end with (its first byte decides), if one is buffered. */
  get partialDelimiter(): '\0' | '\n' | undefined {
    if (this.pendingLength === 0) return undefined;
    return (this.pending[0] as Uint8Array)[0] === 0x7a ? '\0' : '\n';
  }

  /** Feeds bytes; returns the events they complete, in order. */
  push(data: Uint8Array): FrameEvent[] {
    const events: FrameEvent[] = [];
    if (this.failed) return events;
    let at = 0;
    while (at < data.length) {
      if (this.fildes !== undefined) {
        events.push({ type: 'command', command: this.fildes });
        this.fildes = undefined;
        at++;
      } else if (this.chunkLeft === undefined) {
        let end = this.findEnd(data, at);
        // The old unprefixed protocol was one command per read: clamd takes what one read brings as
        // the whole command when it has no newline (Node's clamscan package sends `PING` bare).
        if (end < 0 && this.pendingLength === 0 && data[at] !== 0x7a && data[at] !== 0x6e) end = data.length;
        if (end < 0) {
          this.keep(data.subarray(at));
          if (this.pendingLength > MAX_COMMAND_LENGTH) {
            this.failed = true;
            events.push({ type: 'invalid', reason: `a command longer than ${MAX_COMMAND_LENGTH} bytes` });
          }
          return events;
        }
        const line = this.take(data.subarray(at, end));
        at = end + 1;
        const command = parseCommand(line, data[end] === 0 ? '\0' : '\n');
        if (command.name === 'FILDES') this.fildes = command;
        else events.push({ type: 'command', command });
        if (command.name === 'INSTREAM' && command.prefix !== '') this.chunkLeft = -1;
      } else if (this.chunkLeft < 0) {
        const need = 4 - this.pendingLength;
        const got = data.subarray(at, at + need);
        at += got.length;
        this.keep(got);
        if (this.pendingLength < 4) return events;
        const header = this.take(new Uint8Array(0));
        const length = ((header[0] as number) << 24) | ((header[1] as number) << 16) | ((header[2] as number) << 8);
        const size = (length | (header[3] as number)) >>> 0;
        if (size === 0) {
          this.chunkLeft = undefined;
          events.push({ type: 'stream-end' });
        } else {
          this.chunkLeft = size;
          events.push({ type: 'chunk-length', size });
        }
      } else {
        const got = data.subarray(at, at + this.chunkLeft);
        at += got.length;
        this.chunkLeft -= got.length;
        events.push({ type: 'chunk', data: got });
        if (this.chunkLeft === 0) this.chunkLeft = -1;
      }
    }
    return events;
  }

  /** Where the current command ends in `data` from `at`, or -1. The first byte decides the delimiter. */
  private findEnd(data: Uint8Array, at: number): number {
    const first = this.pendingLength > 0 ? (this.pending[0] as Uint8Array)[0] : data[at];
    return data.indexOf(first === 0x7a ? 0 : 0x0a, at);
  }

  private keep(bytes: Uint8Array): void {
    if (bytes.length === 0) return;
    this.pending.push(bytes.slice());
    this.pendingLength += bytes.length;
  }

  private take(last: Uint8Array): Uint8Array {
    if (this.pendingLength === 0) return last;
    const out = new Uint8Array(this.pendingLength + last.length);
    let o = 0;
    for (const p of this.pending) {
      out.set(p, o);
      o += p.length;
    }
    out.set(last, o);
    this.pending = [];
    this.pendingLength = 0;
    return out;
  }
}

function parseCommand(line: Uint8Array, delimiter: '\0' | '\n'): Command {
  // Latin-1 keeps every byte of a path as one character; replies are written back the same way.
  let text = Buffer.from(line.buffer, line.byteOffset, line.length).toString('latin1');
  let prefix: Command['prefix'] = '';
  if (text.startsWith('z') && delimiter === '\0') prefix = 'z';
  else if (text.startsWith('n')) prefix = 'n';
  if (prefix !== '') text = text.slice(1);
  // The unprefixed form is line-based and may arrive with a carriage return.
  if (prefix === '' && text.endsWith('\r')) text = text.slice(0, -1);
  const space = text.indexOf(' ');
  return space < 0
    ? { name: text, argument: undefined, prefix, delimiter }
    : { name: text.slice(0, space), argument: text.slice(space + 1), prefix, delimiter };
}
