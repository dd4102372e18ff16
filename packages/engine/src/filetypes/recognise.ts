// PLACEHOLDER (being replaced).
import type { ByteSource } from '../bytesource.js';
import type { FileTypeMagic } from '../signatures/types.js';
import type { FileType } from './types.js';

export function recogniseType(_source: ByteSource, _extra: readonly FileTypeMagic[]): FileType {
  return 'CL_TYPE_BINARY_DATA';
}
export function targetOfType(_type: FileType): number {
  return 0;
}
