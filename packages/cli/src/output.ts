// Where scan output goes and how it looks: clamscan's lines and summary, or JSON Lines (one
// document per file, then a summary document; see docs/json-output.md), plus an optional log
// file and a progress line on a terminal that never mixes into the results.
import { appendFileSync } from 'node:fs';
import type { Detection } from '@vigil/engine';

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

/** One file's JSON document (schema version 1). */
export interface FileDocument {
  readonly type: 'file';
  readonly path: string;
  readonly status: 'clean' | 'infected' | 'error' | 'skipped';
  readonly detections: readonly Detection[];
  readonly fileType?: string;
  readonly size?: number;
  readonly reason?: string;
  readonly limitsHit?: readonly { readonly limit: string; readonly value: number }[];
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
