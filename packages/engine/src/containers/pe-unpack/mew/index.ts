// The MEW unpacker as a container handler: on executables, unpackMew (unpack.ts) recognises MEW 11
// SE and yields the rebuilt PE, which the scanner then reads like any executable.
import { unpackerHandler } from '../pe.js';
import { unpackMew } from './unpack.js';

/** MEW 11 SE, as ClamAV's unmew11 unpacks it. */
export const mewHandler = unpackerHandler('MEW', unpackMew);
