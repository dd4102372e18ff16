// The caps on walking an ISO 9660 image's directories. Each one reached is reported through
// `ctx.broken`; none is reached by an image a mastering tool writes, except ClamAV's own
// (MAX_DIR_BLOCKS), which vigil keeps so that it reads the same files ClamAV reads.

/**
 * Directory blocks read per tree: past this many the whole image is left (ClamAV stops there,
 * Joliet tree included). A tree of more directories than this is read only in part.
 */
export const MAX_DIR_BLOCKS = 1024;

/**
 * Directory levels followed below the root. Each level holds at least one directory block, so
 * this never binds before MAX_DIR_BLOCKS does (and leaves the image as it does); it bounds the
 * walk's recursion whatever the blocks hold.
 */
export const MAX_DEPTH = MAX_DIR_BLOCKS + 1;

/**
 * Directory records looked at per tree. 1025 blocks of 2048 bytes hold at most 61,500 records
 * (60 of the smallest, 34 bytes, a block), so this never binds before MAX_DIR_BLOCKS does.
 */
export const MAX_RECORDS = 65_536;

/**
 * Directory blocks stepped through per tree, those seen before included: a crafted image can make
 * many directories span thousands of blocks that were read already.
 */
export const MAX_DIR_STEPS = 1 << 20;

/** Bytes of a Joliet (UTF-16) name that are decoded, as ClamAV's name buffer holds. */
export const JOLIET_NAME_BYTES = 258;
