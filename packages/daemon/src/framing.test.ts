import assert from 'node:assert/strict';
import { test } from 'node:test';
import { type FrameEvent, FrameReader, MAX_COMMAND_LENGTH } from './framing.js';

const enc = (s: string) => new Uint8Array(Buffer.from(s, 'latin1'));
const be32 = (n: number) => new Uint8Array([n >>> 24, (n >>> 16) & 255, (n >>> 8) & 255, n & 255]);
const cat = (...parts: Uint8Array[]) => new Uint8Array(Buffer.concat(parts));

/** Feeds `bytes` in pieces of `step` and merges the chunk events, so every split gives one answer. */
function parse(bytes: Uint8Array, step = bytes.length): string[] {
  const r = new FrameReader();
  const out: string[] = [];
  const events: FrameEvent[] = [];
  for (let i = 0; i < bytes.length; i += step) events.push(...r.push(bytes.subarray(i, i + step)));
  let data = '';
  for (const e of events) {
    if (e.type !== 'chunk' && data !== '') {
      out.push(`data:${data}`);
      data = '';
    }
    if (e.type === 'command') {
      const c = e.command;
      out.push(`${c.prefix}|${c.name}|${c.argument ?? '-'}|${c.delimiter === '\0' ? 'NUL' : 'NL'}`);
    } else if (e.type === 'chunk') data += Buffer.from(e.data).toString('latin1');
    else if (e.type === 'chunk-length') out.push(`len:${e.size}`);
    else if (e.type === 'stream-end') out.push('end');
    else out.push(`invalid:${e.reason}`);
  }
  if (data !== '') out.push(`data:${data}`);
  return out;
}

test('the three framings: z with NUL, n with newline, and the old unprefixed form', () => {
  assert.deepEqual(parse(enc('zPING\0')), ['z|PING|-|NUL']);
  assert.deepEqual(parse(enc('nSCAN /tmp/a b  \n')), ['n|SCAN|/tmp/a b  |NL']);
  assert.deepEqual(parse(enc('PING\r\n')), ['|PING|-|NL']);
  // A z command runs to its NUL: a newline inside is part of the path.
  assert.deepEqual(parse(enc('zSCAN /tmp/odd\nname\0')), ['z|SCAN|/tmp/odd\nname|NUL']);
});

test('an unprefixed command without its newline ends with the read that brought it, as in clamd', () => {
  const r = new FrameReader();
  assert.deepEqual(
    r.push(enc('PING')).map((e) => e.type === 'command' && e.command.name),
    ['PING'],
  );
  // A prefixed one waits for its delimiter.
  assert.deepEqual(new FrameReader().push(enc('nPING')), []);
  // Unprefixed INSTREAM is not a stream (clamd answers UNKNOWN COMMAND): no chunk mode.
  const u = new FrameReader();
  u.push(enc('INSTREAM\n'));
  assert.equal(u.inStream, false);
});

test('an INSTREAM and the session commands pipelined after it parse the same at every split', () => {
  const bytes = cat(
    enc('zIDSESSION\0zINSTREAM\0'),
    be32(3),
    enc('abc'),
    be32(2),
    enc('de'),
    be32(0),
    enc('zPING\0zEND\0'),
  );
  const want = [
    'z|IDSESSION|-|NUL',
    'z|INSTREAM|-|NUL',
    'len:3',
    'data:abc',
    'len:2',
    'data:de',
    'end',
    'z|PING|-|NUL',
    'z|END|-|NUL',
  ];
  for (let step = 1; step <= bytes.length; step++) assert.deepEqual(parse(bytes, step), want, `step ${step}`);
});

test('a chunk length is announced before its bytes arrive (limits are checked first)', () => {
  const r = new FrameReader();
  assert.deepEqual(
    r.push(enc('nINSTREAM\n')).map((e) => e.type),
    ['command'],
  );
  assert.deepEqual(r.push(be32(0x7fffffff)), [{ type: 'chunk-length', size: 0x7fffffff }]);
  assert.equal(r.inStream, true);
});

test('paths keep every byte (Latin-1 in, Latin-1 out)', () => {
  const bytes = cat(enc('nSCAN /tmp/'), new Uint8Array([0xc3, 0xa9, 0xff]), enc('\n'));
  const [line] = parse(bytes);
  assert.equal(line, `n|SCAN|/tmp/\u00c3\u00a9\u00ff|NL`);
});

test('a command line that never ends is cut off at the limit, once', () => {
  const r = new FrameReader();
  const events = r.push(new Uint8Array(MAX_COMMAND_LENGTH + 10).fill(0x41).fill(0x6e, 0, 1));
  assert.deepEqual(
    events.map((e) => e.type),
    ['invalid'],
  );
  assert.deepEqual(r.push(enc('\n')), []);
});

test('a partial command or chunk header is reported as partial', () => {
  const r = new FrameReader();
  r.push(enc('nPI'));
  assert.equal(r.partial, true);
  r.push(enc('NG\n'));
  assert.equal(r.partial, false);
});

test('FILDES is complete with the byte after it (the one its descriptor comes with), however split', () => {
  const session = enc('zIDSESSION\0zFILDES\0\0zFILDES\0\0zPING\0zEND\0');
  const want = ['z|IDSESSION|-|NUL', 'z|FILDES|-|NUL', 'z|FILDES|-|NUL', 'z|PING|-|NUL', 'z|END|-|NUL'];
  for (const step of [1, 2, 3, 7, session.length]) assert.deepEqual(parse(session, step), want, `step ${step}`);
  // Whatever that byte is, it is not read as a command.
  assert.deepEqual(parse(enc('nFILDES\nX')), ['n|FILDES|-|NL']);
  const r = new FrameReader();
  assert.deepEqual(r.push(enc('zFILDES\0')), []);
  assert.equal(r.partial, true, 'a FILDES still waiting for its byte is an unfinished command');
  assert.equal(r.push(enc('\0')).length, 1);
  assert.equal(r.partial, false);
});
