// The SignatureSink that compiling uses: hash signatures go straight into compact index builders,
// body and logical signatures are kept (they are few) for the matcher compiler, ignore rules and
// the functionality-level window are applied, and counts are kept for `db info`.
import type {
  AuxiliaryKind,
  BodySignature,
  FileTypeMagic,
  HashSignature,
  IgnoreRule,
  LogicalSignature,
  SignatureSink,
  SourceRef,
} from '../signatures/types.js';
import { HashIndexBuilder } from './hashindex.js';
import { StringTableBuilder } from './strings.js';

/** Kinds counted for `db info` but not signatures (ClamAV's "Known viruses" leaves them out). */
export const NOT_SIGNATURES: ReadonlySet<string> = new Set(['ftm', 'info', 'cfg', 'ign', 'fp']);

/** The hash indexes a database has, by `scope.algo` (allow lists under `allow.algo`). */
export const HASH_INDEXES = [
  'file.md5',
  'file.sha1',
  'file.sha256',
  'section.md5',
  'section.sha1',
  'section.sha256',
  'import.md5',
  'import.sha1',
  'import.sha256',
  'allow.md5',
  'allow.sha1',
  'allow.sha256',
] as const;
export type HashIndexKey = (typeof HASH_INDEXES)[number];

/** Counting kinds and index keys per hash scope, made once (the hash path runs a million times). */
/** Counted as sigtool names them: MD5 file hashes `hdb`, SHA ones `hsb`; sections `mdb`/`msb`. */
const HASH_KIND = {
  file: { md5: 'hdb', sha1: 'hsb', sha256: 'hsb' },
  section: { md5: 'mdb', sha1: 'msb', sha256: 'msb' },
  import: { md5: 'imp', sha1: 'imp', sha256: 'imp' },
} as const;
const PUA_HASH_KIND = {
  file: { md5: 'hdb-pua', sha1: 'hsb-pua', sha256: 'hsb-pua' },
  section: { md5: 'mdb-pua', sha1: 'msb-pua', sha256: 'msb-pua' },
  import: { md5: 'imp-pua', sha1: 'imp-pua', sha256: 'imp-pua' },
} as const;
const INDEX_KEY = {
  file: { md5: 'file.md5', sha1: 'file.sha1', sha256: 'file.sha256' },
  section: { md5: 'section.md5', sha1: 'section.sha1', sha256: 'section.sha256' },
  import: { md5: 'import.md5', sha1: 'import.sha1', sha256: 'import.sha256' },
} as const satisfies Record<string, Record<string, HashIndexKey>>;

export interface KeptBody {
  readonly sig: BodySignature;
  readonly nameId: number;
}
export interface KeptLogical {
  readonly sig: LogicalSignature;
  readonly nameId: number;
}

/** ClamAV prints `.UNOFFICIAL` after names that do not come from a verified official container. */
export function displayName(name: string, source: SourceRef): string {
  return source.official === true ? name : `${name}.UNOFFICIAL`;
}

export class DatabaseBuilder implements SignatureSink {
  readonly names = new StringTableBuilder();
  readonly hashes = new Map<HashIndexKey, HashIndexBuilder>();
  readonly bodies: KeptBody[] = [];
  readonly logicals: KeptLogical[] = [];
  readonly fileTypes: FileTypeMagic[] = [];
  /** Names dropped by .ign/.ign2 rules (compileDatabase reads those files first, as ClamAV does). */
  readonly ignored = new Set<string>();
  readonly counts: Record<string, number> = {};
  /** Signatures per source file. */
  readonly perSource = new Map<string, number>();
  /** The .cvd/.cld/.cud containers read, by file name. */
  readonly containers = new Map<string, { version: number; builtAt: string; official: boolean }>();
  flevelSkips = 0;
  skippedByIgnore = 0;

  private bump(kind: string, source: SourceRef): void {
    this.counts[kind] = (this.counts[kind] ?? 0) + 1;
    if (!NOT_SIGNATURES.has(kind)) this.perSource.set(source.file, (this.perSource.get(source.file) ?? 0) + 1);
  }

  private index(key: HashIndexKey): HashIndexBuilder {
    let b = this.hashes.get(key);
    if (b === undefined) {
      b = new HashIndexBuilder(key.slice(key.indexOf('.') + 1) as 'md5' | 'sha1' | 'sha256');
      this.hashes.set(key, b);
    }
    return b;
  }

  /** False (and counted) for a signature an ignore rule drops. (Parsers skip out-of-level lines.) */
  private admit(name: string): boolean {
    if (this.ignored.has(name)) {
      this.skippedByIgnore++;
      return false;
    }
    return true;
  }

  hash(sig: HashSignature, pua: boolean): void {
    if (!this.admit(sig.name)) return;
    this.bump((pua ? PUA_HASH_KIND : HASH_KIND)[sig.scope][sig.algo], sig.source);
    this.index(INDEX_KEY[sig.scope][sig.algo]).add(
      sig.digest,
      sig.size,
      this.names.add(displayName(sig.name, sig.source)),
    );
  }

  hashAscii(
    scope: HashSignature['scope'],
    algo: HashSignature['algo'],
    src: Uint8Array,
    digestAt: number,
    size: number | null,
    nameStart: number,
    nameEnd: number,
    pua: boolean,
    source: SourceRef,
  ): void {
    if (this.ignored.size > 0 && this.ignored.has(String.fromCharCode(...src.subarray(nameStart, nameEnd)))) {
      this.skippedByIgnore++;
      return;
    }
    this.bump((pua ? PUA_HASH_KIND : HASH_KIND)[scope][algo], source);
    const nameId = this.names.addAscii(src, nameStart, nameEnd, source.official !== true);
    this.index(INDEX_KEY[scope][algo]).addAscii(src, digestAt, size, nameId);
  }

  allow(sig: HashSignature): void {
    this.bump('fp', sig.source);
    this.index(`allow.${sig.algo}`).add(sig.digest, sig.size, this.names.add(sig.name));
  }

  body(sig: BodySignature, pua: boolean): void {
    if (!this.admit(sig.name)) return;
    this.bump(pua ? 'ndb-pua' : 'ndb', sig.source);
    this.bodies.push({ sig, nameId: this.names.add(displayName(sig.name, sig.source)) });
  }

  logical(sig: LogicalSignature, pua: boolean): void {
    if (!this.admit(sig.name)) return;
    this.bump(pua ? 'ldb-pua' : 'ldb', sig.source);
    this.logicals.push({ sig, nameId: this.names.add(displayName(sig.name, sig.source)) });
  }

  ignore(rule: IgnoreRule): void {
    this.bump('ign', rule.source);
    this.ignored.add(rule.name);
  }

  fileType(magic: FileTypeMagic): void {
    this.counts.ftm = (this.counts.ftm ?? 0) + 1;
    this.fileTypes.push(magic);
  }

  skippedByFlevel(): void {
    this.flevelSkips++;
  }

  container(name: string, version: number, builtAt: string, official: boolean): void {
    this.containers.set(name, { version, builtAt, official });
  }

  auxiliary(kind: AuxiliaryKind, _fields: readonly string[], source: SourceRef): void {
    this.bump(kind, source);
  }
}
