// The scan pipeline for one input, layer by layer: recognise the type, read executable facts, run
// one matcher pass per view (raw bytes, normalised HTML, normalised text) with the logical
// signatures, PE section hashes, whole-file hashes, then unpack the layer through the container
// registry and scan each member the same way, within the limits; last, the allow list. This file
// only orchestrates.
import { type ByteSource, bytesSource } from '../bytesource.js';
import { handlersFor } from '../containers/registry.js';
import type { ContainerFamily, ContainerHandler, ExtractContext, Member } from '../containers/types.js';
import type { Database } from '../database/api.js';
import type { HashIndexKey } from '../database/builder.js';
import { CompiledDatabase } from '../database/open.js';
import type { EngineEnv, HashAlgo } from '../env.js';
import { VigilError } from '../errors.js';
import type { FileFacts, FileType } from '../filetypes/types.js';
import { findEmbedded } from './embedded.js';
import { describeFile, normalisedViews } from './facts.js';
import { matchView } from './logical.js';
import type { ScanOptions } from './options.js';
import type { Detection, LimitHit, ScanResult } from './types.js';

/** Scans byte sources against one database. Cheap to create; holds no per-file state between calls. */
export interface Scanner {
  /** Scans `source`; `name` (its file name) names what is extracted from it, e.g. `x.gz` → `x`. */
  scan(source: ByteSource, options: ScanOptions, name?: string): ScanResult;
}

const ALGOS: readonly HashAlgo[] = ['md5', 'sha1', 'sha256'];

/** Inputs this small are not scanned, as in ClamAV. */
const SMALL_DATA = 5;

/** Where the scan is: a file, or a member at some depth inside it, with that layer's own digests. */
interface Layer {
  /** Member names from the input down to this layer; empty for the input itself. */
  readonly path: readonly string[];
  /** The type of the container this layer came out of. */
  readonly container: FileType | undefined;
  readonly depth: number;
  readonly digests: Map<string, Uint8Array>;
  /** Found inside its parent's bytes (an SFX archive, an appended installer): not searched again. */
  readonly embedded: boolean;
}

/** The state of one input's scan: what was found, what was spent, and whether to go on. */
export class ScanRun {
  readonly detections: Detection[] = [];
  readonly limitsHit: LimitHit[] = [];
  readonly warnings: string[] = [];
  readonly families: ReadonlySet<ContainerFamily>;
  /** Bytes of every layer scanned so far (MaxScanSize). */
  bytesScanned = 0;
  /** Members extracted so far (MaxFiles). */
  members = 0;
  layer: Layer = { path: [], container: undefined, depth: 0, digests: new Map(), embedded: false };
  private readonly started = Date.now();

  constructor(
    readonly db: CompiledDatabase,
    readonly env: EngineEnv,
    readonly options: ScanOptions,
  ) {
    const o = options;
    const on: [ContainerFamily, boolean][] = [
      ['archive', o.scanArchive],
      ['mail', o.scanMail],
      ['html', o.scanHtml],
      ['pdf', o.scanPdf],
      ['ole2', o.scanOle2],
      ['pe', o.scanPe],
    ];
    this.families = new Set(on.filter(([, yes]) => yes).map(([f]) => f));
  }

  /** True once a detection ends the scan (without --allmatch). */
  get done(): boolean {
    return !this.options.allMatch && this.detections.length > 0;
  }

  /** True once MaxScanTime has passed. */
  get outOfTime(): boolean {
    return this.options.maxScanTime > 0 && Date.now() - this.started > this.options.maxScanTime;
  }

  /** Records a detection in the current layer. */
  report(name: string, kind: Detection['kind'], offset?: number): void {
    const path = this.layer.path;
    const key = path.join('//');
    if (this.detections.some((x) => x.name === name && x.path.join('//') === key)) return;
    this.detections.push({ name, kind, path, ...(offset === undefined ? {} : { offset }) });
  }

  /** Bytes a member may decode to at most now: MaxFileSize, and what MaxScanSize leaves. */
  room(): number {
    return Math.max(0, Math.min(this.options.maxFileSize, this.options.maxScanSize - this.bytesScanned));
  }

  /** A member not scanned because it passes `room()`: MaxFileSize when it alone passes that. */
  tooBig(path: readonly string[], size: number | undefined): void {
    const o = this.options;
    const binding = o.maxFileSize <= o.maxScanSize - this.bytesScanned ? 'MaxFileSize' : 'MaxScanSize';
    this.limit(size === undefined ? binding : size > o.maxFileSize ? 'MaxFileSize' : 'MaxScanSize', path);
  }

  /** Records a limit that stopped part of the scan, at `path`; an alert with --alert-exceeds-max. */
  limit(limit: LimitHit['limit'], path: readonly string[] = this.layer.path): void {
    const value = limitValue(this.options, limit);
    const key = path.join('//');
    if (this.limitsHit.some((l) => l.limit === limit && l.path.join('//') === key)) return;
    this.limitsHit.push({ limit, value, path });
    if (this.options.alertExceedsMax) this.report(`Heuristics.Limits.Exceeded.${limit}`, 'heuristic');
  }

  /** The digest of `data`, computed once per algorithm and key in the current layer. */
  digest(algo: HashAlgo, key: string, data: Uint8Array): Uint8Array {
    const k = `${algo}:${key}`;
    let d = this.layer.digests.get(k);
    if (d === undefined) {
      d = this.env.hash(algo, data);
      this.layer.digests.set(k, d);
    }
    return d;
  }

  /** Looks `data` up in the `scope` indexes, hashing only for sizes some signature names. */
  lookupHashes(scope: 'file' | 'section' | 'import', key: string, data: Uint8Array): number[] {
    const found: number[] = [];
    for (const algo of ALGOS) {
      const idx = this.db.hashes[`${scope}.${algo}` as HashIndexKey];
      if (idx === undefined || !idx.wants(data.length)) continue;
      found.push(...idx.lookup(this.digest(algo, key, data), data.length));
    }
    return found;
  }
}

function limitValue(o: ScanOptions, limit: LimitHit['limit']): number {
  switch (limit) {
    case 'MaxFileSize':
      return o.maxFileSize;
    case 'MaxScanSize':
      return o.maxScanSize;
    case 'MaxRecursion':
      return o.maxRecursion;
    case 'MaxFiles':
      return o.maxFiles;
    case 'MaxScanTime':
      return o.maxScanTime;
    case 'MaxHTMLNormalize':
      return o.maxHtmlNormalize;
  }
}

function checkFileHashes(run: ScanRun, data: Uint8Array): void {
  for (const id of run.lookupHashes('file', 'file', data)) {
    run.report(run.db.name(id), 'hash');
    if (run.done) return;
  }
}

function checkSectionHashes(run: ScanRun, data: Uint8Array, facts: FileFacts): void {
  if (facts.exe?.format !== 'pe') return;
  facts.exe.sections.forEach((s, i) => {
    if (run.done || s.rawSize === 0) return;
    const bytes = data.subarray(s.rawOffset, s.rawOffset + s.rawSize);
    if (bytes.length !== s.rawSize) return;
    for (const id of run.lookupHashes('section', `section${i}`, bytes)) {
      run.report(run.db.name(id), 'section-hash');
    }
  });
}

/**
 * Drops the detections in and below the current layer when the layer's hash is on the allow list
 * (.fp/.sfp), as ClamAV does for every layer of a scan.
 */
function applyAllowList(run: ScanRun, data: Uint8Array): void {
  const prefix = run.layer.path;
  const inLayer = (d: Detection) => prefix.every((p, i) => d.path[i] === p);
  if (!run.detections.some(inLayer)) return;
  for (const algo of ALGOS) {
    const idx = run.db.hashes[`allow.${algo}`];
    if (idx === undefined || !idx.wants(data.length)) continue;
    if (idx.lookup(run.digest(algo, 'file', data), data.length).length > 0) {
      const kept = run.detections.filter((d) => !inLayer(d));
      run.detections.length = 0;
      run.detections.push(...kept);
      return;
    }
  }
}

/**
 * ClamAV matches HTML only in its normalised forms (its HTMLSKIPRAW switch is on by default), text
 * both raw and normalised; generic (target 0) signatures apply to every view, target 3 and 7 ones
 * to the normalised views only. The file's hashes are looked up in the raw pass, after its body
 * signatures and before its logical ones; PE section hashes after that pass.
 */
function matchViews(run: ScanRun, data: Uint8Array, facts: FileFacts): void {
  // ClamAV computes a file's hashes in its raw pass, which HTML skips: no hash signature matches HTML.
  if (facts.type !== 'CL_TYPE_HTML') {
    matchView(run, ['raw'], data, { facts, normalised: false }, () => checkFileHashes(run, data));
  }
  if (run.done) return;
  if (run.options.scanPe) checkSectionHashes(run, data, facts);
  for (const [group, view] of normalisedViews(run, data, facts)) {
    if (run.done) return;
    matchView(run, [group, 'raw'], view, { facts, normalised: true });
  }
}

/**
 * ClamAV unpacks most containers before its raw pass over them; executables (their unpackers and
 * embedded installers) and PDF come after it. Without --allmatch, that decides whose name is reported.
 */
const UNPACKED_AFTER_RAW_PASS: ReadonlySet<FileType> = new Set(['CL_TYPE_MSEXE', 'CL_TYPE_PDF']);

/** True (and reported) when the current layer is as deep as MaxRecursion allows: nothing in it is opened. */
function atMaxRecursion(run: ScanRun): boolean {
  if (run.layer.depth < run.options.maxRecursion) return false;
  run.limit('MaxRecursion');
  return true;
}

/** Unpacks a container layer with each handler for its type, within the limits. */
function unpack(run: ScanRun, data: Uint8Array, facts: FileFacts, name: string): void {
  const handlers = handlersFor(facts.type, run.families);
  if (handlers.length === 0 || atMaxRecursion(run)) return;
  for (const handler of handlers) {
    if (run.done) return;
    unpackWith(run, handler, data, facts, name);
  }
}

/**
 * Scans one member of the current layer as a layer of its own, within MaxScanTime, MaxFiles and
 * the size limits; false when the scan of this container must stop.
 */
function scanMember(run: ScanRun, m: Member, container: FileType): boolean {
  if (run.done) return false;
  if (run.outOfTime) {
    run.limit('MaxScanTime');
    return false;
  }
  if (++run.members > run.options.maxFiles) {
    run.limit('MaxFiles');
    return false;
  }
  const parent = run.layer;
  if (m.data.length > run.room()) {
    run.tooBig([...parent.path, m.name], m.data.length);
    return true;
  }
  run.layer = {
    path: [...parent.path, m.name],
    container,
    depth: parent.depth + 1,
    digests: new Map(),
    embedded: m.embedded === true,
  };
  try {
    scanLayer(run, m.data, m.name, m.type);
  } finally {
    run.layer = parent;
  }
  return true;
}

/** Extracts a layer's members with one handler and scans each. */
function unpackWith(run: ScanRun, handler: ContainerHandler, data: Uint8Array, facts: FileFacts, name: string): void {
  const parent = run.layer;
  const where = (member?: string) =>
    [...(parent.path.length > 0 ? parent.path : [name]), ...(member === undefined ? [] : [member])].join('//');
  const ctx: ExtractContext = {
    env: run.env,
    name,
    get maxMemberSize() {
      return run.room();
    },
    tooBig: (member, size) => run.tooBig([...parent.path, member], size),
    encrypted(member) {
      run.warnings.push(`${where(member)}: encrypted, not scanned`);
      if (run.options.alertEncrypted) run.report(`Heuristics.Encrypted.${handler.name}`, 'heuristic');
    },
    broken(what) {
      run.warnings.push(`${where()}: ${handler.name} not fully read: ${what}`);
    },
  };
  try {
    for (const m of handler.extract(data, ctx)) {
      if (!scanMember(run, m, facts.type)) return;
    }
  } catch (e) {
    // A handler must stop cleanly on any input; if one fails anyway, the scan says so and goes on.
    run.warnings.push(`${where()}: ${handler.name} could not be unpacked (${(e as Error).message})`);
  }
}

/**
 * Scans the files embedded in a layer's bytes (ClamAV does it in its raw pass): SFX archives,
 * executables inside executables and documents, installers' appended data.
 */
function scanEmbedded(run: ScanRun, data: Uint8Array, facts: FileFacts): void {
  if (run.layer.embedded || run.families.size === 0) return;
  const found = findEmbedded(data, facts.type, run.options);
  if (found.length === 0 || atMaxRecursion(run)) return;
  for (const f of found) {
    const family = f.type === 'CL_TYPE_MSEXE' ? 'pe' : 'archive';
    if (!run.families.has(family)) continue;
    const name = `${f.type.replace('CL_TYPE_', '').toLowerCase()}@${f.offset}`;
    const m: Member = { name, data: data.subarray(f.offset, f.offset + f.length), type: f.type, embedded: true };
    if (!scanMember(run, m, facts.type)) return;
  }
}

/** Scans one layer (the input, or a member): patterns, hashes, then what it contains. */
function scanLayer(run: ScanRun, data: Uint8Array, name: string, type?: FileType): FileFacts {
  run.bytesScanned += data.length;
  // ClamAV leaves inputs of 5 bytes or fewer alone ("small data"): no hash, no pattern can apply.
  if (data.length <= SMALL_DATA) return { type: 'CL_TYPE_ANY', size: data.length };
  const recognised = describeFile(bytesSource(data), run.db.fileTypes);
  const facts = type === undefined ? recognised : { ...recognised, type };
  if (run.options.alertBroken && facts.exe?.malformed === true) run.report('Heuristics.Broken.Executable', 'heuristic');
  const unpackFirst = !UNPACKED_AFTER_RAW_PASS.has(facts.type);
  if (unpackFirst) unpack(run, data, facts, name);
  if (!run.done) matchViews(run, data, facts);
  if (!run.done) scanEmbedded(run, data, facts);
  if (!unpackFirst && !run.done) unpack(run, data, facts, name);
  applyAllowList(run, data);
  return facts;
}

function scanSource(run: ScanRun, source: ByteSource, name: string): ScanResult {
  const { options } = run;
  const result = (fileType: string): ScanResult => ({
    verdict: run.detections.length > 0 ? 'infected' : 'clean',
    detections: run.detections,
    limitsHit: run.limitsHit,
    warnings: run.warnings,
    fileType,
    bytesScanned: run.bytesScanned,
  });
  if (source.size > options.maxFileSize) {
    run.limit('MaxFileSize');
    return result('CL_TYPE_ANY');
  }
  return result(scanLayer(run, source.read(0, source.size), name).type);
}

/** Creates a scanner over a database opened or compiled by this engine. */
export function createScanner(db: Database, env: EngineEnv): Scanner {
  if (!(db instanceof CompiledDatabase)) throw new VigilError('E_INTERNAL', 'not a database made by this engine');
  return { scan: (source, options, name = 'input') => scanSource(new ScanRun(db, env, options), source, name) };
}
