// The contract between the scanner and a container format: a handler recognises its file types and
// yields members one at a time, so that at most one decoded member per nesting level is alive.
import type { EngineEnv } from '../env.js';
import type { FileType } from '../filetypes/types.js';

/** The clamscan switch (`--scan-archive`, `--scan-mail`, ...) that turns a handler on or off. */
export type ContainerFamily = 'archive' | 'mail' | 'html' | 'pdf' | 'ole2' | 'pe';

/** One extracted member: its name inside the container and its decoded bytes. */
export interface Member {
  readonly name: string;
  readonly data: Uint8Array;
  /** The member's file type when the container knows it; otherwise it is recognised from its bytes. */
  readonly type?: FileType;
  /**
   * A file found inside the container's bytes rather than extracted from a format (an SFX archive,
   * an installer's payload): ClamAV does not look for further embedded files in it.
   */
  readonly embedded?: boolean;
}

/** What a handler may ask of the scan while it extracts. */
export interface ExtractContext {
  readonly env: EngineEnv;
  /** The container's own name (its file name, or its member name in the container above). */
  readonly name: string;
  /** Bytes a member may decode to at most now (MaxFileSize, and what MaxScanSize leaves). */
  readonly maxMemberSize: number;
  /** A member that was not extracted because it would pass `maxMemberSize`; `size` if known. */
  tooBig(name: string, size: number | undefined): void;
  /** A member that is encrypted and cannot be read without its password. */
  encrypted(name: string): void;
  /** The container is damaged or uses what is not decoded here; extraction goes on with the rest. */
  broken(what: string): void;
}

/** One container format. */
export interface ContainerHandler {
  /** Short format name, used in messages and heuristic names (`Heuristics.Encrypted.Zip`). */
  readonly name: string;
  /** The switches that must all be on for the handler to run. */
  readonly families: readonly ContainerFamily[];
  /** The file types whose contents this handler extracts. */
  readonly types: readonly FileType[];
  /** Yields the members of `data`; must stop cleanly (never throw) on damaged input. */
  extract(data: Uint8Array, ctx: ExtractContext): Iterable<Member>;
}
