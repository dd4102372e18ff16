// compileDatabase: parse every input through the format parsers into a DatabaseBuilder, compile the
// body and logical patterns into one matcher per view, and lay everything out as typed-array
// sections. The result is opened from its own serialized bytes, so a compiled database and one read
// back from disk are the same thing.
import { concatBytes } from '../containers/read.js';
import type { EngineEnv } from '../env.js';
import { VigilError } from '../errors.js';
import { compileMatcher, compilePcre, type MatcherPattern } from '../matcher/index.js';
import type { Diagnostic } from '../signatures/diagnostics.js';
import { formatDiagnostic } from '../signatures/diagnostics.js';
import { parseDatabaseFile } from '../signatures/load.js';
import { type BodySignature, type LogicalExpr, NO_MODIFIERS, type Pattern, type Target } from '../signatures/types.js';
import type { CompileResult, DatabaseInput, LoadOptions } from './api.js';
import { DatabaseBuilder, type KeptLogical, NOT_SIGNATURES } from './builder.js';
import { type Allocate, jsonSection, readOwnSections, type Sections, writeSections } from './format.js';
import { encodePattern } from './json.js';
import { GROUPS, type Group, type LogicalMeta, type SubsigMeta } from './layout.js';
import { CompiledDatabase } from './open.js';

/** Which view a target's patterns are matched against (HTML and text signatures see normalised data). */
export function groupOfTarget(target: Target | undefined): Group {
  if (target === 3) return 'html';
  if (target === 7) return 'text';
  return 'raw';
}

/** ClamAV reads ignore lists and file-type magic before the signatures they affect. */
function loadOrder(name: string): number {
  const ext = name.slice(name.lastIndexOf('.') + 1).toLowerCase();
  if (ext === 'ign' || ext === 'ign2') return 0;
  if (ext === 'ftm' || ext === 'cfg') return 1;
  return 2;
}

class GroupPatterns {
  readonly patterns: MatcherPattern[] = [];
  /** Per pattern id: 0 for a body signature, 1 for a logical subsignature. */
  readonly ownerKind: number[] = [];
  /** Per pattern id: the body index, or the logical index. */
  readonly ownerRef: number[] = [];
  /** Per pattern id: the subsignature index (0 for bodies). */
  readonly ownerSub: number[] = [];

  add(p: Omit<MatcherPattern, 'id'>, kind: number, ref: number, sub: number): number {
    const id = this.patterns.length;
    this.patterns.push({ ...p, id });
    this.ownerKind.push(kind);
    this.ownerRef.push(ref);
    this.ownerSub.push(sub);
    return id;
  }
}

/**
 * Whether ClamAV matches this body signature with its Boyer-Moore matcher, which runs before its
 * Aho-Corasick one (readdb.c): a pattern of literal bytes only, in the generic or PE target (the
 * others are Aho-Corasick only), and for PE an offset that names one position. Without --allmatch,
 * that decides which of two matching signatures names the file.
 */
function boyerMoore(sig: BodySignature): boolean {
  const [node, ...rest] = sig.pattern;
  if (rest.length > 0 || node?.t !== 'run' || !node.run.mask.every((m) => m === 0xff)) return false;
  const o = sig.offset;
  if (o.kind === 'version-info' || o.kind === 'macro') return false;
  if (sig.target === 0) return true;
  return sig.target === 1 && o.kind !== 'any' && !('shift' in o && o.shift > 0);
}

/**
 * The longest part of a pattern (the stretch between unbounded or ranged gaps) as ClamAV counts it
 * for `maxpatlen`, by which its 128 KiB scan windows overlap.
 */
function longestPart(pattern: Pattern): number {
  let longest = 0;
  let part = 0;
  for (const n of pattern) {
    if (n.t === 'run') part += n.run.bytes.length;
    else if (n.t === 'alt') part += Math.max(...n.options.map((o) => o.bytes.length));
    else if (n.t === 'gap' && n.min === n.max && n.max < 128) part += n.max;
    else if (n.t === 'gap') part = 0;
    longest = Math.max(longest, part);
  }
  return longest;
}

function logicalMeta(kept: KeptLogical, index: number, groups: Record<Group, GroupPatterns>): LogicalMeta {
  const { sig, nameId } = kept;
  const group = groupOfTarget(sig.tdb.target);
  const subsigs = sig.subsigs.map((s, j): SubsigMeta => {
    if (s.kind === 'pattern') {
      return {
        k: 'p',
        id: groups[group].add({ pattern: s.pattern, offset: s.offset, modifiers: s.modifiers }, 1, index, j),
      };
    }
    if (s.kind === 'pcre') return { k: 'pcre', trigger: s.trigger, offset: s.offset, regex: s.regex, flags: s.flags };
    if (s.kind === 'macro') return { k: 'never' };
    return { k: 'bc', compare: s.compare };
  });
  return { nameId, group, tdb: sig.tdb, expr: sig.expr, subsigs, always: trueWithNoMatches(sig.expr) };
}

/** True when the expression holds with every count zero: such signatures are evaluated for every file. */
function trueWithNoMatches(e: LogicalExpr): boolean {
  switch (e.op) {
    case 'sub':
      return false;
    case 'and':
      return e.args.every(trueWithNoMatches);
    case 'or':
      return e.args.some(trueWithNoMatches);
    case 'count': {
      const c = e.cmp === '=' ? e.count === 0 : e.cmp === '<' ? e.count > 0 : false;
      return c && (e.distinct === undefined || (e.cmp === '<' ? e.distinct > 0 : e.distinct === 0));
    }
  }
}

function buildSections(b: DatabaseBuilder, inputs: readonly DatabaseInput[]): Sections {
  const groups = { raw: new GroupPatterns(), html: new GroupPatterns(), text: new GroupPatterns() };
  const bodyName = new Uint32Array(b.bodies.length);
  const bodyTarget = new Uint8Array(b.bodies.length);
  const bodyBm = new Uint8Array(b.bodies.length);
  /** Per target, the longest pattern part of its body and logical signatures. */
  const maxPatternLength: number[] = [];
  const longer = (target: number, p: Pattern) => {
    maxPatternLength[target] = Math.max(maxPatternLength[target] ?? 0, longestPart(p));
  };
  b.bodies.forEach(({ sig, nameId }, i) => {
    bodyName[i] = nameId;
    bodyTarget[i] = sig.target;
    bodyBm[i] = boyerMoore(sig) ? 1 : 0;
    longer(sig.target, sig.pattern);
    groups[groupOfTarget(sig.target)].add(
      { pattern: sig.pattern, offset: sig.offset, modifiers: NO_MODIFIERS, firstOnly: true },
      0,
      i,
      0,
    );
  });
  const logicals = b.logicals.map((kept, i) => logicalMeta(kept, i, groups));
  for (const { sig } of b.logicals) {
    for (const s of sig.subsigs) if (s.kind === 'pattern') longer(sig.tdb.target ?? 0, s.pattern);
  }
  let sections: Sections = {
    ...b.names.toSections('names'),
    'body.name': bodyName,
    'body.target': bodyTarget,
    'body.bm': bodyBm,
  };
  for (const [key, builder] of b.hashes) sections = { ...sections, ...builder.toSections(`hash.${key}`) };
  const matcherMeta: Record<string, unknown> = {};
  for (const g of GROUPS) {
    const gp = groups[g];
    if (gp.patterns.length === 0) continue;
    const tables = compileMatcher(gp.patterns);
    for (const [name, arr] of Object.entries(tables.arrays)) sections[`m.${g}.${name}`] = arr;
    matcherMeta[g] = tables.meta;
    sections[`m.${g}.ownerKind`] = Uint8Array.from(gp.ownerKind);
    sections[`m.${g}.ownerRef`] = Uint32Array.from(gp.ownerRef);
    sections[`m.${g}.ownerSub`] = Uint8Array.from(gp.ownerSub);
  }
  const total = Object.entries(b.counts).reduce((a, [k, n]) => (NOT_SIGNATURES.has(k) ? a : a + n), 0);
  sections.meta = jsonSection({
    info: {
      counts: { ...b.counts, skippedByFlevel: b.flevelSkips, skippedByIgnore: b.skippedByIgnore },
      total,
      sources: inputs.map((i) => {
        const c = b.containers.get(i.name);
        const base = { name: i.name, signatures: sumSource(b, i.name) };
        return c === undefined ? base : { ...base, version: c.version, builtAt: c.builtAt, official: c.official };
      }),
    },
    hashes: [...b.hashes.keys()],
    matchers: matcherMeta,
    maxPatternLength: Array.from(maxPatternLength, (n) => n ?? 0),
    fileTypes: b.fileTypes.map((f) => ({ ...f, pattern: encodePattern(f.pattern) })),
  });
  // Each logical signature is its own JSON text, parsed by a scanning thread when a file first
  // needs it (see open.ts): a thread holds the few a scan touches, not all of them as objects.
  const enc = new TextEncoder();
  const texts = logicals.map((l) => enc.encode(JSON.stringify(l)));
  const at = new Uint32Array(texts.length + 1);
  texts.forEach((t, i) => {
    at[i + 1] = (at[i] as number) + t.length;
  });
  const always: Record<Group, number[]> = { raw: [], html: [], text: [] };
  logicals.forEach((l, i) => {
    if (l.always) always[l.group].push(i);
  });
  sections.logicals = concatBytes(texts);
  sections['logicals.at'] = at;
  sections['logicals.always'] = jsonSection(always);
  return sections;
}

function sumSource(b: DatabaseBuilder, name: string): number {
  let n = 0;
  for (const [file, count] of b.perSource) if (file === name || file.startsWith(`${name}/`)) n += count;
  return n;
}

/**
 * Subsignatures that load but cannot match here, each reported as a warning rather than skipped
 * silently: PCREs JavaScript cannot run (possessive quantifiers, atomic groups, `\A`, `\Z`, ...),
 * and macro subsignatures (`${min-max}group$`).
 */
function unsupportedSubsigs(b: DatabaseBuilder): Diagnostic[] {
  const out: Diagnostic[] = [];
  for (const { sig } of b.logicals) {
    sig.subsigs.forEach((s, j) => {
      let why: string | undefined;
      if (s.kind === 'pcre' && compilePcre(s.regex, s.flags) === null) {
        why = `(PCRE /${s.regex}/) cannot run as a JavaScript regular expression`;
      } else if (s.kind === 'macro') {
        why = 'is a macro subsignature, which is not supported';
      }
      if (why === undefined) return;
      const message = `${sig.name}: subsignature ${j} ${why}; it never matches`;
      out.push({ severity: 'warning', code: 'W001', file: sig.source.file, line: sig.source.line, column: 0, message });
    });
  }
  return out;
}

/** Parses and compiles signature files. Throws E_SIGNATURE listing every bad line when any is bad. */
export function compileDatabase(
  inputs: readonly DatabaseInput[],
  env: EngineEnv,
  options: LoadOptions,
  allocate?: Allocate,
): CompileResult {
  const ordered = [...inputs].sort((a, b) => loadOrder(a.name) - loadOrder(b.name));
  const builder = new DatabaseBuilder();
  const diagnostics: Diagnostic[] = [];
  for (const input of ordered) parseDatabaseFile(input, builder, { env, detectPua: options.detectPua, diagnostics });
  const errors = diagnostics.filter((d) => d.severity === 'error');
  if (errors.length > 0) {
    const shown = errors.slice(0, 20).map(formatDiagnostic).join('\n');
    const more = errors.length > 20 ? `\n... and ${errors.length - 20} more` : '';
    throw new VigilError('E_SIGNATURE', `Malformed database: ${errors.length} bad line(s)\n${shown}${more}`, {
      details: { diagnostics },
    });
  }
  diagnostics.push(...unsupportedSubsigs(builder));
  const bytes = writeSections(buildSections(builder, ordered), env, allocate);
  return { database: new CompiledDatabase(bytes, readOwnSections(bytes)), diagnostics };
}
