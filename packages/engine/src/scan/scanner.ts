// The scan pipeline for one input: recognise the type, read executable facts, look up whole-file
// hashes, run one matcher pass per view (raw bytes, normalised HTML, normalised text), evaluate
// logical signatures, then PE section hashes, and finally the allow list. Containers are left to
// the container registry (a later stage); this file only orchestrates.
import { type ByteSource, bytesSource } from '../bytesource.js';
import type { Database } from '../database/api.js';
import type { HashIndexKey } from '../database/builder.js';
import { CompiledDatabase } from '../database/open.js';
import type { EngineEnv, HashAlgo } from '../env.js';
import { VigilError } from '../errors.js';
import type { FileFacts } from '../filetypes/types.js';
import { describeFile, normalisedViews } from './facts.js';
import { evaluateGroup } from './logical.js';
import type { ScanOptions } from './options.js';
import type { Detection, LimitHit, ScanResult } from './types.js';

/** Scans byte sources against one database. Cheap to create; holds no per-file state between calls. */
export interface Scanner {
  scan(source: ByteSource, options: ScanOptions): ScanResult;
}

const ALGOS: readonly HashAlgo[] = ['md5', 'sha1', 'sha256'];

/** Inputs this small are not scanned, as in ClamAV. */
const SMALL_DATA = 5;

/** The state of one input's scan: what was found, and whether to go on. */
export class ScanRun {
  readonly detections: Detection[] = [];
  readonly limitsHit: LimitHit[] = [];
  readonly warnings: string[] = [];
  private readonly digests = new Map<string, Uint8Array>();

  constructor(
    readonly db: CompiledDatabase,
    readonly env: EngineEnv,
    readonly options: ScanOptions,
  ) {}

  /** True once a detection ends the scan (without --allmatch). */
  get done(): boolean {
    return !this.options.allMatch && this.detections.length > 0;
  }

  report(d: Detection): void {
    if (this.detections.some((x) => x.name === d.name && x.path.join('/') === d.path.join('/'))) return;
    this.detections.push(d);
  }

  /** The digest of `data`, computed once per algorithm and key. */
  digest(algo: HashAlgo, key: string, data: Uint8Array): Uint8Array {
    const k = `${algo}:${key}`;
    let d = this.digests.get(k);
    if (d === undefined) {
      d = this.env.hash(algo, data);
      this.digests.set(k, d);
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

function checkFileHashes(run: ScanRun, data: Uint8Array): void {
  for (const id of run.lookupHashes('file', 'file', data)) {
    run.report({ name: run.db.name(id), kind: 'hash', path: [] });
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
      run.report({ name: run.db.name(id), kind: 'section-hash', path: [] });
    }
  });
}

/** Suppresses every detection when the file's hash is on the allow list (.fp/.sfp), as ClamAV does. */
function applyAllowList(run: ScanRun, data: Uint8Array): void {
  if (run.detections.length === 0) return;
  for (const algo of ALGOS) {
    const idx = run.db.hashes[`allow.${algo}`];
    if (idx === undefined || !idx.wants(data.length)) continue;
    if (idx.lookup(run.digest(algo, 'file', data), data.length).length > 0) {
      run.detections.length = 0;
      return;
    }
  }
}

/**
 * ClamAV matches HTML only in its normalised forms (its HTMLSKIPRAW switch is on by default), text
 * both raw and normalised; generic (target 0) signatures apply to every view, target 3 and 7 ones
 * to the normalised views only.
 */
function matchViews(run: ScanRun, data: Uint8Array, facts: FileFacts): void {
  if (facts.type !== 'CL_TYPE_HTML') evaluateGroup(run, 'raw', data, { facts, normalised: false });
  if (run.done) return;
  checkSectionHashes(run, data, facts);
  for (const [group, view] of normalisedViews(run, data, facts)) {
    evaluateGroup(run, 'raw', view, { facts, normalised: true });
    if (run.done) return;
    evaluateGroup(run, group, view, { facts, normalised: true });
    if (run.done) return;
  }
}

function scanSource(run: ScanRun, source: ByteSource): ScanResult {
  const { options } = run;
  const base = { limitsHit: run.limitsHit, warnings: run.warnings, bytesScanned: 0 };
  if (source.size > options.maxFileSize) {
    run.limitsHit.push({ limit: 'MaxFileSize', value: options.maxFileSize, path: [] });
    return { ...base, verdict: 'clean', detections: [], fileType: 'CL_TYPE_ANY' };
  }
  // ClamAV leaves inputs of 5 bytes or fewer alone ("small data"): no hash, no pattern can apply.
  if (source.size <= SMALL_DATA) return { ...base, verdict: 'clean', detections: [], fileType: 'CL_TYPE_ANY' };
  const data = source.read(0, source.size);
  const facts = describeFile(bytesSource(data), run.db.fileTypes);
  // ClamAV matches patterns first and looks the file's hashes up after the pass: without
  // --allmatch, a file with both reports the pattern's name.
  matchViews(run, data, facts);
  // ClamAV computes a file's hashes in its raw pass, which HTML skips: no hash signature matches HTML.
  if (!run.done && facts.type !== 'CL_TYPE_HTML') checkFileHashes(run, data);
  applyAllowList(run, data);
  return {
    ...base,
    verdict: run.detections.length > 0 ? 'infected' : 'clean',
    detections: run.detections,
    fileType: facts.type,
    bytesScanned: data.length,
  };
}

/** Creates a scanner over a database opened or compiled by this engine. */
export function createScanner(db: Database, env: EngineEnv): Scanner {
  if (!(db instanceof CompiledDatabase)) throw new VigilError('E_INTERNAL', 'not a database made by this engine');
  return { scan: (source, options) => scanSource(new ScanRun(db, env, options), source) };
}
