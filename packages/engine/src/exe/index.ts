// PLACEHOLDER (being replaced).
import type { ByteSource } from '../bytesource.js';
import type { ExecutableFacts, FileType } from '../filetypes/types.js';

export function parseExecutable(_source: ByteSource, _type: FileType): ExecutableFacts | undefined {
  return undefined;
}
