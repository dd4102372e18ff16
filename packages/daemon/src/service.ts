// What the daemon's commands do, apart from the wire: scanning paths and streams on the worker
// pool within MaxQueue, clamd's reply lines for each outcome, logging, VirusEvent, and the
// database with its reloads. Reloads load the new database on a thread beside the old one and swap
// it in between jobs (ConcurrentDatabaseReload yes), or stop scanning, drop the old one and then
// load (no): less memory, a pause.
import { spawn } from 'node:child_process';
import { closeSync, type Dirent, fstatSync, readlinkSync } from 'node:fs';
import { lstat, opendir, stat } from 'node:fs/promises';
import { availableParallelism } from 'node:os';
import { basename, resolve } from 'node:path';
import type { ScanOptions } from '@vigil/engine';
import { closeDatabase, defaultCacheDir, type FileOutcome, type ScanJob, ScanPool } from '@vigil/node';
import type { DaemonConfig } from './config.js';
import { type LoadedSignatures, loadSignatures } from './loader.js';
import type { Logger } from './log.js';
import type { Metrics } from './metrics.js';

/** A reload that left no database: the daemon cannot go on. */
export class FatalError extends Error {}

export type PathMode = 'SCAN' | 'CONTSCAN' | 'MULTISCAN' | 'ALLMATCHSCAN';

/** strerror(3)'s words for the errors a path check meets, as clamd prints them. */
function strerror(e: unknown): string {
  const code = e instanceof Error && 'code' in e ? String(e.code) : '';
  const words: Readonly<Record<string, string>> = {
    ENOENT: 'No such file or directory',
    EACCES: 'Permission denied',
    EPERM: 'Operation not permitted',
    ENOTDIR: 'Not a directory',
    ELOOP: 'Too many levels of symbolic links',
    ENAMETOOLONG: 'File name too long',
    EIO: 'Input/output error',
  };
  return words[code] ?? (e instanceof Error ? e.message : String(e));
}

/** Reply lines for one scanned file (`path: Name FOUND` per detection, `path: OK`, or an error). */
function outcomeLines(path: string, o: FileOutcome): { lines: string[]; found: boolean; error: boolean } {
  if (o.status === 'error') return { lines: [`${path}: ${o.message}. ERROR`], found: false, error: true };
  if (o.result.verdict === 'infected') {
    return { lines: o.result.detections.map((d) => `${path}: ${d.name} FOUND`), found: true, error: false };
  }
  return { lines: [`${path}: OK`], found: false, error: false };
}

interface Waiter {
  readonly go: () => void;
}

export class ScanService {
  private pool: ScanPool | undefined;
  private signatures: LoadedSignatures | undefined;
  /** Jobs admitted (queued or running): at most MaxQueue. */
  private admitted = 0;
  private readonly waiting: Waiter[] = [];
  /** Scans stopped for a non-concurrent reload. */
  private paused: Promise<void> | undefined;
  private reloading: Promise<void> | undefined;
  /** Descriptions of the commands running, for STATS. */
  readonly running = new Map<object, { readonly command: string; readonly since: number }>();

  constructor(
    private readonly config: DaemonConfig,
    private readonly log: Logger,
    private readonly metrics: Metrics,
  ) {}

  /**
   * Scanning threads: MaxThreads, but no more than the cores. Scans are CPU-bound and each thread
   * keeps its own heap (about 30-50 MB with a full database), so threads beyond the cores add memory,
   * not throughput; MaxThreads still bounds how many scans run at once through MaxQueue.
   */
  private get poolSize(): number {
    return Math.max(1, Math.min(this.config.maxThreads, availableParallelism()));
  }

  private async load(from = this.config.databaseDirectory): Promise<LoadedSignatures> {
    const t0 = performance.now();
    const loaded = await loadSignatures({
      directory: from,
      detectPua: this.config.scan.detectPua,
      cacheDirectory: this.config.databaseCacheDirectory ?? defaultCacheDir(),
    });
    for (const w of loaded.warnings) this.log.warning(w);
    this.metrics.databaseLoaded(loaded, (performance.now() - t0) / 1000);
    return loaded;
  }

  /** Loads the database and starts the workers. Throws when the database cannot be loaded. */
  async start(): Promise<void> {
    this.log.info(`Reading databases from ${this.config.databaseDirectory}`);
    if (!this.config.scan.detectPua) this.log.info('Not loading PUA signatures.');
    this.signatures = await this.load();
    this.log.info(`Loaded ${this.signatures.info.total} signatures.`);
    this.pool = new ScanPool(this.poolSize, { database: this.signatures, options: this.config.scan });
  }

  get database(): LoadedSignatures {
    if (this.signatures === undefined) throw new Error('the database is not loaded');
    return this.signatures;
  }

  get threads(): { live: number; idle: number; queued: number } {
    const active = this.pool?.active ?? 0;
    return { live: this.poolSize, idle: this.poolSize - active, queued: this.pool?.queued ?? 0 };
  }

  /**
   * Reloads the database (RELOAD, SIGUSR2, SelfCheck). A reload already under way is joined, not
   * repeated. A database that fails to load leaves the old one serving, and the error logged; a
   * FatalError means there is no database left (see reloadPaused).
   */
  reload(): Promise<void> {
    this.reloading ??= this.doReload().finally(() => {
      this.reloading = undefined;
    });
    return this.reloading;
  }

  private async doReload(): Promise<void> {
    this.log.info(`Reading databases from ${this.config.databaseDirectory}`);
    const pool = this.pool as ScanPool;
    try {
      if (this.config.concurrentDatabaseReload) {
        const loaded = await this.load();
        const old = this.signatures;
        this.signatures = loaded;
        void pool.setDatabase(loaded).then(() => {
          if (old !== undefined) closeDatabase(old);
        });
      } else {
        await this.reloadPaused(pool);
      }
      this.log.info(`Database correctly reloaded (${this.database.info.total} signatures)`);
    } catch (e) {
      if (e instanceof FatalError) throw e;
      this.metrics.reloadFailed();
      this.log.error(`Database reload failed, keeping the old one: ${(e as Error).message}`);
    }
  }

  /**
   * ConcurrentDatabaseReload no: scans wait, the workers and the old database go, the new one loads,
   * scans resume. When the new one fails to load, the old one comes back from its compiled copy in
   * the cache; without such a copy there is nothing to scan with, and the error is fatal.
   */
  private async reloadPaused(pool: ScanPool): Promise<void> {
    let resume = () => {};
    this.paused = new Promise((r) => {
      resume = r;
    });
    const fallback = this.signatures?.compiledFile;
    let failure: unknown;
    try {
      await this.idle();
      await pool.close();
      if (this.signatures !== undefined) closeDatabase(this.signatures);
      this.signatures = undefined;
      try {
        this.signatures = await this.load();
      } catch (e) {
        failure = e;
        if (fallback !== undefined) this.signatures = await this.load(fallback).catch(() => undefined);
      }
      if (this.signatures === undefined) throw new FatalError(`no database to scan with: ${String(failure)}`);
      this.pool = new ScanPool(this.poolSize, { database: this.signatures, options: this.config.scan });
    } finally {
      this.paused = undefined;
      resume();
    }
    if (failure !== undefined) throw failure;
  }

  /** Resolves when no job is admitted. */
  private async idle(): Promise<void> {
    while (this.admitted > 0) await new Promise<void>((r) => this.waiting.push({ go: r }));
  }

  /** Runs one job on the pool once MaxQueue allows; resolves with its outcome. */
  async scanJob(job: ScanJob, options?: ScanOptions): Promise<FileOutcome> {
    while (this.paused !== undefined || this.admitted >= this.config.maxQueue) {
      if (this.paused !== undefined) await this.paused;
      else await new Promise<void>((r) => this.waiting.push({ go: r }));
    }
    this.admitted++;
    this.metrics.queueDepth(this.admitted);
    const t0 = performance.now();
    try {
      const outcome = await (this.pool as ScanPool).scan(job, options);
      this.metrics.scanned(outcome, (performance.now() - t0) / 1000);
      return outcome;
    } finally {
      this.admitted--;
      this.metrics.queueDepth(this.admitted);
      this.waiting.shift()?.go();
      // Whoever waits for idleness re-checks; wake them all when the last job leaves.
      if (this.admitted === 0) for (const w of this.waiting.splice(0)) w.go();
    }
  }

  /** After a detection: the log line, and VirusEvent if configured. */
  private detected(where: string, outcome: FileOutcome): void {
    if (outcome.status !== 'scanned') return;
    for (const d of outcome.result.detections) {
      this.log.info(`${where}: ${d.name} FOUND`);
      this.virusEvent(where, d.name);
    }
  }

  private virusEvent(file: string, virus: string): void {
    const command = this.config.virusEvent;
    if (command === undefined) return;
    // As clamd: %v is replaced (names are signature names, not attacker-chosen paths); the file
    // name only travels in the environment.
    const child = spawn('/bin/sh', ['-c', command.replaceAll('%v', virus)], {
      stdio: 'ignore',
      env: { ...process.env, CLAM_VIRUSEVENT_FILENAME: file, CLAM_VIRUSEVENT_VIRUSNAME: virus },
    });
    child.on('error', (e) => this.log.error(`VirusEvent: ${e.message}`));
    child.on('exit', (code) => {
      if (code !== 0) this.log.warning(`VirusEvent exited with status ${code}`);
    });
  }

  /** INSTREAM: scans what a client sent; `peer` names it in the log (`local`, `127.0.0.1@4242`). */
  scanStream(job: ScanJob, peer: string): Promise<string> {
    return this.scanAndLog(job, 'stream', `instream(${peer})`);
  }

  /**
   * FILDES: scans a file a client passed open, and closes it. The reply names it `fd[N]`, as
   * clamd's; the log names the file's path when the system tells it.
   */
  async scanDescriptor(fd: number): Promise<string> {
    const shown = `fd[${fd}]`;
    try {
      if (!fstatSync(fd).isFile()) {
        // clamd's words: with a full stop in the log, without in the reply.
        this.log.info(`${shown}: Not a regular file. ERROR`);
        return `${shown}: Not a regular file ERROR`;
      }
      let logged = shown;
      try {
        logged = readlinkSync(`/proc/self/fd/${fd}`);
      } catch {
        // no /proc: the log says fd[N], as clamd's does when it cannot tell
      }
      return await this.scanAndLog({ fd, name: basename(logged) }, shown, logged);
    } finally {
      closeSync(fd);
    }
  }

  /** Scans one job; its reply lines under `shown`, its log lines under `logged`. */
  private async scanAndLog(job: ScanJob, shown: string, logged: string): Promise<string> {
    const outcome = await this.scanJob(job);
    const { lines, found } = outcomeLines(shown, outcome);
    if (found) this.detected(logged, outcome);
    else if (outcome.status === 'error') this.log.error(`${logged}: ${outcome.message}`);
    else if (this.config.logClean) this.log.info(`${logged}: OK`);
    return lines.join('\n');
  }

  private excluded(path: string): boolean {
    return this.config.excludePaths.some((r) => r.test(path));
  }

  /**
   * SCAN, CONTSCAN, MULTISCAN and ALLMATCHSCAN of a file or directory. `emit` receives each reply
   * line as it is known. SCAN and ALLMATCHSCAN stop at the first infected file; MULTISCAN scans a
   * directory's files in parallel and answers in the order they finish. A walk whose client has
   * left stops at the next file.
   */
  async scanPath(
    path: string,
    mode: PathMode,
    emit: (line: string) => void,
    /** True once nobody waits for the answer (the client left): the walk stops. */
    abandoned: () => boolean = () => false,
  ): Promise<void> {
    const options =
      mode === 'ALLMATCHSCAN' && this.config.allowAllMatchScan ? { ...this.config.scan, allMatch: true } : undefined;
    const full = path === '' ? '' : resolve(path);
    if (this.excluded(full)) {
      emit(`${path}: Excluded`);
      return;
    }
    let st: Awaited<ReturnType<typeof stat>>;
    try {
      if (full === '') throw Object.assign(new Error('empty path'), { code: 'ENOENT' });
      st = await stat(full);
      // A symbolic link is followed only as FollowFileSymlinks/FollowDirectorySymlinks allow; else,
      // as clamd, it is passed over with an OK.
      if ((await lstat(full)).isSymbolicLink()) {
        const follow = st.isDirectory() ? this.config.followDirectorySymlinks : this.config.followFileSymlinks;
        if (!follow) {
          emit(`${path}: OK`);
          return;
        }
      }
    } catch (e) {
      this.log.warning(`File path check failure on: ${path}`);
      emit(`${path}: File path check failure: ${strerror(e)}. ERROR`);
      return;
    }
    let found = false;
    // A directory's clean files go unmentioned; the directory gets one `OK` if nothing was found.
    const fileJob = async (file: string, shown: string, inDirectory = true): Promise<boolean> => {
      const outcome = await this.scanJob({ path: file }, options);
      const r = outcomeLines(shown, outcome);
      if (r.found || r.error || !inDirectory) for (const line of r.lines) emit(line);
      found ||= r.found;
      if (r.found) this.detected(shown, outcome);
      else if (outcome.status === 'error') this.log.error(`${shown}: ${outcome.message}`);
      else if (this.config.logClean) this.log.info(`${shown}: OK`);
      return r.found;
    };
    if (st.isFile()) {
      await fileJob(full, path, false);
      return;
    }
    if (!st.isDirectory()) {
      emit(`${path}: Not supported file type ERROR`);
      emit(`${path}: OK`);
      return;
    }
    const pending = new Set<Promise<boolean>>();
    const stopAtFirst = mode === 'SCAN' || mode === 'ALLMATCHSCAN';
    // As clamd: a directory is read whole first (excluded entries are reported then, except by
    // MULTISCAN); then its files are scanned, then its subdirectories, each in inode order.
    const walk = async (dir: string, shownDir: string, depth: number): Promise<boolean> => {
      const entries: { entry: Dirent; isDir: boolean; ino: number }[] = [];
      try {
        for await (const entry of await opendir(dir)) {
          const shown = `${shownDir.replace(/\/+$/, '')}/${entry.name}`;
          if (this.excluded(`${dir}/${entry.name}`)) {
            if (mode !== 'MULTISCAN') emit(`${shown}: Excluded`);
            continue;
          }
          const st = await lstat(`${dir}/${entry.name}`).catch(() => undefined);
          entries.push({ entry, isDir: entry.isDirectory(), ino: st?.ino ?? 0 });
        }
      } catch (e) {
        emit(`${shownDir}: File path check failure: ${strerror(e)}. ERROR`);
        return false;
      }
      entries.sort((x, y) => Number(x.isDir) - Number(y.isDir) || x.ino - y.ino);
      for (const { entry } of entries) {
        if (abandoned()) return true;
        const file = `${dir}/${entry.name}`;
        const shown = `${shownDir.replace(/\/+$/, '')}/${entry.name}`;
        let kind = entry.isDirectory() ? 'dir' : entry.isFile() ? 'file' : 'other';
        if (entry.isSymbolicLink()) {
          const target = await stat(file).catch(() => undefined);
          if (target?.isDirectory() === true && this.config.followDirectorySymlinks) kind = 'dir';
          else if (target?.isFile() === true && this.config.followFileSymlinks) kind = 'file';
        }
        if (kind === 'dir') {
          if (depth < this.config.maxDirectoryRecursion && (await walk(file, shown, depth + 1)) && stopAtFirst)
            return true;
        } else if (kind === 'file') {
          if (mode === 'MULTISCAN') {
            const p = fileJob(file, shown).finally(() => pending.delete(p));
            pending.add(p);
            // No more files in flight than the queue takes: a huge tree is walked as it is scanned.
            if (pending.size >= this.config.maxQueue) await Promise.race(pending);
          } else if ((await fileJob(file, shown)) && stopAtFirst) {
            return true;
          }
        }
      }
      return false;
    };
    await walk(full, path, 0);
    await Promise.all(pending);
    if (!found) emit(`${path}: OK`);
  }

  async close(): Promise<void> {
    await this.pool?.close();
    if (this.signatures !== undefined) closeDatabase(this.signatures);
  }
}
