// Where scan output goes and how it looks: clamscan's lines and summary, or JSON Lines (one
// document per file, then a summary document; see docs/json-output.md), plus an optional log
// file and a progress line on a terminal that never mixes into the results.
import { appendFileSync } from 'node:fs';
import { type FileDocument, type FileOutcome, fileDocument } from '@vigil/node';

export interface Summary {
  readonly knownSignatures: number;
  readonly engineVersion: string;
  readonly directories: number;
  readonly files: number;
  readonly infected: number;
  readonly errors: number;
  readonly bytesScanned: number;
  readonly bytesRead: number;
  readonly seconds: number;
  readonly start: Date;
  readonly end: Date;
}

const pad = (n: number) => String(n).padStart(2, '0');
function clamDate(d: Date): string {
  return `${d.getFullYear()}:${pad(d.getMonth() + 1)}:${pad(d.getDate())} ${pad(d.getHours())}:${pad(d.getMinutes())}:${pad(d.getSeconds())}`;
}
const mb = (bytes: number) => (bytes / (1024 * 1024)).toFixed(2);

export function summaryText(s: Summary): string {
  const ratio = s.bytesRead === 0 ? '0.00' : (s.bytesScanned / s.bytesRead).toFixed(2);
  const mins = Math.floor(s.seconds / 60);
  return [
    '',
    '----------- SCAN SUMMARY -----------',
    `Known viruses: ${s.knownSignatures}`,
    `Engine version: ${s.engineVersion}`,
    `Scanned directories: ${s.directories}`,
    `Scanned files: ${s.files}`,
    `Infected files: ${s.infected}`,
    ...(s.errors > 0 ? [`Total errors: ${s.errors}`] : []),
    `Data scanned: ${mb(s.bytesScanned)} MB`,
    `Data read: ${mb(s.bytesRead)} MB (ratio ${ratio}:1)`,
    `Time: ${s.seconds.toFixed(3)} sec (${mins} m ${Math.floor(s.seconds - mins * 60)} s)`,
    `Start Date: ${clamDate(s.start)}`,
    `End Date:   ${clamDate(s.end)}`,
  ].join('\n');
}

export class Output {
  private progressShown = false;
  constructor(
    private readonly opts: { readonly allToStdout: boolean; readonly log?: string; readonly quiet: boolean },
  ) {}

  private write(stream: NodeJS.WriteStream, text: string): void {
    this.clearProgress();
    stream.write(`${text}\n`);
    if (this.opts.log !== undefined) appendFileSync(this.opts.log, `${text}\n`);
  }

  /** A result line (stdout). */
  line(text: string): void {
    if (!this.opts.quiet) this.write(process.stdout, text);
  }

  /** An error or warning line (stderr, or stdout with --stdout). */
  error(text: string): void {
    this.write(this.opts.allToStdout ? process.stdout : process.stderr, text);
  }

  progress(text: string): void {
    process.stderr.write(`\r\x1b[K${text}`);
    this.progressShown = true;
  }

  clearProgress(): void {
    if (!this.progressShown) return;
    process.stderr.write('\r\x1b[K');
    this.progressShown = false;
  }
}

/** What a scan counted, for the summary and the exit code. */
export interface Totals {
  files: number;
  infected: number;
  errors: number;
  bytesScanned: number;
  bytesRead: number;
}

/** Turns each file's outcome into clamscan's lines or a JSON document, and counts. */
export class Report {
  readonly totals: Totals = { files: 0, infected: 0, errors: 0, bytesScanned: 0, bytesRead: 0 };
  private lastProgress = 0;

  constructor(
    private readonly out: Output,
    private readonly opts: {
      readonly json: boolean;
      readonly infectedOnly: boolean;
      readonly progress: boolean;
      readonly fileCount: number;
    },
  ) {}

  private doc(path: string, status: FileDocument['status'], rest: Partial<FileDocument>): void {
    const d: FileDocument = { type: 'file', path, status, detections: [], ...rest };
    this.out.line(JSON.stringify(d));
  }

  outcome(path: string, o: FileOutcome): void {
    if (o.status === 'error') {
      this.totals.errors++;
      if (this.opts.json) this.out.line(JSON.stringify(fileDocument(path, o)));
      else this.out.error(`${path}: ${o.message} ERROR`);
      return;
    }
    const r = o.result;
    const t = this.totals;
    t.files++;
    t.bytesRead += o.size;
    t.bytesScanned += r.bytesScanned;
    if (r.verdict === 'infected') t.infected++;
    if (this.opts.json) {
      this.out.line(JSON.stringify(fileDocument(path, o)));
    } else if (r.verdict === 'infected') {
      for (const d of r.detections) this.out.line(`${path}: ${d.name} FOUND`);
    } else if (!this.opts.infectedOnly) {
      this.out.line(`${path}: OK`);
    }
    if (this.opts.progress && performance.now() - this.lastProgress > 200) {
      this.lastProgress = performance.now();
      const mb = (t.bytesRead / 1048576).toFixed(1);
      this.out.progress(`vigil: ${t.files}/${this.opts.fileCount} files, ${mb} MB, ${t.infected} infected`);
    }
  }

  /** `Empty file`, `Symbolic link`, `Excluded`; `silent` ones only in JSON (clamscan prints none). */
  note(path: string, note: string, silent: boolean): void {
    if (this.opts.json) this.doc(path, 'skipped', { reason: note });
    else if (!this.opts.infectedOnly && !silent) this.out.line(`${path}: ${note}`);
  }

  /** A path that could not be walked: clamscan's line on stdout, a warning on stderr. */
  error(path: string, message: string, warning: string | undefined, silent: boolean): void {
    this.totals.errors++;
    if (this.opts.json) {
      this.doc(path, 'error', { reason: message });
      return;
    }
    if (!silent) this.out.line(`${path}: ${message}`);
    this.out.error(`WARNING: ${warning ?? `${path}: ${message}`}`);
  }

  summary(s: Summary): void {
    this.out.clearProgress();
    if (this.opts.json)
      this.out.line(JSON.stringify({ type: 'summary', ...s, start: s.start.toISOString(), end: s.end.toISOString() }));
    else this.out.line(summaryText(s));
  }
}
