// One view's matcher pass and what follows from it: body signature detections (target checked) and
// the evaluation of the view's logical signatures (target description, expression, PCRE, byte compare).
import type { Group, LogicalMeta } from '../database/layout.js';
import type { MatcherGroup } from '../database/open.js';
import { targetOfType } from '../filetypes/recognise.js';
import type { FileFacts } from '../filetypes/types.js';
import { evaluateByteCompare, evaluateLogical, type MatchSet, runPcre } from '../matcher/index.js';
import type { Range, TargetDescription } from '../signatures/types.js';
import type { ScanRun } from './scanner.js';

const inRange = (r: Range | undefined, v: number | undefined): boolean =>
  r === undefined || (v !== undefined && r.min <= v && v <= r.max);

/** Does the file meet the target description block? (Container and Intermediates need a parent.) */
export function tdbHolds(tdb: TargetDescription, facts: FileFacts, container: string | undefined): boolean {
  if (tdb.target !== undefined && tdb.target !== 0 && targetOfType(facts.type) !== tdb.target) return false;
  if (!inRange(tdb.fileSize, facts.size)) return false;
  if (!inRange(tdb.entryPoint, facts.exe?.entryPoint)) return false;
  if (!inRange(tdb.numberOfSections, facts.exe?.sections.length)) return false;
  if (tdb.container !== undefined && tdb.container !== container) return false;
  if (tdb.intermediates !== undefined && container === undefined) return false;
  // Icon groups need the .idb icon matcher, which is not built: such signatures never match.
  if (tdb.iconGroup1 !== undefined || tdb.iconGroup2 !== undefined) return false;
  return true;
}

function logicalHolds(l: LogicalMeta, ms: MatchSet, data: Uint8Array, facts: FileFacts): boolean {
  const counts = new Array<number>(l.subsigs.length).fill(0);
  // Patterns first: PCRE triggers and byte compares refer to them.
  l.subsigs.forEach((s, j) => {
    if (s.k === 'p') counts[j] = ms.count(s.id);
  });
  const countOf = (j: number) => counts[j] ?? 0;
  l.subsigs.forEach((s, j) => {
    if (s.k === 'pcre' && evaluateLogical(s.trigger, countOf)) counts[j] = runPcre(s, data, facts);
    if (s.k === 'bc') {
      const ref = l.subsigs[s.compare.subsig];
      const offsets = ref?.k === 'p' ? ms.offsets(ref.id) : [];
      counts[j] = evaluateByteCompare(s.compare, data, offsets) ? 1 : 0;
    }
  });
  return evaluateLogical(l.expr, countOf);
}

/** The view being matched: the file's facts, and whether the bytes are a normalised form of it. */
export interface View {
  readonly facts: FileFacts;
  readonly normalised: boolean;
}

/** ClamAV scans a file in windows of this size, overlapping by its matchers' longest pattern part. */
const SCAN_WINDOW = 0x20000;

/** A body signature's match, with what orders it as ClamAV would meet it. */
interface BodyHit {
  readonly body: number;
  readonly offset: number;
  /** Target-specific (0) or generic (1) signature: ClamAV runs the target's matcher first. */
  readonly generic: number;
  /** Boyer-Moore (0) or Aho-Corasick (1): ClamAV runs Boyer-Moore first in each window. */
  readonly ac: number;
}

/**
 * Runs the matchers of `groups` over one view of a file and reports what matched, in ClamAV's order:
 * body signatures, then `afterBodies` (the file's hashes, on the raw view), then logical signatures,
 * target-specific before generic. On the raw view a body signature applies when its target is 0 or
 * the file's; on a normalised view, raw-group signatures apply only when generic (target 0), and
 * html/text-group signatures always.
 *
 * Without --allmatch the one body signature reported is the one ClamAV meets first: it scans in
 * 128 KiB windows, and in each runs the target's matcher before the generic one, Boyer-Moore before
 * Aho-Corasick. Within one of those the earliest start wins (ClamAV's Aho-Corasick meets a pattern
 * split at `*` when its last part matches; this orders it by its first).
 */
export function matchView(
  run: ScanRun,
  groups: readonly Group[],
  data: Uint8Array,
  view: View,
  afterBodies?: () => void,
): void {
  const { facts, normalised } = view;
  const fileTarget = targetOfType(facts.type);
  const { db } = run;
  const passes: { group: Group; g: MatcherGroup; ms: MatchSet }[] = [];
  const hits: BodyHit[] = [];
  for (const group of groups) {
    const g = db.groups[group];
    if (g === undefined) continue;
    const ms = g.matcher.scan(data, facts);
    passes.push({ group, g, ms });
    for (const id of ms.ids()) {
      if (g.ownerKind[id] !== 0) continue;
      const body = g.ownerRef[id] as number;
      const t = db.bodyTarget[body] as number;
      if (group === 'raw' && t !== 0 && (normalised || t !== fileTarget)) continue;
      const offset = ms.offsets(id)[0] ?? 0;
      hits.push({ body, offset, generic: group === 'raw' && t === 0 ? 1 : 0, ac: db.bodyBm[body] === 1 ? 0 : 1 });
    }
  }
  const report = (h: BodyHit) => run.report(db.name(db.bodyName[h.body] as number), 'body', h.offset);
  if (run.options.allMatch) {
    hits.forEach(report);
  } else if (hits.length > 0) {
    const specific = groups.includes('html') ? 3 : groups.includes('text') ? 7 : fileTarget;
    const overlap = Math.max(db.maxPatternLength(specific), db.maxPatternLength(0));
    const window = (offset: number) =>
      offset < SCAN_WINDOW ? 0 : Math.floor((offset - SCAN_WINDOW) / (SCAN_WINDOW - overlap)) + 1;
    const key = (h: BodyHit) => [window(h.offset), h.generic, h.ac, h.offset, h.body];
    const first = hits.reduce((best, h) => (compareKeys(key(h), key(best)) < 0 ? h : best));
    report(first);
  }
  if (run.done) return;
  afterBodies?.();
  if (run.done) return;
  const logicals: { li: number; ms: MatchSet; generic: number }[] = [];
  for (const { group, g, ms } of passes) {
    const touched = new Set<number>(db.alwaysLogicals[group]);
    for (const id of ms.ids()) if (g.ownerKind[id] === 1) touched.add(g.ownerRef[id] as number);
    for (const li of touched) {
      const target = db.logical(li).tdb.target ?? 0;
      logicals.push({ li, ms, generic: target === 0 ? 1 : 0 });
    }
  }
  logicals.sort((a, b) => a.generic - b.generic || a.li - b.li);
  for (const { li, ms } of logicals) {
    const l = db.logical(li);
    if (!tdbHolds(l.tdb, facts, run.layer.container) || !logicalHolds(l, ms, data, facts)) continue;
    run.report(db.name(l.nameId), 'logical');
    if (run.done) return;
  }
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i++) if (a[i] !== b[i]) return (a[i] as number) - (b[i] as number);
  return 0;
}
