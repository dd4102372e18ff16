// The FSG unpacker as a container handler: on executables, unpackFsg (unpack.ts) recognises FSG
// 2.0, 1.33 and 1.31 and yields the rebuilt PE, which the scanner then reads like any executable.
import { unpackerHandler } from '../pe.js';
import { unpackFsg } from './unpack.js';

/** FSG 2.0, 1.33 and 1.31, as ClamAV's unfsg_200 and unfsg_133 unpack them. */
export const fsgHandler = unpackerHandler('FSG', unpackFsg);
