// The caps of VBA extraction, in one place. Output sizes are bounded by the scan's maxMemberSize.

/** ClamAV's older walk gives up on a `_VBA_PROJECT` listing more modules than this. */
export const MAX_LEGACY_MODULES = 1000;

/** ClamAV does not descend past this many storage levels of a compound file's directory. */
export const MAX_TREE_DEPTH = 100;

/** Nested descents of the directory walk at most (a stream's child is walked too): keeps the stack. */
export const MAX_TREE_NESTING = 400;

/**
 * All the MS-OVBA decoding done for one compound file (dir streams and module sources, kept or
 * dropped) stops at this many times the room the scan left when the file was opened: a file full of
 * small streams that each decode to much cannot make the work grow with their number.
 */
export const DECODE_BUDGET_FACTOR = 4;
