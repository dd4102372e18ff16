// One view's matcher pass and what follows from it: body signature detections (target checked) and
// the evaluation of the view's logical signatures (target description, expression, PCRE, byte compare).
import type { Group, LogicalMeta } from '../database/layout.js';
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

/**
 * Runs the group's matcher over `data` and reports what matched. On the raw view a body signature
 * applies when its target is 0 or the file's; on a normalised view, raw-group signatures apply only
 * when generic (target 0), and html/text-group signatures always.
 */
export function evaluateGroup(run: ScanRun, group: Group, data: Uint8Array, view: View): void {
  const g = run.db.groups[group];
  if (g === undefined) return;
  const { facts } = view;
  const fileTarget = targetOfType(facts.type);
  const bodyOk = (id: number) => {
    const t = run.db.bodyTarget[g.ownerRef[id] as number] as number;
    if (group !== 'raw') return true;
    return t === 0 || (!view.normalised && t === fileTarget);
  };
  const stop = run.options.allMatch ? undefined : (id: number) => g.ownerKind[id] === 0 && bodyOk(id);
  const ms = g.matcher.scan(data, facts, stop === undefined ? {} : { stop });
  const touched = new Set<number>(run.db.alwaysLogicals[group]);
  for (const id of ms.ids()) {
    if (g.ownerKind[id] === 1) {
      touched.add(g.ownerRef[id] as number);
    } else if (bodyOk(id)) {
      const offset = ms.offsets(id)[0];
      const name = run.db.name(run.db.bodyName[g.ownerRef[id] as number] as number);
      run.report(name, 'body', offset);
    }
  }
  if (run.done) return;
  for (const li of [...touched].sort((a, b) => a - b)) {
    const l = run.db.logicals[li] as LogicalMeta;
    if (!tdbHolds(l.tdb, facts, run.layer.container) || !logicalHolds(l, ms, data, facts)) continue;
    run.report(run.db.name(l.nameId), 'logical');
    if (run.done) return;
  }
}
