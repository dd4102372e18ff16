// The Upack unpacker as a container handler: on executables, unpackUpack (unpack.ts) recognises
// Upack and yields the rebuilt PE, which the scanner then reads like any executable.
import { unpackerHandler } from '../pe.js';
import { unpackUpack } from './unpack.js';

/** Upack 0.39 and later, as ClamAV's unupack unpacks it. */
export const upackHandler = unpackerHandler('Upack', unpackUpack);
