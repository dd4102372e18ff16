// The daemon's log, as clamd writes it: optional time prefix (`Tue Nov 24 23:50:12 2026 -> `),
// `WARNING: ` and `ERROR: ` levels, verbose lines only with LogVerbose, a size limit with rotation,
// syslog through util-linux's logger(1) (Node has no syslog client), and a copy on the terminal
// in the foreground. A log that cannot be written is reported once on stderr; it never stops a scan.
import { type ChildProcess, spawn } from 'node:child_process';
import { appendFileSync, renameSync, statSync } from 'node:fs';
import type { DaemonConfig } from './config.js';

type Level = 'info' | 'verbose' | 'warning' | 'error';

const DAYS = ['Sun', 'Mon', 'Tue', 'Wed', 'Thu', 'Fri', 'Sat'];
const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const two = (n: number) => String(n).padStart(2, '0');

/** C's ctime() without the newline: `Tue Nov 24 23:50:12 2026`, local time. */
export function ctime(d: Date): string {
  const day = String(d.getDate()).padStart(2, ' ');
  const time = `${two(d.getHours())}:${two(d.getMinutes())}:${two(d.getSeconds())}`;
  return `${DAYS[d.getDay()]} ${MONTHS[d.getMonth()]} ${day} ${time} ${d.getFullYear()}`;
}

/** syslog(3) priorities for logger's --prio-prefix: facility * 8 + severity. */
const FACILITIES: Readonly<Record<string, number>> = {
  LOG_USER: 1,
  LOG_MAIL: 2,
  LOG_DAEMON: 3,
  LOG_AUTH: 4,
  LOG_SYSLOG: 5,
  LOG_LPR: 6,
  LOG_NEWS: 7,
  LOG_UUCP: 8,
  LOG_CRON: 9,
  LOG_AUTHPRIV: 10,
  LOG_FTP: 11,
  ...Object.fromEntries(Array.from({ length: 8 }, (_, i) => [`LOG_LOCAL${i}`, 16 + i])),
};
const SEVERITY: Readonly<Record<Level, number>> = { error: 3, warning: 4, info: 6, verbose: 7 };

export class Logger {
  private fileDisabled = false;
  private syslog: ChildProcess | undefined;
  private complained = false;

  constructor(
    private readonly config: Pick<
      DaemonConfig,
      'logFile' | 'logFileMaxSize' | 'logRotate' | 'logTime' | 'logVerbose' | 'logSyslog' | 'logFacility'
    >,
    /** Also print to stdout/stderr (the daemon runs in the foreground). */
    private readonly terminal: boolean,
  ) {
    if (config.logSyslog) {
      // `--id=PID`: logger's --id takes its value only after `=`; `--id PID` logs the number as the
      // message and ignores standard input.
      this.syslog = spawn('logger', ['--prio-prefix', '-t', 'vigil', `--id=${process.pid}`], {
        stdio: ['pipe', 'ignore', 'inherit'],
      });
      this.syslog.on('error', (e) => this.complain(`syslog (logger) failed: ${e.message}`));
      this.syslog.stdin?.on('error', () => {});
    }
  }

  info(message: string): void {
    this.write('info', message);
  }
  verbose(message: string): void {
    if (this.config.logVerbose) this.write('verbose', message);
  }
  warning(message: string): void {
    this.write('warning', `WARNING: ${message}`);
  }
  error(message: string): void {
    this.write('error', `ERROR: ${message}`);
  }

  private write(level: Level, message: string): void {
    const line = this.config.logTime ? `${ctime(new Date())} -> ${message}` : message;
    if (this.terminal) {
      if (level === 'warning' || level === 'error') process.stderr.write(`${line}\n`);
      else process.stdout.write(`${line}\n`);
    }
    if (this.syslog?.stdin?.writable === true) {
      const facility = FACILITIES[this.config.logFacility] ?? 22;
      this.syslog.stdin.write(`<${facility * 8 + SEVERITY[level]}>${message}\n`);
    }
    const file = this.config.logFile;
    if (file === undefined || this.fileDisabled) return;
    try {
      const max = this.config.logFileMaxSize;
      if (max > 0) {
        const size = statSync(file, { throwIfNoEntry: false })?.size ?? 0;
        if (size + line.length + 1 > max) {
          if (this.config.logRotate) {
            renameSync(file, `${file}.${new Date().toISOString().replace(/[:.]/g, '-')}`);
          } else {
            appendFileSync(file, 'LOGGING DISABLED (Maximal log file size exceeded).\n');
            this.fileDisabled = true;
            return;
          }
        }
      }
      appendFileSync(file, `${line}\n`, { mode: 0o640 });
    } catch (e) {
      this.complain(`can't write the log file ${file}: ${(e as Error).message}`);
    }
  }

  private complain(message: string): void {
    if (this.complained) return;
    this.complained = true;
    process.stderr.write(`vigil daemon: ${message}\n`);
  }

  close(): void {
    this.syslog?.stdin?.end();
  }
}
