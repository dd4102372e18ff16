// The daemon's counters, in Prometheus's text exposition format (version 0.0.4), written by hand:
// a handful of counters, gauges and one histogram need no client library.
import type { FileOutcome } from '@vigil/node';
import type { LoadedSignatures } from './loader.js';

/** Upper bounds (seconds) of the scan latency histogram's buckets. */
const BUCKETS = [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60];

export class Metrics {
  private readonly scans = { clean: 0, infected: 0, error: 0 };
  private detections = 0;
  private bytes = 0;
  private readonly latencyCounts = new Array<number>(BUCKETS.length + 1).fill(0);
  private latencySum = 0;
  private queue = 0;
  private connectionsOpen = 0;
  private connectionsTotal = 0;
  private readonly commands = new Map<string, number>();
  private readonly rejected = new Map<string, number>();
  private signatures = 0;
  private version = '';
  private loadedAt = 0;
  private loadSeconds = 0;
  private reloads = 0;
  private reloadFailures = 0;
  private readonly started = Date.now();

  scanned(outcome: FileOutcome, seconds: number): void {
    if (outcome.status === 'error') {
      this.scans.error++;
    } else {
      this.scans[outcome.result.verdict]++;
      this.detections += outcome.result.detections.length;
      this.bytes += outcome.size;
    }
    this.latencySum += seconds;
    let i = 0;
    while (i < BUCKETS.length && seconds > (BUCKETS[i] as number)) i++;
    this.latencyCounts[i] = (this.latencyCounts[i] as number) + 1;
  }

  queueDepth(n: number): void {
    this.queue = n;
  }

  connection(delta: 1 | -1): void {
    this.connectionsOpen += delta;
    if (delta === 1) this.connectionsTotal++;
  }

  command(name: string): void {
    this.commands.set(name, (this.commands.get(name) ?? 0) + 1);
  }

  /** A connection ended by a limit or a protocol error (`timeout`, `stream-limit`, `malformed`...). */
  reject(reason: string): void {
    this.rejected.set(reason, (this.rejected.get(reason) ?? 0) + 1);
  }

  databaseLoaded(db: LoadedSignatures, seconds: number): void {
    if (this.loadedAt !== 0) this.reloads++;
    this.signatures = db.info.total;
    this.version = db.version;
    this.loadedAt = Date.now();
    this.loadSeconds = seconds;
  }

  reloadFailed(): void {
    this.reloadFailures++;
  }

  /** The exposition text for GET /metrics. */
  render(): string {
    const out: string[] = [];
    const metric = (name: string, type: string, help: string, samples: [string, number][]) => {
      out.push(`# HELP ${name} ${help}`, `# TYPE ${name} ${type}`);
      for (const [labels, v] of samples) out.push(`${name}${labels} ${v}`);
    };
    const esc = (v: string) => v.replace(/\\/g, '\\\\').replace(/"/g, '\\"').replace(/\n/g, '\\n');
    metric(
      'vigil_scans_total',
      'counter',
      'Files and streams scanned, by result.',
      Object.entries(this.scans).map(([r, v]) => [`{result="${r}"}`, v]),
    );
    metric('vigil_detections_total', 'counter', 'Signatures reported.', [['', this.detections]]);
    metric('vigil_scanned_bytes_total', 'counter', 'Bytes of files and streams scanned.', [['', this.bytes]]);
    const buckets: [string, number][] = [];
    let cumulative = 0;
    BUCKETS.forEach((le, i) => {
      cumulative += this.latencyCounts[i] as number;
      buckets.push([`_bucket{le="${le}"}`, cumulative]);
    });
    cumulative += this.latencyCounts[BUCKETS.length] as number;
    buckets.push(['_bucket{le="+Inf"}', cumulative], ['_sum', this.latencySum], ['_count', cumulative]);
    out.push(
      '# HELP vigil_scan_duration_seconds Time from queueing a scan to its result.',
      '# TYPE vigil_scan_duration_seconds histogram',
      ...buckets.map(([suffix, v]) => `vigil_scan_duration_seconds${suffix} ${v}`),
    );
    metric('vigil_queue_depth', 'gauge', 'Scans queued or running (bounded by MaxQueue).', [['', this.queue]]);
    metric('vigil_connections_open', 'gauge', 'Client connections open.', [['', this.connectionsOpen]]);
    metric('vigil_connections_total', 'counter', 'Client connections accepted.', [['', this.connectionsTotal]]);
    metric(
      'vigil_commands_total',
      'counter',
      'Protocol commands received, by command.',
      [...this.commands].map(([c, v]) => [`{command="${esc(c)}"}`, v]),
    );
    metric(
      'vigil_rejected_total',
      'counter',
      'Connections ended by a limit or a protocol error, by reason.',
      [...this.rejected].map(([r, v]) => [`{reason="${esc(r)}"}`, v]),
    );
    metric('vigil_database_signatures', 'gauge', 'Signatures in the loaded database.', [['', this.signatures]]);
    metric('vigil_database_info', 'gauge', "The loaded database's version (daily CVD version/date).", [
      [`{version="${esc(this.version)}"}`, 1],
    ]);
    metric('vigil_database_loaded_timestamp_seconds', 'gauge', 'When the database was loaded.', [
      ['', this.loadedAt / 1000],
    ]);
    metric('vigil_database_load_seconds', 'gauge', 'How long the last load took.', [['', this.loadSeconds]]);
    metric('vigil_database_reloads_total', 'counter', 'Successful reloads.', [['', this.reloads]]);
    metric('vigil_database_reload_failures_total', 'counter', 'Reloads that failed (the old database kept).', [
      ['', this.reloadFailures],
    ]);
    metric('vigil_start_timestamp_seconds', 'gauge', 'When the daemon started.', [['', this.started / 1000]]);
    metric('process_resident_memory_bytes', 'gauge', 'Resident memory size.', [['', process.memoryUsage.rss()]]);
    return `${out.join('\n')}\n`;
  }
}
