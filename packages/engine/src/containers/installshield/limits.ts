// The InstallShield readers' layout constants and caps, in one place. Every loop in this folder
// consumes input bytes on each turn, so the caps below bound lengths, not counts of turns.

/** `InstallShield\0`, where ClamAV's ISHIELD-MSI file-type signature starts its match. */
export const MSI_MAGIC = 'InstallShield\0';
/** The MSI payload's header after the magic: a file count, then bytes 8..31 that must be zero. */
export const MSI_HEADER = 0x20;
/** One MSI payload file block: a 260-byte name field, then counts and the compressed size. */
export const MSI_BLOCK = 0x104 + 52;
/** Where the compressed size (64-bit) lies in a file block. */
export const MSI_BLOCK_CSIZE = 0x104 + 8;
/** The obfuscation key's base, XORed with the file name (ClamAV: the bytes ~0x13 ~0x35 ~0x86 ~0x07). */
export const MSI_KEY_BASE = Uint8Array.of(0xec, 0xca, 0x79, 0xf8);

/** A string of a setup overlay's file record (name, path, version, size) ends within this many bytes. */
export const OVERLAY_STRING_MAX = 2048;
/** File records walked in a setup overlay at most (real setups have tens; empty records cost no member). */
export const MAX_RECORDS = 1 << 16;

/** `ISc(` as a little-endian word: the magic of data1.hdr and of the dataN.cab files. */
export const HDR_MAGIC = 0x28635349;
/** Size of the OBJECTS table that data1.hdr's data offset points at. */
export const HDR_OBJECTS = 74;
/** Size of one file record in data1.hdr. */
export const HDR_FILE_ITEM = 87;
/** A file or directory name in data1.hdr is read up to this many bytes (Windows' MAX_PATH). */
export const HDR_NAME_MAX = 260;
/** dataN.cab numbers ClamAV accepts (exclusive bounds). */
export const CAB_NUMBER_MAX = 65536;
/**
 * Deflate chunks a setup may decode before they pay for themselves. Each chunk costs one and each
 * CHUNK_EARNS bytes of output earn one back: InstallShield's chunks decode to 32 KiB each and never
 * run out, while a hostile stream of tiny chunks that decode to nothing stops within a second.
 */
export const CHUNK_BUDGET = 1 << 13;
/** Output bytes that pay for one more chunk. */
export const CHUNK_EARNS = 1024;
