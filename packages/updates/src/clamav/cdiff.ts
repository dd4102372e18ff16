// ClamAV's incremental updates (.cdiff): `ClamAV-Diff:<version>:<script length>:`, a gzipped
// script, then `:` and a signature of the SHA-256 of everything before it (ClamAV's second
// signature scheme). The script edits the database's files by line: OPEN a file, ADD lines at its
// end, DEL or XCHG numbered lines (each checked against what the line starts with), CLOSE it;
// MOVE a range of lines to another file; UNLINK a file. Applied to files held in memory: a script
// that does not fit the files changes nothing.
import { type DsigKey, verifyDsig2 } from '@vigil/engine';
import { nodeEnv } from '@vigil/node';
import { UpdateError } from '../errors.js';

/** A database's files by name (ClamAV's database files are text), as a .cvd holds them. */
export type DatabaseFiles = Map<string, string>;

/** A CDIFF's signature sits in its last 350 bytes. */
const SIG_AREA = 350;
/** The most a script may expand to. */
const MAX_SCRIPT = 64 << 20;

/** Checks a .cdiff's signature and returns its version and script. */
export function openCdiff(bytes: Uint8Array, key: DsigKey, name = 'cdiff'): { version: number; script: string } {
  const bad = (why: string) => new UpdateError('E_FORMAT', `${name}: ${why}`);
  const head = Buffer.from(bytes.subarray(0, 64)).toString('latin1');
  const m = /^ClamAV-Diff:(\d+):(\d+):/.exec(head);
  if (m === null) throw bad('not a CDIFF (no ClamAV-Diff:<version>:<length>: header)');
  const tailStart = Math.max(0, bytes.length - SIG_AREA);
  const colon = bytes.lastIndexOf(0x3a);
  if (colon < tailStart || colon < m[0].length) throw bad('no signature at its end');
  const dsig = Buffer.from(bytes.subarray(colon + 1))
    .toString('latin1')
    .trim();
  const digest = nodeEnv.hash('sha256', bytes.subarray(0, colon));
  if (!verifyDsig2(digest, dsig, key, nodeEnv))
    throw new UpdateError('E_SIGNATURE', `${name}: the signature does not verify`);
  let script: Uint8Array;
  try {
    script = nodeEnv.gunzip(bytes.subarray(m[0].length, colon), MAX_SCRIPT);
  } catch (e) {
    throw bad(`the script does not decompress (${(e as Error).message})`);
  }
  return { version: Number(m[1]), script: Buffer.from(script).toString('latin1') };
}

const FILE_NAME = /^[A-Za-z0-9._]+$/;

/** Applies a CDIFF script to `files`, returning the new files; throws, changing nothing, on any mismatch. */
export function applyCdiff(files: DatabaseFiles, script: string, name = 'cdiff'): DatabaseFiles {
  const out = new Map(files);
  let open: { file: string; edits: Map<number, { orig: string; to?: string }>; adds: string[] } | undefined;
  const lines = script.split('\n');
  if (lines.at(-1) === '') lines.pop();
  lines.forEach((line, i) => {
    const fail = (why: string): never => {
      throw new UpdateError('E_FORMAT', `${name}: line ${i + 1} (${line.slice(0, 60)}): ${why}`);
    };
    if (line.startsWith('#') || line === '') return;
    const space = line.indexOf(' ');
    const cmd = space < 0 ? line : line.slice(0, space);
    const rest = space < 0 ? '' : line.slice(space + 1);
    const needOpen = () => open ?? fail(`${cmd} with no file open`);
    const numbered = () => {
      const m = /^(\d+) (.*)$/s.exec(rest);
      if (m === null) return fail('expected a line number and text');
      return { n: Number(m[1]), text: m[2] as string };
    };
    const checkName = (f: string) => (FILE_NAME.test(f) ? f : fail(`bad file name ${JSON.stringify(f)}`));
    switch (cmd) {
      case 'OPEN':
        if (open !== undefined) fail(`${open.file} is still open`);
        open = { file: checkName(rest), edits: new Map(), adds: [] };
        break;
      case 'ADD':
        needOpen().adds.push(rest);
        break;
      case 'DEL': {
        const { n, text } = numbered();
        needOpen().edits.set(n, { orig: text });
        break;
      }
      case 'XCHG': {
        const m =
          /^(\d+) (\S+) (.*)$/s.exec(rest) ?? fail('expected a line number, the old line start and the new line');
        needOpen().edits.set(Number(m[1]), { orig: m[2] as string, to: m[3] as string });
        break;
      }
      case 'CLOSE': {
        const o = needOpen();
        const old = (out.get(o.file) ?? '').split('\n');
        if (old.at(-1) === '') old.pop();
        const kept: string[] = [];
        for (const [k, l] of old.entries()) {
          const e = o.edits.get(k + 1);
          if (e === undefined) {
            kept.push(l);
            continue;
          }
          if (!l.startsWith(e.orig)) fail(`line ${k + 1} of ${o.file} does not start with ${JSON.stringify(e.orig)}`);
          o.edits.delete(k + 1);
          if (e.to !== undefined) kept.push(e.to);
        }
        if (o.edits.size > 0) fail(`${o.file} has no line ${[...o.edits.keys()][0]}`);
        out.set(o.file, [...kept, ...o.adds].map((l) => `${l}\n`).join(''));
        open = undefined;
        break;
      }
      case 'UNLINK':
        if (open !== undefined) fail(`${open.file} is still open`);
        if (!out.delete(checkName(rest))) fail(`there is no ${rest} to remove`);
        break;
      case 'MOVE': {
        const m =
          /^(\S+) (\S+) (\d+) (\S+) (\d+) (\S+)$/.exec(rest) ?? fail('expected SRC DST START START-TEXT END END-TEXT');
        const [src, dst] = [checkName(m[1] as string), checkName(m[2] as string)];
        const [start, end] = [Number(m[3]), Number(m[5])];
        const from = (out.get(src) ?? fail(`there is no ${src}`)).split('\n');
        if (from.at(-1) === '') from.pop();
        if (
          !(from[start - 1] ?? '').startsWith(m[4] as string) ||
          !(from[end - 1] ?? '').startsWith(m[6] as string) ||
          end < start
        ) {
          fail(`lines ${start}-${end} of ${src} are not the ones named`);
        }
        out.set(
          dst,
          (out.get(dst) ?? '') +
            from
              .slice(start - 1, end)
              .map((l) => `${l}\n`)
              .join(''),
        );
        out.set(src, [...from.slice(0, start - 1), ...from.slice(end)].map((l) => `${l}\n`).join(''));
        break;
      }
      default:
        fail(`unknown command ${cmd}`);
    }
  });
  if (open !== undefined) throw new UpdateError('E_FORMAT', `${name}: ${open.file} is never closed`);
  return out;
}
