// Opens a compiled database: checks it (format.ts), then builds read-only views over its sections.
// Nothing is copied but the small JSON meta, so workers sharing one SharedArrayBuffer share the tables.
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';
import { Matcher } from '../matcher/index.js';
import type { FileTypeMagic } from '../signatures/types.js';
import type { Database, DatabaseInfo } from './api.js';
import { HASH_INDEXES, type HashIndexKey } from './builder.js';
import {
  type OpenedSections,
  PAGE_SIZE,
  type PageSource,
  readJsonSection,
  readSections,
  type Sections,
  section,
} from './format.js';
import { HashIndex } from './hashindex.js';
import { decodePattern, type PatternJson } from './json.js';
import { GROUPS, type Group, type LogicalMeta } from './layout.js';
import { StringTable } from './strings.js';

/** The patterns of one view and who owns each pattern id. */
export interface MatcherGroup {
  readonly matcher: Matcher;
  readonly ownerKind: Uint8Array;
  readonly ownerRef: Uint32Array;
  readonly ownerSub: Uint8Array;
}

interface Meta {
  readonly info: DatabaseInfo;
  readonly hashes: readonly string[];
  readonly matchers: Record<string, unknown>;
  readonly maxPatternLength: readonly number[];
  readonly fileTypes: readonly (Omit<FileTypeMagic, 'pattern'> & { pattern: PatternJson })[];
}

const DIGEST_LENGTH = { md5: 16, sha1: 20, sha256: 32 } as const;
const UTF8 = new TextDecoder();

/**
 * A database opened over its serialized bytes. What only scanning needs (the matchers, the logical
 * signatures) is built on first use, so a thread that only reports counts (the CLI's main thread
 * when workers scan) does not hold a second copy of them.
 */
export class CompiledDatabase implements Database {
  readonly info: DatabaseInfo;
  readonly names: StringTable;
  readonly hashes: Partial<Record<HashIndexKey, HashIndex>> = {};
  readonly bodyName: Uint32Array;
  readonly bodyTarget: Uint8Array;
  /** Per body signature: 1 when ClamAV matches it with Boyer-Moore, ahead of Aho-Corasick. */
  readonly bodyBm: Uint8Array;
  readonly fileTypes: readonly FileTypeMagic[];
  private readonly meta: Meta;
  private built?: {
    readonly groups: Partial<Record<Group, MatcherGroup>>;
    readonly alwaysLogicals: Readonly<Record<Group, readonly number[]>>;
  };

  private readonly sections: Sections;
  private readonly parsedLogicals: (LogicalMeta | undefined)[] = [];

  constructor(
    /** The resident part of the file, or all of it. */
    readonly bytes: Uint8Array,
    private readonly opened: OpenedSections,
  ) {
    const sections = opened.sections;
    this.sections = sections;
    const meta = readJsonSection(sections, 'meta') as Meta;
    this.meta = meta;
    this.info = meta.info;
    this.names = new StringTable(sections, 'names');
    for (const key of meta.hashes) {
      if (!(HASH_INDEXES as readonly string[]).includes(key)) throw corrupt(`unknown hash index ${key}`);
      const algo = key.slice(key.indexOf('.') + 1) as keyof typeof DIGEST_LENGTH;
      this.hashes[key as HashIndexKey] = new HashIndex(sections, opened.paged, `hash.${key}`, DIGEST_LENGTH[algo]);
    }
    this.bodyName = section(sections, 'body.name', Uint32Array);
    this.bodyTarget = section(sections, 'body.target', Uint8Array);
    this.bodyBm = section(sections, 'body.bm', Uint8Array);
    this.fileTypes = meta.fileTypes.map((f) => ({ ...f, pattern: decodePattern(f.pattern) }));
  }

  private build(): NonNullable<CompiledDatabase['built']> {
    if (this.built !== undefined) return this.built;
    const groups: Partial<Record<Group, MatcherGroup>> = {};
    for (const g of GROUPS) {
      const m = this.meta.matchers[g];
      if (m === undefined) continue;
      const prefix = `m.${g}.`;
      const arrays: Sections = {};
      for (const [name, arr] of Object.entries(this.sections))
        if (name.startsWith(prefix)) arrays[name.slice(prefix.length)] = arr;
      groups[g] = {
        matcher: new Matcher({ arrays, meta: m } as ConstructorParameters<typeof Matcher>[0]),
        ownerKind: section(this.sections, `${prefix}ownerKind`, Uint8Array),
        ownerRef: section(this.sections, `${prefix}ownerRef`, Uint32Array),
        ownerSub: section(this.sections, `${prefix}ownerSub`, Uint8Array),
      };
    }
    const alwaysLogicals = readJsonSection(this.sections, 'logicals.always') as Record<Group, number[]>;
    this.built = { groups, alwaysLogicals };
    return this.built;
  }

  /** The matcher of each view group. */
  get groups(): Partial<Record<Group, MatcherGroup>> {
    return this.build().groups;
  }

  /** Logical signature `i`, parsed from its JSON text the first time a scan needs it. */
  logical(i: number): LogicalMeta {
    const have = this.parsedLogicals[i];
    if (have !== undefined) return have;
    const at = section(this.sections, 'logicals.at', Uint32Array);
    const text = section(this.sections, 'logicals', Uint8Array).subarray(at[i], at[i + 1]);
    let l: LogicalMeta;
    try {
      l = JSON.parse(UTF8.decode(text)) as LogicalMeta;
    } catch (cause) {
      throw corrupt(`logical signature ${i} is not valid JSON: ${String(cause)}`);
    }
    this.parsedLogicals[i] = l;
    return l;
  }

  /** Logical signatures to evaluate for every file, per group. */
  get alwaysLogicals(): Readonly<Record<Group, readonly number[]>> {
    return this.build().alwaysLogicals;
  }

  /** The longest pattern part of the signatures for `target` (ClamAV's maxpatlen of its matcher). */
  maxPatternLength(target: number): number {
    return this.meta.maxPatternLength[target] ?? 0;
  }

  /** The display name of a name id. */
  name(id: number): string {
    return this.names.get(id);
  }

  /** Reads every page of the paged sections, checking each (opening checks only the resident part). */
  checkPages(): void {
    for (const p of Object.values(this.opened.paged)) for (let i = 0; i < p.pageCount; i++) p.page(i);
  }

  /** The whole file: the bytes it was opened from, with its paged sections read back (and checked). */
  serialize(): Uint8Array {
    if (this.bytes.length === this.opened.totalLength) return this.bytes;
    const out = new Uint8Array(this.opened.totalLength);
    out.set(this.bytes);
    for (const p of Object.values(this.opened.paged)) {
      for (let i = 0; i < p.pageCount; i++) out.set(p.page(i), p.at + i * PAGE_SIZE);
    }
    return out;
  }
}

function corrupt(message: string): VigilError {
  return new VigilError('E_DATABASE_FORMAT', `Cannot open compiled database: ${message}`);
}

/**
 * Checks and opens serialized database bytes (see format.ts for the checks): the whole file, or
 * its resident part with `pages` to read the rest from.
 */
export function openCompiled(bytes: Uint8Array, env: EngineEnv, pages?: PageSource): CompiledDatabase {
  return new CompiledDatabase(bytes, readSections(bytes, env, pages));
}
