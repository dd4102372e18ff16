// A private PostgreSQL server for the tests, from Debian's postgresql package: initdb into a
// temporary directory, listening only on a Unix socket in that directory (no TCP port), started
// with pg_ctl on first use and stopped, its directory deleted, when the test file ends. As root
// (initdb refuses to run as root) the server runs as the postgres user through runuser. Each test
// gets a database of its own. Not part of the public API; the tests themselves are elsewhere.
import { execFile } from 'node:child_process';
import { existsSync, readdirSync, readFileSync } from 'node:fs';
import { appendFile, chown, mkdir, mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after } from 'node:test';
import { promisify } from 'node:util';
import pg from 'pg';

const exec = promisify(execFile);
const BIN_ROOT = '/usr/lib/postgresql';
const isRoot = process.getuid?.() === 0;

/** The newest /usr/lib/postgresql/<version>/bin holding initdb and pg_ctl, if any. */
export function findPostgresBin(): string | undefined {
  const versions = existsSync(BIN_ROOT) ? readdirSync(BIN_ROOT).filter((v) => /^\d+$/.test(v)) : [];
  return versions
    .sort((x, y) => Number(y) - Number(x))
    .map((v) => join(BIN_ROOT, v, 'bin'))
    .find((bin) => existsSync(join(bin, 'initdb')) && existsSync(join(bin, 'pg_ctl')));
}

/** The uid and gid of the postgres user, from /etc/passwd. */
function postgresUser(): { uid: number; gid: number } | undefined {
  const line = readFileSync('/etc/passwd', 'utf8')
    .split('\n')
    .find((l) => l.startsWith('postgres:'));
  const [, , uid, gid] = line?.split(':') ?? [];
  return uid === undefined || gid === undefined ? undefined : { uid: Number(uid), gid: Number(gid) };
}

/** Why the PostgreSQL tests cannot run here (for node:test's `skip`), or false when they can. */
export function postgresMissing(): string | false {
  if (findPostgresBin() === undefined) {
    return `no ${BIN_ROOT}/*/bin/initdb: install Debian's postgresql package (apt-get install postgresql)`;
  }
  if (isRoot && postgresUser() === undefined) {
    return "as root the server must run as the postgres user, and there is none: install Debian's postgresql package";
  }
  return false;
}

/** A running test server. */
export interface TestPostgres {
  /** The connection string of a new, empty database. */
  freshDatabase(): Promise<string>;
  /** Runs `sql` as the superuser in the database `url` names. */
  sql(url: string, sql: string): Promise<pg.QueryResult>;
  /** The connection string of a database that does not exist (a socket directory with no server). */
  readonly unreachable: string;
}

/** `key = 'value'` for postgresql.conf. */
const setting = (key: string, value: string | number): string => `${key} = '${String(value).replaceAll("'", "''")}'\n`;

/** Runs a PostgreSQL program, as the postgres user when this process is root. */
async function pgProgram(bin: string, program: string, args: readonly string[]): Promise<void> {
  const path = join(bin, program);
  try {
    await (isRoot ? exec('runuser', ['-u', 'postgres', '--', path, ...args]) : exec(path, args));
  } catch (e) {
    const err = e as { stderr?: string; message: string };
    throw new Error(`${program} ${args.join(' ')} failed: ${err.stderr || err.message}`, { cause: e });
  }
}

interface Started {
  readonly server: TestPostgres;
  readonly stop: () => Promise<void>;
}

/** initdb into `root`/data, set to listen on `root`/socket only; returns the socket and port. */
async function initCluster(bin: string, root: string): Promise<{ data: string; socket: string; port: number }> {
  const data = join(root, 'data');
  const socket = join(root, 'socket');
  await mkdir(socket);
  const user = isRoot ? postgresUser() : undefined;
  if (user !== undefined) for (const dir of [root, socket]) await chown(dir, user.uid, user.gid);
  await pgProgram(bin, 'initdb', ['-D', data, '-U', 'postgres', '-A', 'trust', '--no-locale', '-E', 'UTF8', '-N']);
  // Any port number will do: it only names the socket file, in a directory of our own.
  const port = 20_000 + Math.floor(Math.random() * 40_000);
  // Durability is not under test here; a short deadlock_timeout makes the deadlock test quick.
  const conf =
    setting('listen_addresses', '') +
    setting('unix_socket_directories', socket) +
    setting('port', port) +
    setting('fsync', 'off') +
    setting('synchronous_commit', 'off') +
    setting('full_page_writes', 'off') +
    setting('deadlock_timeout', '100ms');
  await appendFile(join(data, 'postgresql.conf'), conf);
  return { data, socket, port };
}

/** The test server's handle, over a superuser connection to its `postgres` database. */
function testServer(admin: pg.Client, url: (db: string) => string, unreachable: string): TestPostgres {
  let n = 0;
  return {
    async freshDatabase() {
      const name = `vigil_test_${++n}`;
      await admin.query(`CREATE DATABASE ${name}`);
      return url(name);
    },
    async sql(dbUrl, text) {
      const client = new pg.Client({ connectionString: dbUrl });
      await client.connect();
      try {
        return await client.query(text);
      } finally {
        await client.end();
      }
    },
    unreachable,
  };
}

/** Creates and starts a server; whatever fails on the way, nothing is left running or on disk. */
async function start(bin: string): Promise<Started> {
  const root = await mkdtemp(join(tmpdir(), 'vigil-pg-'));
  let data: string | undefined;
  const stop = async () => {
    if (data !== undefined) {
      await pgProgram(bin, 'pg_ctl', ['-D', data, '-m', 'immediate', '-w', 'stop']).catch(() => undefined);
    }
    await rm(root, { recursive: true, force: true });
  };
  const log = join(root, 'server.log');
  try {
    const cluster = await initCluster(bin, root);
    data = cluster.data;
    await pgProgram(bin, 'pg_ctl', ['-D', cluster.data, '-l', log, '-w', '-t', '60', 'start']);
    const where = `?host=${encodeURIComponent(cluster.socket)}&port=${cluster.port}`;
    const url = (db: string) => `postgresql://postgres@/${db}${where}`;
    const admin = new pg.Client({ connectionString: url('postgres') });
    admin.on('error', () => undefined);
    await admin.connect();
    const unreachable = `postgresql://postgres:s3cret@/nowhere?host=${encodeURIComponent(join(root, 'none'))}`;
    const server = testServer(admin, url, unreachable);
    return {
      server,
      stop: async () => {
        await admin.end().catch(() => undefined);
        await stop();
      },
    };
  } catch (e) {
    const tail = await readFile(log, 'utf8').catch(() => '');
    await stop();
    throw new Error(`Cannot start the test PostgreSQL server: ${(e as Error).message}\n${tail}`, { cause: e });
  }
}

/**
 * Call at the top level of a test file: registers the server's stop with node:test's `after`
 * (an `after` registered inside `before` would run at once) and returns a function that starts
 * the server on first use and gives it to every later caller.
 */
export function usePostgres(): () => Promise<TestPostgres> {
  let started: Promise<Started> | undefined;
  after(async () => {
    const s = await started?.catch(() => undefined);
    await s?.stop();
  });
  return async () => {
    const bin = findPostgresBin();
    if (bin === undefined) throw new Error(String(postgresMissing()));
    started ??= start(bin);
    return (await started).server;
  };
}
