// Mail: RFC 822 messages and mbox files. Each MIME part is decoded (base64, quoted-printable,
// uuencode) and scanned as a member; multipart bodies and attached messages are followed to a
// bounded depth; uuencoded files inside plain text bodies are found too.
import { latin1 } from '../read.js';
import { decodeBase64, decodeQuotedPrintable, latin1ToBytes, uudecodeAll } from '../textcodecs.js';
import type { ContainerHandler, ExtractContext, Member } from '../types.js';

/** Multipart nesting followed at most (each level is a part of the same message). */
const MAX_NESTING = 32;

interface Headers {
  readonly get: (name: string) => string | undefined;
}

/** Splits a message into its unfolded headers and its body. */
function splitMessage(text: string): { headers: Headers; body: string } {
  const m = /\r?\n\r?\n/.exec(text);
  const head = m === null ? text : text.slice(0, m.index);
  const body = m === null ? '' : text.slice(m.index + m[0].length);
  const map = new Map<string, string>();
  for (const line of head.replace(/\r?\n[ \t]+/g, ' ').split(/\r?\n/)) {
    const colon = line.indexOf(':');
    if (colon <= 0) continue;
    const key = line.slice(0, colon).trim().toLowerCase();
    if (!map.has(key)) map.set(key, line.slice(colon + 1).trim());
  }
  return { headers: { get: (name) => map.get(name) }, body };
}

/** A parameter of a structured header (`boundary="x"`, `name=y`), quoted or not. */
function param(value: string | undefined, name: string): string | undefined {
  if (value === undefined) return undefined;
  const m = new RegExp(`(?:^|;)\\s*${name}\\*?\\s*=\\s*(?:"([^"]*)"|([^;\\s]*))`, 'i').exec(value);
  return m === null ? undefined : (m[1] ?? m[2]);
}

function decodeBody(body: string, encoding: string): Uint8Array {
  if (encoding === 'base64') return decodeBase64(body);
  if (encoding === 'quoted-printable') return decodeQuotedPrintable(body);
  return latin1ToBytes(body);
}

/** The bodies of a multipart: the text between `--boundary` lines, up to `--boundary--`. */
function parts(body: string, boundary: string): string[] {
  const out: string[] = [];
  const delimiter = `--${boundary}`;
  let current: string[] | undefined;
  for (const line of body.split(/\n/)) {
    const l = line.endsWith('\r') ? line.slice(0, -1) : line;
    if (l.startsWith(delimiter)) {
      if (current !== undefined) out.push(current.join('\n'));
      current = l.startsWith(`${delimiter}--`) ? undefined : [];
      continue;
    }
    current?.push(line);
  }
  if (current !== undefined) out.push(current.join('\n'));
  return out;
}

function* message(text: string, ctx: ExtractContext, counter: { n: number }, depth: number): Generator<Member> {
  if (depth > MAX_NESTING) {
    ctx.broken(`multipart nesting deeper than ${MAX_NESTING}`);
    return;
  }
  const { headers, body } = splitMessage(text);
  const contentType = headers.get('content-type') ?? 'text/plain';
  const type = (contentType.split(';')[0] ?? '').trim().toLowerCase();
  if (type.startsWith('multipart/')) {
    const boundary = param(contentType, 'boundary');
    if (boundary === undefined || boundary === '') {
      ctx.broken('a multipart part has no boundary');
      yield { name: `part${++counter.n}`, data: latin1ToBytes(body) };
      return;
    }
    for (const p of parts(body, boundary)) yield* message(p, ctx, counter, depth + 1);
    return;
  }
  if (type === 'message/rfc822') {
    yield* message(body, ctx, counter, depth + 1);
    return;
  }
  const encoding = (headers.get('content-transfer-encoding') ?? '7bit').trim().toLowerCase();
  const name =
    param(headers.get('content-disposition'), 'filename') ?? param(contentType, 'name') ?? `part${++counter.n}`;
  if (encoding === 'x-uuencode' || encoding === 'uuencode' || encoding === 'x-uue') {
    for (const f of uudecodeAll(body)) yield f;
    return;
  }
  const data = decodeBody(body, encoding);
  if (data.length > ctx.maxMemberSize) {
    ctx.tooBig(name, data.length);
    return;
  }
  yield { name, data };
  // Plain text may carry uuencoded files inline, as old mailers sent them.
  if (type.startsWith('text/') && /^begin [0-7]{3,4} /m.test(body)) yield* uudecodeAll(body);
}

/** The messages of an mbox file (lines `From ` after a blank line start a new one), or the one message. */
function messages(text: string): string[] {
  if (!text.startsWith('From ')) return [text];
  return text.split(/\r?\n\r?\n(?=From )/).map((m) => m.slice(m.indexOf('\n') + 1));
}

export const mailHandler: ContainerHandler = {
  name: 'Mail',
  families: ['mail'],
  types: ['CL_TYPE_MAIL'],
  *extract(data, ctx) {
    const counter = { n: 0 };
    for (const m of messages(latin1(data))) yield* message(m, ctx, counter, 0);
  },
};
