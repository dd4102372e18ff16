#!/usr/bin/env node
// The daemon load benchmark: clamd and `vigil daemon` with the same database, one after the other in
// one run, each answering the same INSTREAM scans of the corpus's small files from concurrent
// clients. A RELOAD is sent halfway. Prints requests per second, p50/p99 latency, start time, idle
// and peak RSS (and the peak from the reload on), and checks both gave the same verdict per file.
// Not a test: only the ratios mean something on a shared machine.
//
//   npm run bench:daemon [-- --scale 1] [--clients 16] [--requests 4000] [--max-size 1048576]
// run.mjs calls runDaemonBench after the scanner benchmark.
import { spawn } from 'node:child_process';
import { mkdirSync, mkdtempSync, readdirSync, readFileSync, rmSync, statSync, writeFileSync } from 'node:fs';
import { connect } from 'node:net';
import { availableParallelism, tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { benchInputs, option, root } from './inputs.mjs';

const vigil = join(root, 'bin', 'vigil');
const sleep = (ms) => new Promise((r) => setTimeout(r, ms));

/** The corpus's regular files up to `maxSize` bytes, sorted, read into memory. */
function smallFiles(corpus, maxSize) {
  const files = [];
  const walk = (d) => {
    for (const e of readdirSync(d, { withFileTypes: true })) {
      const p = join(d, e.name);
      if (e.isDirectory()) walk(p);
      else if (e.isFile() && statSync(p).size <= maxSize) files.push(p);
    }
  };
  walk(corpus);
  files.sort();
  return files.map((path) => ({ path, bytes: readFileSync(path) }));
}

/** One INSTREAM scan on a new connection: the reply up to its NUL, or `DROPPED: reason`. */
function instream(socket, bytes) {
  return new Promise((resolve) => {
    const s = connect(socket);
    const parts = [Buffer.from('zINSTREAM\0')];
    for (let i = 0; i < bytes.length; i += 65536) {
      const chunk = bytes.subarray(i, i + 65536);
      const len = Buffer.alloc(4);
      len.writeUInt32BE(chunk.length);
      parts.push(len, chunk);
    }
    parts.push(Buffer.alloc(4));
    let reply = '';
    s.on('connect', () => s.write(Buffer.concat(parts)));
    s.on('data', (d) => {
      reply += d.toString('latin1');
    });
    s.on('error', (e) => resolve(`DROPPED: ${e.code ?? e.message}`));
    s.on('close', () => resolve(reply.endsWith('\0') ? reply.slice(0, -1) : `DROPPED: ${JSON.stringify(reply)}`));
  });
}

function command(socket, text) {
  return new Promise((resolve) => {
    const s = connect(socket);
    let reply = '';
    s.on('connect', () => s.write(text));
    s.on('data', (d) => {
      reply += d.toString('latin1');
    });
    s.on('error', () => resolve(''));
    s.on('close', () => resolve(reply));
  });
}

const rssOf = (pid) => {
  try {
    return Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${pid}/status`, 'utf8'))?.[1] ?? 0) / 1024;
  } catch {
    return 0;
  }
};

/** Starts a daemon; resolves when it answers PING, with its process and start time. */
async function start(kind, conf) {
  const t0 = performance.now();
  const [cmd, args] = kind === 'clamd' ? ['clamd', ['-c', conf.file]] : [vigil, ['daemon', '-c', conf.file]];
  const child = spawn(cmd, args, { stdio: ['ignore', 'ignore', 'pipe'] });
  let err = '';
  child.stderr.on('data', (d) => {
    err += d;
  });
  let exited = false;
  child.on('exit', () => {
    exited = true;
  });
  while ((await command(conf.socket, 'zPING\0')) !== 'PONG\0') {
    if (exited) throw new Error(`${kind} exited at start: ${err}`);
    await sleep(20);
  }
  return { child, seconds: (performance.now() - t0) / 1000 };
}

async function stop(child) {
  const gone = new Promise((r) => child.on('exit', r));
  child.kill('SIGTERM');
  await Promise.race([gone, sleep(15_000)]);
  child.kill('SIGKILL');
}

/** The load on one running daemon. */
async function load(socket, pid, files, { clients, requests }) {
  const latencies = [];
  const counts = { found: 0, ok: 0, error: 0, dropped: 0 };
  const verdicts = new Map(); // file -> first reply
  let next = 0;
  let peak = 0;
  let peakFromReload = 0;
  let reloading = false;
  let reload;
  const sampler = setInterval(() => {
    const r = rssOf(pid);
    peak = Math.max(peak, r);
    if (reloading) peakFromReload = Math.max(peakFromReload, r);
  }, 100);
  const t0 = performance.now();
  await Promise.all(
    Array.from({ length: clients }, async () => {
      while (next < requests) {
        const i = next++;
        if (i === Math.floor(requests / 2)) {
          reloading = true;
          reload = command(socket, 'zRELOAD\0');
        }
        const f = files[i % files.length];
        const t = performance.now();
        const reply = await instream(socket, f.bytes);
        latencies.push(performance.now() - t);
        if (reply.startsWith('DROPPED')) counts.dropped++;
        else if (reply.endsWith('FOUND')) counts.found++;
        else if (reply.endsWith('ERROR')) counts.error++;
        else counts.ok++;
        if (!verdicts.has(f.path)) verdicts.set(f.path, reply);
      }
    }),
  );
  const seconds = (performance.now() - t0) / 1000;
  const reloadReply = await reload;
  clearInterval(sampler);
  latencies.sort((a, b) => a - b);
  const q = (p) => latencies[Math.min(latencies.length - 1, Math.floor(p * latencies.length))];
  return {
    requestsPerSecond: requests / seconds,
    p50ms: q(0.5),
    p99ms: q(0.99),
    peakRssMiB: peak,
    peakRssFromReloadMiB: peakFromReload,
    reloadReply: reloadReply.replace('\0', ''),
    counts,
    verdicts,
  };
}

/**
 * Runs the benchmark on `db` with the small files of `corpus`; returns the results (verdicts as a
 * count of differing files). Options: clients, requests, maxSize.
 */
export async function runDaemonBench({ db, corpus, out, clients = 16, requests = 4000, maxSize = 1 << 20 }) {
  const files = smallFiles(corpus, maxSize);
  console.log(
    `\ndaemon load: ${requests} INSTREAM scans of ${files.length} corpus files <= ${maxSize} bytes, ${clients} clients`,
  );
  const results = {};
  for (const kind of ['clamd', 'vigil']) {
    const dir = mkdtempSync(join(tmpdir(), `bench-${kind}-`));
    const socket = join(dir, 'sock');
    const file = join(dir, 'clamd.conf');
    const settings = [
      `LocalSocket ${socket}`,
      `DatabaseDirectory ${db}`,
      'Foreground yes',
      `MaxThreads ${Math.max(availableParallelism(), 2)}`,
      'MaxQueue 200',
      'StreamMaxLength 100M',
      'SelfCheck 0',
      ...(kind === 'vigil' ? [`DatabaseCacheDirectory ${join(dir, 'cache')}`] : []),
    ];
    writeFileSync(file, `${settings.join('\n')}\n`);
    const conf = { file, socket };
    const r = { kind };
    if (kind === 'vigil') {
      // The first start compiles the text database into the cache; the second opens the compiled copy.
      const cold = await start(kind, conf);
      r.coldStartSeconds = cold.seconds;
      await stop(cold.child);
    }
    const d = await start(kind, conf);
    r.startSeconds = d.seconds;
    await sleep(500);
    r.idleRssMiB = rssOf(d.child.pid);
    Object.assign(r, await load(socket, d.child.pid, files, { clients, requests }));
    await stop(d.child);
    rmSync(dir, { recursive: true, force: true });
    results[kind] = r;
    const c = r.counts;
    console.log(
      `  ${kind.padEnd(5)} start ${r.startSeconds.toFixed(2)} s${r.coldStartSeconds ? ` (first, compiling: ${r.coldStartSeconds.toFixed(2)} s)` : ''}, ` +
        `idle ${r.idleRssMiB.toFixed(0)} MiB, peak ${r.peakRssMiB.toFixed(0)} MiB (from the RELOAD on: ${r.peakRssFromReloadMiB.toFixed(0)} MiB), ` +
        `${r.requestsPerSecond.toFixed(0)} req/s, p50 ${r.p50ms.toFixed(1)} ms, p99 ${r.p99ms.toFixed(1)} ms, ` +
        `found ${c.found} ok ${c.ok} error ${c.error} dropped ${c.dropped}, RELOAD: ${r.reloadReply}`,
    );
  }
  const differing = [...results.clamd.verdicts].filter(([f, v]) => results.vigil.verdicts.get(f) !== v);
  for (const [f, v] of differing.slice(0, 5))
    console.log(`  differs: ${f}: clamd '${v}', vigil '${results.vigil.verdicts.get(f)}'`);
  const ratios = {
    throughput: results.vigil.requestsPerSecond / results.clamd.requestsPerSecond,
    peakRss: results.vigil.peakRssMiB / results.clamd.peakRssMiB,
    start: results.vigil.startSeconds / results.clamd.startSeconds,
    p99: results.vigil.p99ms / results.clamd.p99ms,
  };
  console.log(
    `  vigil/clamd: throughput ${ratios.throughput.toFixed(2)}x (target >= 2), peak RSS ${ratios.peakRss.toFixed(2)}x (target <= 0.5), ` +
      `start ${ratios.start.toFixed(2)}x, p99 ${ratios.p99.toFixed(2)}x; files with different verdicts: ${differing.length}`,
  );
  const summary = { ratios, differingFiles: differing.length };
  for (const kind of ['clamd', 'vigil']) {
    const { verdicts, ...rest } = results[kind];
    summary[kind] = rest;
  }
  if (out !== undefined) {
    mkdirSync(out, { recursive: true });
    writeFileSync(join(out, 'daemon.json'), `${JSON.stringify(summary, null, 2)}\n`);
  }
  return summary;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  const { corpus, db } = benchInputs(option('scale', '1'));
  await runDaemonBench({
    db,
    corpus,
    out: join(root, 'bench', 'out'),
    clients: Number(option('clients', '16')),
    requests: Number(option('requests', '4000')),
    maxSize: Number(option('max-size', String(1 << 20))),
  });
}
