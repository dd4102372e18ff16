// The parsed form of ClamAV signatures: what the text parsers produce and the compiler consumes.
// Parsers know nothing of matching; matchers know nothing of text. Both meet here.

/** Where a signature came from, for diagnostics and `vigil db info`. */
export interface SourceRef {
  readonly file: string;
  readonly line: number;
  /**
   * True for signatures read from a .cvd/.cld/.cud container whose ClamAV digital signature verified
   * with the official key. ClamAV appends `.UNOFFICIAL` to the names of all other signatures.
   */
  readonly official?: boolean;
}

/**
 * ClamAV 1.4's engine functionality level. Signatures whose level window excludes it are skipped,
 * as ClamAV skips them: checked before the rest of the line is parsed, so a line written for a newer
 * engine (new syntax) is skipped, not an error.
 */
export const ENGINE_FLEVEL = 216;

/** ClamAV target types (the TargetType field of .ndb and Target: of .ldb). */
export const TARGET = {
  any: 0,
  pe: 1,
  ole2: 2,
  html: 3,
  mail: 4,
  graphics: 5,
  elf: 6,
  ascii: 7,
  unused: 8,
  macho: 9,
  pdf: 10,
  flash: 11,
  java: 12,
  internal: 13,
  other: 14,
} as const;
export type Target = number;

/** A signature's functionality-level window; `max` undefined means no upper bound. */
export interface FlevelRange {
  readonly min: number;
  readonly max?: number;
}

/**
 * Where a body pattern may start. `shift` is the MaxShift of `Offset,MaxShift` (0 when absent):
 * the match may start anywhere in `[base, base + shift]`.
 */
export type OffsetSpec =
  | { readonly kind: 'any' }
  | { readonly kind: 'abs'; readonly n: number; readonly shift: number }
  | { readonly kind: 'eof'; readonly n: number; readonly shift: number } // EOF-n
  | { readonly kind: 'ep'; readonly n: number; readonly shift: number } // EP+n, EP-n (n negative)
  | { readonly kind: 'section'; readonly index: number; readonly n: number; readonly shift: number } // Sx+n
  | { readonly kind: 'section-entire'; readonly index: number } // SEx
  | { readonly kind: 'last-section'; readonly n: number; readonly shift: number } // SL+n
  /** `VI` (inside the version-info resource) and `$n$` macros: loaded, never matched (not supported). */
  | { readonly kind: 'version-info' }
  | { readonly kind: 'macro'; readonly group: number };

/**
 * A fixed-length run of byte tests: byte i matches b when `(b & mask[i]) === bytes[i]`.
 * mask 0xff is a literal byte, 0xf0 `a?`, 0x0f `?a`, 0x00 `??` (and then bytes[i] is 0).
 */
export interface ByteRun {
  readonly bytes: Uint8Array;
  readonly mask: Uint8Array;
}

/** One element of a hex pattern, in order. */
export type PatternNode =
  /** Literal bytes, nibbles and `??`, merged into one run. */
  | { readonly t: 'run'; readonly run: ByteRun }
  /** `(aa|bb|cc)` (options may differ in length, and may hold nibbles or `??`); `!(aa|bb)` with negate. */
  | { readonly t: 'alt'; readonly options: readonly ByteRun[]; readonly negate: boolean }
  /** `*` (min 0, max Infinity), `{n}`, `{-n}`, `{n-}`, `{n-m}`, and `[x-y]`. */
  | { readonly t: 'gap'; readonly min: number; readonly max: number }
  /** `(B)` word boundary, `(L)` line boundary, `(W)` non-alphanumeric: zero-width, file edges count. */
  | { readonly t: 'anchor'; readonly kind: 'B' | 'L' | 'W' };

/** A hex pattern as written: nodes in order. */
export type Pattern = readonly PatternNode[];

/** Subsignature modifiers `::i` (nocase), `::w` (wide), `::a` (ascii, with wide: both), `::f` (fullword). */
export interface PatternModifiers {
  readonly nocase: boolean;
  readonly wide: boolean;
  readonly ascii: boolean;
  readonly fullword: boolean;
}

export const NO_MODIFIERS: PatternModifiers = Object.freeze({
  nocase: false,
  wide: false,
  ascii: false,
  fullword: false,
});

/** A hash signature: .hdb/.hsb (file), .mdb/.msb (PE section), .imp (PE import table); also .fp/.sfp. */
export interface HashSignature {
  readonly scope: 'file' | 'section' | 'import';
  readonly algo: 'md5' | 'sha1' | 'sha256';
  /** Lower-case hex digest. */
  readonly digest: string;
  /** Size in bytes the hashed data must have, or null for `*` (any size). */
  readonly size: number | null;
  readonly name: string;
  readonly flevel?: FlevelRange;
  readonly source: SourceRef;
}

/** An .ndb (extended) body signature. */
export interface BodySignature {
  readonly name: string;
  readonly target: Target;
  readonly offset: OffsetSpec;
  readonly pattern: Pattern;
  readonly flevel?: FlevelRange;
  readonly source: SourceRef;
}

/** A logical expression over subsignature indexes. */
export type LogicalExpr =
  | { readonly op: 'sub'; readonly index: number }
  | { readonly op: 'and' | 'or'; readonly args: readonly LogicalExpr[] }
  /**
   * `A=X`, `A>X`, `A<X` compare the number of matches of A's subsignatures (summed) with `count`;
   * with `,Y` (`distinct`), Y compares likewise with the number of distinct subsignatures of A matched.
   */
  | {
      readonly op: 'count';
      readonly arg: LogicalExpr;
      readonly cmp: '=' | '>' | '<';
      readonly count: number;
      readonly distinct?: number;
    };

/** An inclusive range in a target description block (`FileSize:10-20`, or one number for both). */
export interface Range {
  readonly min: number;
  readonly max: number;
}

/** An .ldb target description block. Absent keys do not constrain. */
export interface TargetDescription {
  readonly engine?: Range;
  readonly target?: Target;
  readonly fileSize?: Range;
  readonly entryPoint?: Range;
  readonly numberOfSections?: Range;
  /** ClamAV type name the file must be inside, e.g. `CL_TYPE_ZIP`. */
  readonly container?: string;
  /** Chain of container types from the outside in (`Intermediates:1>CL_TYPE_ZIP>...`). */
  readonly intermediates?: readonly string[];
  readonly iconGroup1?: string;
  readonly iconGroup2?: string;
  readonly handlerType?: string;
}

/** Byte compare: read bytes at an offset from a subsignature's match and compare them. */
export interface ByteCompare {
  /** Index of the subsignature whose match start is the base. */
  readonly subsig: number;
  /** Offset from that match: `>>n` forward (positive) or `<<n` backward (negative). */
  readonly offset: number;
  /** How the bytes read are interpreted. */
  readonly base: 'hex' | 'dec' | 'auto' | 'raw';
  readonly endian: 'little' | 'big';
  /** `e`: the bytes read must all be valid for the base (exact). */
  readonly exact: boolean;
  readonly length: number;
  /** One or two comparisons; all must hold. */
  readonly comparisons: readonly { readonly op: '<' | '>' | '='; readonly value: number }[];
}

/** One subsignature of an .ldb line. */
export type SubSignature =
  | {
      readonly kind: 'pattern';
      readonly offset: OffsetSpec;
      readonly pattern: Pattern;
      readonly modifiers: PatternModifiers;
    }
  | {
      readonly kind: 'pcre';
      /** Expression over the other subsignatures that must hold before the regex runs. */
      readonly trigger: LogicalExpr;
      readonly offset: OffsetSpec;
      /** The regex body between the slashes, in PCRE syntax. */
      readonly regex: string;
      /** Flags after the closing slash: PCRE's i s m x A E U and ClamAV's g r e. */
      readonly flags: string;
    }
  | { readonly kind: 'bytecompare'; readonly compare: ByteCompare }
  /** A macro subsignature (`${min-max}group$`): loaded, never matches here (macros are not supported). */
  | { readonly kind: 'macro'; readonly min: number; readonly max: number; readonly group: number };

/** An .ldb logical signature. */
export interface LogicalSignature {
  readonly name: string;
  readonly tdb: TargetDescription;
  readonly expr: LogicalExpr;
  readonly subsigs: readonly SubSignature[];
  readonly source: SourceRef;
}

/** An .ign/.ign2 rule: drop the signature of this name (and, with a digest, only that exact one). */
export interface IgnoreRule {
  readonly name: string;
  readonly md5?: string;
  readonly source: SourceRef;
}

/** An .ftm file-type magic entry (also ClamAV's built-in table). */
export interface FileTypeMagic {
  /** 0: fixed offset bytes; 1: body pattern anywhere (in the first bytes); 4: partition type. */
  readonly magicType: 0 | 1 | 4;
  readonly offset: number | '*';
  readonly pattern: Pattern;
  readonly name: string;
  /** Type required so far (`CL_TYPE_ANY` for any). */
  readonly requiredType: string;
  /** Type assigned on a match. */
  readonly detectedType: string;
  readonly flevel?: FlevelRange;
}

/** Counts of what loaded but is kept only as data here (metadata, phishing lists, bytecode, ...). */
export type AuxiliaryKind =
  | 'cdb'
  | 'crb'
  | 'idb'
  | 'pdb'
  | 'wdb'
  | 'gdb'
  | 'cfg'
  | 'pwdb'
  | 'cbc'
  | 'info'
  | 'hdu'
  | 'hsu'
  | 'mdu'
  | 'msu'
  | 'ndu'
  | 'ldu'
  | 'yara';

/**
 * Receives what a parser reads, one signature at a time, so a million hash lines never
 * become a million retained objects. `pua` is true for the PUA variants (.hdu .ndu ...).
 */
export interface SignatureSink {
  hash(sig: HashSignature, pua: boolean): void;
  /**
   * Optional fast path for the common hash line (no flevel, ASCII name): the digest as ASCII hex at
   * `src[digestAt ..]` and the name at `src[nameStart, nameEnd)`, read straight from the file's bytes
   * so that a million lines make no strings. Parsers use it only after checking every field.
   */
  hashAscii?(
    scope: HashSignature['scope'],
    algo: HashSignature['algo'],
    src: Uint8Array,
    digestAt: number,
    size: number | null,
    nameStart: number,
    nameEnd: number,
    pua: boolean,
    source: SourceRef,
  ): void;
  allow(sig: HashSignature): void;
  body(sig: BodySignature, pua: boolean): void;
  logical(sig: LogicalSignature, pua: boolean): void;
  ignore(rule: IgnoreRule): void;
  fileType(magic: FileTypeMagic): void;
  /** A line of a format kept as data or counted (see AuxiliaryKind). */
  auxiliary(kind: AuxiliaryKind, fields: readonly string[], source: SourceRef): void;
  /** A line skipped because its functionality-level window excludes this engine. */
  skippedByFlevel?(source: SourceRef): void;
  /** A .cvd/.cld/.cud container opened (before its members' signatures arrive). */
  container?(name: string, version: number, builtAt: string, official: boolean): void;
}
