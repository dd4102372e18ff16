// Loading the database off the event loop: a text database can take seconds to parse, and the
// daemon keeps answering (and scanning on the old database) meanwhile. A thread loads it into a
// SharedArrayBuffer and hands that over without a copy.
import { Worker } from 'node:worker_threads';
import type { DatabaseInfo } from '@vigil/engine';
import { reopenShared, type SharedDatabase } from '@vigil/node';
import { ctime } from './log.js';

export interface LoadRequest {
  /** A database directory, or a compiled database file. */
  readonly directory: string;
  readonly detectPua: boolean;
  /** Where compiled copies are kept between starts; none: parse every time. */
  readonly cacheDirectory: string | undefined;
}

export interface LoadedSignatures extends SharedDatabase {
  readonly info: DatabaseInfo;
  /** Warnings from parsing, one line each. */
  readonly warnings: readonly string[];
  /** `27461/Mon Nov 24 09:27:00 2026` from the daily CVD, or '' without one (as clamd's VERSION). */
  readonly version: string;
  /** A compiled file holding this same database (the cache's copy), when there is one. */
  readonly compiledFile?: string;
}

export type LoaderReply = { readonly ok: Omit<LoadedSignatures, 'version'> } | { readonly error: string };

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];

/** A CVD header's build time (`24 Nov 2026 09-27 +0000`) as clamd prints it, or undefined. */
function buildDate(text: string): Date | undefined {
  const m = /^(\d+) (\w{3}) (\d{4}) (\d\d)-(\d\d) ([+-])(\d\d)(\d\d)$/.exec(text.trim());
  if (m === null || !MONTHS.includes(m[2] as string)) return undefined;
  const offset = (m[6] === '-' ? -1 : 1) * (Number(m[7]) * 60 + Number(m[8]));
  const utc = Date.UTC(Number(m[3]), MONTHS.indexOf(m[2] as string), Number(m[1]), Number(m[4]), Number(m[5]));
  return new Date(utc - offset * 60_000);
}

/** The daily database's version and date, as clamd's VERSION reply carries them. */
export function databaseVersion(info: DatabaseInfo): string {
  const daily = info.sources.find((s) => /^daily\.c[vl]d$/.test(s.name) && s.version !== undefined);
  if (daily?.version === undefined) return '';
  const date = buildDate(daily.builtAt ?? '');
  return `${daily.version}/${date === undefined ? (daily.builtAt ?? '') : ctime(date)}`;
}

export function loadSignatures(request: LoadRequest): Promise<LoadedSignatures> {
  return new Promise((resolve, reject) => {
    const w = new Worker(new URL('./loader-worker.js', import.meta.url), { workerData: request });
    w.once('message', (m: LoaderReply) => {
      void w.terminate();
      if ('error' in m) reject(new Error(m.error));
      else {
        try {
          resolve({ ...m.ok, ...reopenShared(m.ok), version: databaseVersion(m.ok.info) });
        } catch (e) {
          reject(e);
        }
      }
    });
    w.once('error', (e) => reject(e));
    w.once('exit', (code) => reject(new Error(`the database loader stopped (exit code ${code})`)));
  });
}
