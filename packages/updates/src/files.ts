// Files that are never half-written (the Node adapter's atomic write: a temporary file flushed to
// disk, then renamed over the old one), with failures as this package's errors.
import { writeFileAtomically } from '@vigil/node';
import { UpdateError } from './errors.js';

/** Writes `data` atomically; `mode` 0o600 for what must stay private (keys). */
export function writeAtomically(path: string, data: string | Uint8Array, mode = 0o644): void {
  try {
    writeFileAtomically(path, typeof data === 'string' ? Buffer.from(data) : data, mode);
  } catch (e) {
    throw new UpdateError('E_IO', `cannot write ${path}: ${(e as Error).message}`, { cause: e });
  }
}
