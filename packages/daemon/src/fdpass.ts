// File descriptors passed over the Unix socket (clamd's FILDES). Node's sockets read with read(2),
// and the kernel closes any descriptor such a read meets, so a Unix connection is read through a
// small native reader instead (native/fdpass.c, built by scripts/native.mjs with the machine's C
// compiler and Node's headers). Without it, FILDES answers as a clamd built without it.
import { createRequire } from 'node:module';
import type { Socket } from 'node:net';

interface Native {
  start(fd: number, onData: (bytes: Buffer | null, fds: number[], error: string | null) => void): object;
  stop(handle: object): void;
}

/** The built reader, or why there is none. */
function load(): Native | string {
  try {
    return createRequire(import.meta.url)('../build/fdpass.node') as Native;
  } catch (e) {
    return (e as Error).message;
  }
}

const native = load();

/** Why FILDES is not served (the native reader is not built), or undefined when it is. */
export const fdPassingMissing: string | undefined = typeof native === 'string' ? native : undefined;

/** What a connection hears from a descriptor-passing reader. */
export interface DescriptorEvents {
  /** Bytes, and the descriptors that came with their last byte (the caller owns them). */
  data(bytes: Buffer, fds: number[]): void;
  /** The peer closed its side. */
  end(): void;
  error(message: string): void;
}

/** Reads a Unix connection through the native reader. */
export interface DescriptorReader {
  /** Stops reading and closes the reader's own copy of the socket; idempotent. */
  stop(): void;
}

/**
 * Starts reading `socket` (a Unix connection accepted with `pauseOnConnect`, so Node never reads
 * it) with recvmsg(2). Undefined when the native reader is not built or cannot take the socket
 * (no descriptor left to duplicate it): Node reads it then.
 */
export function readDescriptors(socket: Socket, on: DescriptorEvents): DescriptorReader | undefined {
  if (typeof native === 'string') return undefined;
  const fd = (socket as unknown as { _handle?: { fd?: number } })._handle?.fd;
  if (fd === undefined || fd < 0) return undefined;
  let handle: object | undefined;
  try {
    handle = native.start(fd, (bytes, fds, error) => {
      if (bytes !== null) on.data(bytes, fds);
      else if (error !== null) on.error(error);
      else on.end();
    });
  } catch {
    return undefined;
  }
  return {
    stop: () => {
      if (handle !== undefined) native.stop(handle);
      handle = undefined;
    },
  };
}
