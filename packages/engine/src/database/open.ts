// Opens a compiled database: checks it (format.ts), then builds read-only views over its sections.
// Nothing is copied but the small JSON meta, so workers sharing one SharedArrayBuffer share the tables.
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';
import { Matcher } from '../matcher/index.js';
import type { FileTypeMagic } from '../signatures/types.js';
import type { Database, DatabaseInfo } from './api.js';
import { HASH_INDEXES, type HashIndexKey } from './builder.js';
import { readJsonSection, readSections, type Sections, section } from './format.js';
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
  readonly logicals: readonly LogicalMeta[];
  readonly fileTypes: readonly (Omit<FileTypeMagic, 'pattern'> & { pattern: PatternJson })[];
}

const DIGEST_LENGTH = { md5: 16, sha1: 20, sha256: 32 } as const;

/** A database opened over its serialized bytes. */
export class CompiledDatabase implements Database {
  readonly info: DatabaseInfo;
  readonly names: StringTable;
  readonly hashes: Partial<Record<HashIndexKey, HashIndex>> = {};
  readonly bodyName: Uint32Array;
  readonly bodyTarget: Uint8Array;
  readonly groups: Partial<Record<Group, MatcherGroup>> = {};
  readonly logicals: readonly LogicalMeta[];
  /** Logical signatures to evaluate for every file, per group. */
  readonly alwaysLogicals: Readonly<Record<Group, readonly number[]>>;
  readonly fileTypes: readonly FileTypeMagic[];

  constructor(
    readonly bytes: Uint8Array,
    sections: Sections,
  ) {
    const meta = readJsonSection(sections, 'meta') as Meta;
    this.info = meta.info;
    this.names = new StringTable(sections, 'names');
    for (const key of meta.hashes) {
      if (!(HASH_INDEXES as readonly string[]).includes(key)) throw corrupt(`unknown hash index ${key}`);
      const algo = key.slice(key.indexOf('.') + 1) as keyof typeof DIGEST_LENGTH;
      this.hashes[key as HashIndexKey] = new HashIndex(sections, `hash.${key}`, DIGEST_LENGTH[algo]);
    }
    this.bodyName = section(sections, 'body.name', Uint32Array);
    this.bodyTarget = section(sections, 'body.target', Uint8Array);
    for (const g of GROUPS) {
      const m = meta.matchers[g];
      if (m === undefined) continue;
      const prefix = `m.${g}.`;
      const arrays: Sections = {};
      for (const [name, arr] of Object.entries(sections))
        if (name.startsWith(prefix)) arrays[name.slice(prefix.length)] = arr;
      this.groups[g] = {
        matcher: new Matcher({ arrays, meta: m } as ConstructorParameters<typeof Matcher>[0]),
        ownerKind: section(sections, `${prefix}ownerKind`, Uint8Array),
        ownerRef: section(sections, `${prefix}ownerRef`, Uint32Array),
        ownerSub: section(sections, `${prefix}ownerSub`, Uint8Array),
      };
    }
    this.logicals = meta.logicals;
    const always: Record<Group, number[]> = { raw: [], html: [], text: [] };
    meta.logicals.forEach((l, i) => {
      if (l.always) always[l.group].push(i);
    });
    this.alwaysLogicals = always;
    this.fileTypes = meta.fileTypes.map((f) => ({ ...f, pattern: decodePattern(f.pattern) }));
  }

  /** The display name of a name id. */
  name(id: number): string {
    return this.names.get(id);
  }
}

function corrupt(message: string): VigilError {
  return new VigilError('E_DATABASE_FORMAT', `Cannot open compiled database: ${message}`);
}

/** Checks and opens serialized database bytes (see format.ts for the checks). */
export function openCompiled(bytes: Uint8Array, env: EngineEnv): CompiledDatabase {
  return new CompiledDatabase(bytes, readSections(bytes, env));
}
