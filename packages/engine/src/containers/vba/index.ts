// VBA macros in a compound file, as ClamAV 1.4 reaches them, for the OLE2 handler to yield beside
// the raw streams. ClamAV looks for them once the file has a `_VBA_PROJECT`, `WordDocument`,
// `PowerPoint Document` or `\x01Ole10Native` stream, in two ways:
// - every `dir` stream gives a project text (project.ts): REM lines and each module's normalised
//   source, scanned once as a whole with the generic signatures (and hash signatures), member
//   `vba_project`, typed CL_TYPE_SCRIPT (target 0 only, no text normalisation);
// - every `_VBA_PROJECT` stream that ClamAV's heuristic walk can read (legacy.ts) lists modules
//   whose raw decompressed source is scanned with the generic and the OLE2 (target 2) signatures:
//   members named by module, typed CL_TYPE_MSOLE2 (the OLE2 handler passes over them).
// Order, as ClamAV's: modules listed by a `_VBA_PROJECT` at the top level, then the project texts,
// then the raw streams (the handler's), then modules listed by `_VBA_PROJECT` streams in storages.
// Word 6/95 macros (inside `WordDocument`) are not extracted here.

import type { ExtractContext, Member } from '../types.js';
import { type Decompressed, decompressVba } from './decompress.js';
import { legacyModules } from './legacy.js';
import { DECODE_BUDGET_FACTOR } from './limits.js';
import { type Decoder, projectText } from './project.js';
import { type StreamNode, walkTree } from './tree.js';

/** What the OLE2 handler lends: its directory and a reader for a stream by directory index. */
export interface CompoundView {
  /** The directory stream (128-byte entries). */
  readonly dir: Uint8Array;
  /** A stream's data, as the handler reads it (at most `ctx.maxMemberSize` bytes). */
  stream(index: number): Uint8Array;
}

/** The VBA members of one compound file, in two runs around the handler's raw streams. */
export interface VbaMembers {
  /** What ClamAV scans before the raw streams. */
  before(): Generator<Member>;
  /** What ClamAV scans after them. */
  after(): Generator<Member>;
}

/** Stream names (ClamAV's keys) that make ClamAV look for VBA. */
const TRIGGERS = new Set(['_vba_project', 'worddocument', 'powerpoint document', '_1_ole10native']);

/** The VBA members of the compound file seen through `view`, or undefined when ClamAV looks for none. */
export function vbaMembers(view: CompoundView, ctx: ExtractContext): VbaMembers | undefined {
  const tree = walkTree(view.dir);
  if (!tree.streams.some((s) => s.key !== undefined && TRIGGERS.has(s.key))) return undefined;
  if (tree.loopAt !== undefined) ctx.broken(`the directory tree loops at entry ${tree.loopAt}`);
  // What ClamAV writes out and can find by name: streams with a name of at most 32 characters.
  const files = tree.streams.filter((s) => s.extracted);
  const named = (key: string) => files.filter((s) => s.key === key);
  const siblings = (of: StreamNode, key: string) => named(key).filter((s) => s.parent === of.parent);
  const legacy = (top: boolean) => named('_vba_project').filter((s) => (s.parent === 0) === top);
  const w: Walk = { view, ctx, named, siblings, decode: budgeted(ctx) };
  return {
    *before() {
      for (const p of legacy(true)) yield* legacyProject(p, w);
      // ClamAV goes through the `dir` streams from the last found to the first.
      for (const d of named('dir').reverse()) yield* project(d, w);
    },
    *after() {
      for (const p of legacy(false)) yield* legacyProject(p, w);
    },
  };
}

/** A decoder sharing one budget for the whole file (see DECODE_BUDGET_FACTOR). */
function budgeted(ctx: ExtractContext): Decoder {
  let left = ctx.maxMemberSize * DECODE_BUDGET_FACTOR;
  return (stream, offset) => {
    const max = Math.min(ctx.maxMemberSize, left);
    const r: Decompressed = decompressVba(stream, offset, max);
    left -= r.status === 'ok' ? r.data.length : r.status === 'failed' ? r.spent : max;
    return r;
  };
}

interface Walk {
  readonly view: CompoundView;
  readonly ctx: ExtractContext;
  readonly named: (key: string) => StreamNode[];
  readonly siblings: (of: StreamNode, key: string) => StreamNode[];
  readonly decode: Decoder;
}

/** The project text of one `dir` stream, unless ClamAV would drop it. */
function* project(dir: StreamNode, w: Walk): Generator<Member> {
  const { ctx, view } = w;
  const name = 'vba_project';
  const decoded = w.decode(view.stream(dir.index), 0);
  if (decoded.status === 'over-limit') return ctx.tooBig(name, undefined);
  if (decoded.status === 'failed') return ctx.broken(`a VBA dir stream: ${decoded.why}`);
  const lookup = (key: string) => w.siblings(dir, key).map((s) => view.stream(s.index));
  const text = projectText(decoded.data, { lookup, max: ctx.maxMemberSize, decode: w.decode });
  if (text.status === 'too-big') return ctx.tooBig(name, undefined);
  if (text.status === 'broken') return ctx.broken(`a VBA project, dropped as ClamAV drops it: ${text.why}`);
  yield { name, data: text.text, type: 'CL_TYPE_SCRIPT', embedded: true };
}

/** The modules a `_VBA_PROJECT` stream lists, each source from every stream of its name beside it. */
function* legacyProject(vbaProject: StreamNode, w: Walk): Generator<Member> {
  const { ctx, view } = w;
  const listed = legacyModules(view.stream(vbaProject.index), (key) => w.named(key).length > 0);
  if (listed.status !== 'ok') return;
  for (const m of listed.modules) {
    for (const s of w.siblings(vbaProject, m.key)) {
      const source = w.decode(view.stream(s.index), m.offset);
      if (source.status === 'over-limit') ctx.tooBig(m.key, undefined);
      else if (source.status === 'ok') yield { name: m.key, data: source.data, type: 'CL_TYPE_MSOLE2', embedded: true };
    }
  }
}
