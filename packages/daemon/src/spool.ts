// Where INSTREAM data waits for its scan. Streams are held in memory while all of them together
// stay under a budget; a stream that would pass it goes to a spool file instead, so a thousand
// clients streaming at once cost disk, not memory. A spool file is unlinked as soon as it is
// created: it lives only as an open descriptor, which the scanning thread reads, and nothing is left
// behind by a crash.
import { randomBytes } from 'node:crypto';
import { closeSync, openSync, unlinkSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { ScanJob } from '@vigil/node';

export interface StreamSink {
  /** Bytes received so far. */
  readonly size: number;
  write(data: Uint8Array): void;
  /** The job to scan, and what to call once it is scanned. */
  finish(): { readonly job: ScanJob; release(): void };
  /** Forgets the stream (the client left, or passed the limit). */
  discard(): void;
}

export class StreamSpool {
  /** Bytes of streams held in memory now. */
  private inMemory = 0;

  constructor(
    /** Bytes all in-memory streams may hold together. */
    private readonly budget: number,
    private readonly directory: string = tmpdir(),
  ) {}

  get memoryBytes(): number {
    return this.inMemory;
  }

  open(): StreamSink {
    const spool = this;
    let parts: Uint8Array[] = [];
    let size = 0;
    let fd: number | undefined;
    let held = 0; // bytes of this stream counted in inMemory
    const releaseMemory = () => {
      spool.inMemory -= held;
      held = 0;
    };
    const closeFile = () => {
      if (fd !== undefined) closeSync(fd);
      fd = undefined;
    };
    return {
      get size() {
        return size;
      },
      write(data: Uint8Array) {
        if (fd === undefined && spool.inMemory + data.length > spool.budget) {
          fd = spool.createFile();
          for (const p of parts) writeAll(fd, p);
          parts = [];
          releaseMemory();
        }
        if (fd !== undefined) {
          writeAll(fd, data);
        } else {
          parts.push(data);
          held += data.length;
          spool.inMemory += data.length;
        }
        size += data.length;
      },
      finish() {
        if (fd !== undefined) {
          const job: ScanJob = { fd, name: 'stream' };
          fd = undefined;
          return { job, release: () => closeSync(job.fd) };
        }
        const bytes = new Uint8Array(size);
        let at = 0;
        for (const p of parts) {
          bytes.set(p, at);
          at += p.length;
        }
        parts = [];
        return { job: { bytes, name: 'stream' }, release: releaseMemory };
      },
      discard() {
        parts = [];
        releaseMemory();
        closeFile();
      },
    };
  }

  private createFile(): number {
    const path = join(this.directory, `vigil-stream-${randomBytes(8).toString('hex')}`);
    const fd = openSync(path, 'wx+', 0o600);
    unlinkSync(path);
    return fd;
  }
}

function writeAll(fd: number, data: Uint8Array): void {
  for (let off = 0; off < data.length; ) off += writeSync(fd, data, off);
}
