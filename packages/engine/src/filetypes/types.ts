// What the engine learns about a file before matching: its type and, for executables, the facts
// that offsets (EP+n, Sx+n, SL+n) and target description blocks (EntryPoint, NumberOfSections) need.

/** A ClamAV file type name, e.g. `CL_TYPE_PE`, `CL_TYPE_ZIP`, `CL_TYPE_TEXT_ASCII`, `CL_TYPE_HTML`. */
export type FileType = string;

/** One section of an executable, in file and memory terms. */
export interface Section {
  /** Virtual address relative to the image base (PE) or the segment's vaddr (ELF). */
  readonly rva: number;
  readonly virtualSize: number;
  /** Offset of the section's data in the file. */
  readonly rawOffset: number;
  /** Size of the section's data in the file. */
  readonly rawSize: number;
}

/** Facts about a PE or ELF file. Offsets are file offsets. */
export interface ExecutableFacts {
  readonly format: 'pe' | 'elf' | 'macho';
  /** File offset of the entry point, or undefined when it lies outside the file's data. */
  readonly entryPoint: number | undefined;
  readonly sections: readonly Section[];
  /** True when the headers were damaged and only part could be read. */
  readonly malformed: boolean;
}

/** Everything the scan needs to know about one file before matching. */
export interface FileFacts {
  readonly type: FileType;
  readonly size: number;
  readonly exe?: ExecutableFacts;
}
