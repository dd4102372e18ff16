// The script view of an HTML document: each `<script>` body (whatever its type or language) put
// through a JavaScript normaliser like ClamAV's (jsparse/js-norm.c), written as
// `<script>...</script>`, scripts separated by `\n`. Rules, each checked against clamscan 1.4.6:
//   - tokens are written without white space, except one space between two that would otherwise
//     run together (`return n004*7`, `1 e5`, `0 x41`); everything is lower-cased;
//   - names declared by `var`, `function` or as parameters become n000, n001, ... in order of
//     declaration (a second declaration takes a new number for every use); other names, and
//     names after a `.`, are kept; keywords are kept (case matters: `Var` is a name);
//   - strings are written in double quotes with \b \t \n \v \f \r \0 \xHH \uHHHH and \<c> decoded,
//     white space as a space, a NUL as byte 1; `"a" + 'b'` is joined into `"ab"`;
//   - integers are read as C's atoi (32 bits; `007` is 7, `0x41` is `0` then `x41`), decimals
//     written with printf's %g (`1.50` is 1.5, `0.000001` is 1e-06);
//   - `/* */` comments are dropped; a `//` comment ends at a space or a line end (so
//     `// a b` leaves `b`); characters outside the tokenizer's classes (`@`, `#`, bytes > 0x7f) are
//     dropped; a name or number cut by the end of the script is dropped, an unclosed string is
//     closed, unbalanced `(` get their `)`; the body includes `</script>`, which is written once;
//   - `unescape("...")` with a string argument is replaced by the unescaped string, and
//     `eval("...")` by the tokens of its string.
// Left out: ClamAV's other decoders (Dean Edwards' packer `function(p,a,c,k,e,d)`, scriptasylum's
// `dF(...)`), the Microsoft Script Encoder (`jscript.encode`), and ClamAV's 8 KiB reading chunks.
// Caps: at most MAX_NAMES names per script are renamed (ClamAV's table only grows); the output is
// at most twice the input plus 64 bytes per script, and at most MAX_EVALS `eval`s are expanded.

import { formatG } from './cformat.js';
import { atoi, decodeEscapes, jsUnescape } from './js-literals.js';
import { keep, scratch } from './scratch.js';
import { isSpace } from './text.js';

/** Names kept in one script's rename tables; later new names are written as they are. */
export const MAX_NAMES = 1 << 16;
/** `eval("...")` calls expanded per script. */
export const MAX_EVALS = 256;

// Token kinds. `Other` covers keywords and operators, written as their text.
const STR = 0;
const NUM = 1;
const ID = 2;
const MEMBER = 3;
const FUNC = 4;
const VAR = 5;
const PLUS = 6;
const PAR_OPEN = 7;
const PAR_CLOSE = 8;
const CURLY_OPEN = 9;
const CURLY_CLOSE = 10;
const BR_OPEN = 11;
const BR_CLOSE = 12;
const COMMA = 13;
const SEMI = 14;
const DOT = 15;
const OTHER = 16;

interface Scope {
  readonly names: Map<string, number>;
  readonly parent: Scope | undefined;
  fsm: Fsm;
  last: number;
  brackets: number;
  blocks: number;
}

interface Token {
  k: number;
  s: string;
  /** For FUNC: the scope it opens, or null for the marker that closes one. */
  scope?: Scope | null;
}

enum Fsm {
  Base,
  InsideVar,
  InsideInitializer,
  WaitFunctionName,
  WaitParameterList,
  InsideFunctionDecl,
}

enum Mode {
  Initial,
  BlockComment,
  LineComment,
  Number,
  DoubleQuoted,
  SingleQuoted,
  Name,
}

const KEYWORDS = new Set(
  (
    'break case catch continue default delete do else finally for function if in instanceof new return switch ' +
    'this throw try typeof var void while with null true false abstract boolean byte char class const debugger ' +
    'double enum export extends final float goto implements import int interface long native package private ' +
    'protected public short static super synchronized throws transient volatile'
  ).split(' '),
);

const OPERATORS = new Set(
  '= + === >>> !== << <= == >= >> || -- != && ++ *= /= %= += -= <<= >>= >>>= &= ^= |= & : / ! > < - * | % ? ~ ^'.split(
    ' ',
  ),
);

const SPECIAL: Readonly<Record<string, number>> = {
  '[': BR_OPEN,
  ']': BR_CLOSE,
  ',': COMMA,
  '{': CURLY_OPEN,
  '}': CURLY_CLOSE,
  '(': PAR_OPEN,
  ')': PAR_CLOSE,
  '.': DOT,
  ';': SEMI,
};

const isDigit = (c: number): boolean => c >= 0x30 && c <= 0x39;
const isAlpha = (c: number): boolean => (c >= 0x41 && c <= 0x5a) || (c >= 0x61 && c <= 0x7a);
const isAlnum = (c: number): boolean => isDigit(c) || isAlpha(c);
const isNameChar = (c: number): boolean => isAlnum(c) || c === 0x24 || c === 0x5f;
const isOpChar = (c: number): boolean => c < 0x80 && '!%&*+-:<=>?^|~'.includes(String.fromCharCode(c));
/** One script's tokenizer and parser state (ClamAV's parser_state): tokens, scopes, renames. */
class Script {
  tokens: Token[] = [];
  readonly global: Scope = Script.scope(undefined);
  current: Scope = this.global;
  private mode = Mode.Initial;
  private text = '';
  private isFloat = false;
  private uniq = 0;
  private names = 0;

  static scope(parent: Scope | undefined): Scope {
    return { names: new Map(), parent, fsm: Fsm.Base, last: -1, brackets: 0, blocks: 0 };
  }

  /** Tokenizes `d` and feeds the tokens to the parser; the mode carries over to the next call. */
  lex(d: Uint8Array): void {
    let pos = 0;
    while (pos < d.length) {
      switch (this.mode) {
        case Mode.Initial:
          pos = this.initial(d, pos);
          break;
        case Mode.BlockComment:
          pos = this.blockComment(d, pos);
          break;
        case Mode.LineComment:
          while (pos < d.length && d[pos] !== 0x0a && d[pos] !== 0x20) pos++;
          this.mode = Mode.Initial;
          break;
        case Mode.DoubleQuoted:
        case Mode.SingleQuoted:
          pos = this.string(d, pos);
          break;
        case Mode.Number:
          pos = this.number(d, pos);
          break;
        case Mode.Name:
          pos = this.name(d, pos);
          break;
      }
    }
  }

  private blockComment(d: Uint8Array, pos: number): number {
    for (let p = d.indexOf(0x2a, pos); p >= 0 && p + 1 < d.length; p = d.indexOf(0x2a, p + 1)) {
      if (d[p + 1] === 0x2f) {
        this.mode = Mode.Initial;
        return p + 2;
      }
    }
    return d.length;
  }

  private initial(d: Uint8Array, pos: number): number {
    const c = d[pos++] as number;
    this.text = '';
    if (c === 0x2f && (d[pos] === 0x2a || d[pos] === 0x2f)) {
      this.mode = d[pos] === 0x2a ? Mode.BlockComment : Mode.LineComment;
      return pos + 1;
    }
    if (c === 0x2f || isOpChar(c)) return this.operator(d, pos - 1);
    if (c === 0x22 || c === 0x27) {
      this.mode = c === 0x22 ? Mode.DoubleQuoted : Mode.SingleQuoted;
      return this.string(d, pos);
    }
    if (isDigit(c)) {
      this.mode = Mode.Number;
      this.isFloat = false;
      return this.number(d, pos - 1);
    }
    if (isNameChar(c) || c === 0x5c) {
      this.mode = Mode.Name;
      return this.name(d, pos - 1);
    }
    const special = SPECIAL[String.fromCharCode(c)];
    if (special !== undefined) this.push(special, String.fromCharCode(c));
    return pos;
  }

  private operator(d: Uint8Array, pos: number): number {
    for (let len = Math.min(4, d.length - pos); len > 0; len--) {
      let op = '';
      for (let k = 0; k < len; k++) op += String.fromCharCode(d[pos + k] as number);
      if (OPERATORS.has(op)) {
        this.push(op === '+' ? PLUS : OTHER, op);
        return pos + len;
      }
    }
    return pos + 1;
  }

  private string(d: Uint8Array, pos: number): number {
    const q = this.mode === Mode.DoubleQuoted ? 0x22 : 0x27;
    let end = d.indexOf(q, pos);
    while (end > pos && d[end - 1] === 0x5c) end = d.indexOf(q, end + 1);
    this.text += decodeEscapes(d, pos, end < 0 ? d.length : end);
    if (end < 0) return d.length;
    this.mode = Mode.Initial;
    this.push(STR, this.text);
    return end + 1;
  }

  private number(d: Uint8Array, pos: number): number {
    while (pos < d.length) {
      let c = d[pos++] as number;
      if (isDigit(c) || (c === 0x2e && !this.isFloat)) {
        if (c === 0x2e) this.isFloat = true;
        this.text += String.fromCharCode(c);
        continue;
      }
      if ((c === 0x65 || c === 0x45) && this.isFloat) {
        this.text += String.fromCharCode(c);
        if (pos < d.length) {
          c = d[pos++] as number;
          if (c === 0x2b || c === 0x2d || isDigit(c)) {
            this.text += String.fromCharCode(c);
            continue;
          }
        }
      }
      this.mode = Mode.Initial;
      this.push(NUM, this.isFloat ? formatG(Number.parseFloat(this.text)) : atoi(this.text));
      return pos - 1;
    }
    return pos;
  }

  private name(d: Uint8Array, pos: number): number {
    while (pos < d.length) {
      const c = d[pos++] as number;
      if (isNameChar(c)) {
        this.text += String.fromCharCode(c);
        continue;
      }
      if (c === 0x5c && pos < d.length && d[pos++] === 0x75) {
        // `\u` keeps the backslash and drops the u, as ClamAV does.
        this.text += '\\';
        continue;
      }
      if (c === 0x5c && pos === d.length) pos++;
      this.mode = Mode.Initial;
      const word = this.text;
      this.push(word === 'var' ? VAR : word === 'function' ? FUNC : KEYWORDS.has(word) ? OTHER : ID, word);
      return pos - 1;
    }
    return pos;
  }

  private declare(scope: Scope, name: string): void {
    const id = this.uniq++;
    if (scope.names.has(name) || this.names < MAX_NAMES) {
      if (!scope.names.has(name)) this.names++;
      scope.names.set(name, id);
    }
  }

  private use(scope: Scope, name: string): void {
    if (scope.names.has(name) || this.names >= MAX_NAMES) return;
    this.names++;
    scope.names.set(name, -1);
  }

  /** The parser: tracks declarations and function scopes, joins `"a" + "b"`, keeps the token. */
  push(kind: number, s: string): void {
    let cur = this.current;
    const token: Token = { k: kind, s };
    switch (kind) {
      case VAR:
        cur.fsm = Fsm.InsideVar;
        break;
      case ID:
        this.onName(cur, token);
        break;
      case PAR_OPEN:
        if (cur.fsm === Fsm.WaitFunctionName || cur.fsm === Fsm.WaitParameterList) cur.fsm = Fsm.InsideFunctionDecl;
        break;
      case PAR_CLOSE:
        if (cur.fsm === Fsm.WaitParameterList) cur.fsm = Fsm.Base;
        break;
      case CURLY_OPEN:
        if (cur.fsm >= Fsm.WaitFunctionName) cur.fsm = Fsm.Base;
        cur.blocks++;
        break;
      case CURLY_CLOSE:
        if (cur.blocks > 0) cur.blocks--;
        if (cur.blocks === 0 && cur.parent !== undefined) {
          // The brace, then a marker that closes the function's scope on output.
          this.tokens.push(token);
          this.tokens.push({ k: FUNC, s: '}', scope: null });
          cur = this.current = cur.parent;
          cur.last = kind;
          return;
        }
        break;
      case BR_OPEN:
        cur.brackets++;
        break;
      case BR_CLOSE:
        if (cur.brackets > 0) cur.brackets--;
        break;
      case COMMA:
        if (cur.fsm === Fsm.InsideInitializer && cur.brackets === 0 && cur.blocks === 0) cur.fsm = Fsm.InsideVar;
        break;
      case SEMI:
        if (cur.brackets === 0 && cur.blocks === 0) cur.fsm = Fsm.Base;
        break;
      case FUNC:
        cur = this.current = Script.scope(cur);
        cur.fsm = Fsm.WaitFunctionName;
        token.scope = cur;
        break;
      case STR: {
        const n = this.tokens.length;
        const prev = this.tokens[n - 2];
        if (n > 1 && this.tokens[n - 1]?.k === PLUS && prev?.k === STR) {
          this.tokens.pop();
          prev.s += s;
          return;
        }
        break;
      }
    }
    this.tokens.push(token);
    cur.last = kind;
  }

  /** A name: a member after `.`, a declaration, or a use, by the parser's state. */
  private onName(cur: Scope, token: Token): void {
    if (cur.last === DOT) {
      token.k = MEMBER;
      return;
    }
    switch (cur.fsm) {
      case Fsm.Base:
      case Fsm.InsideInitializer:
      case Fsm.WaitParameterList:
        this.use(cur, token.s);
        break;
      case Fsm.InsideVar:
      case Fsm.InsideFunctionDecl:
        this.declare(cur, token.s);
        cur.fsm = Fsm.InsideInitializer;
        cur.brackets = 0;
        break;
      case Fsm.WaitFunctionName:
        this.declare(cur, token.s);
        cur.fsm = Fsm.WaitParameterList;
        break;
    }
  }

  /** End of the script: closes an open string and open parentheses, then runs the decoders. */
  finish(): void {
    if (this.mode === Mode.DoubleQuoted) this.lex(Uint8Array.of(0x22));
    if (this.mode === Mode.SingleQuoted) this.lex(Uint8Array.of(0x27));
    let open = 0;
    for (const t of this.tokens) {
      if (t.k === PAR_OPEN) open++;
      else if (t.k === PAR_CLOSE && open > 0) open--;
    }
    for (; open > 0; open--) this.tokens.push({ k: PAR_CLOSE, s: ')' });
    const t = this.tokens;
    for (let i = 0; i + 2 < t.length; i++) {
      const arg = t[i + 2] as Token;
      if (t[i]?.k === ID && t[i]?.s === 'unescape' && t[i + 1]?.k === PAR_OPEN && arg.k === STR && i + 4 <= t.length) {
        t.splice(i, 4, { k: STR, s: jsUnescape(arg.s) });
      }
    }
    this.evals();
  }

  /**
   * `eval("...")` becomes the tokens of its string, parsed in the scope where the call stands
   * (ClamAV's run_decoders walk, including its skip of the two tokens after `function`).
   */
  private evals(): void {
    let expanded = 0;
    for (let i = 0; i < this.tokens.length; i++) {
      const t = this.tokens;
      const tok = t[i] as Token;
      if (tok.k === FUNC && i + 13 < t.length) {
        i++;
        if (t[i]?.k === ID) i++;
      } else if (tok.k === ID && tok.s === 'eval' && i + 3 < t.length && t[i + 1]?.k === PAR_OPEN) {
        const arg = t[i + 2] as Token;
        if (arg.k === STR && t[i + 3]?.k === PAR_CLOSE && expanded++ < MAX_EVALS) {
          const end = t[i + 4]?.k === SEMI ? i + 5 : i + 4;
          this.tokens = [];
          this.lex(latin1(arg.s));
          const inner = this.tokens;
          this.tokens = t;
          t.splice(i, end - i, ...inner.slice(0, 1 << 20));
        }
      }
      const now = this.tokens[i];
      if (now?.k === FUNC) {
        if (now.scope) this.current = now.scope;
        else if (this.current.parent !== undefined) this.current = this.current.parent;
      }
    }
  }

  /** Writes the tokens as `<script>...</script>` into `out`. */
  write(out: Writer): void {
    out.text('<script>');
    let scope: Scope = this.global;
    let last = 0;
    const lookup = (name: string): number => {
      for (let s: Scope | undefined = scope; s !== undefined; s = s.parent) {
        const id = s.names.get(name);
        if (id !== undefined && id >= 0) return id;
      }
      return -1;
    };
    for (const t of this.tokens) {
      let first: number;
      let text: string;
      if (t.k === FUNC) {
        if (t.scope === null) {
          if (scope.parent !== undefined) scope = scope.parent;
          continue;
        }
        if (t.scope !== undefined) scope = t.scope;
      }
      if (t.k === STR) [first, text] = [0x22, `"${t.s}"`];
      else if (t.k === NUM) [first, text] = [0x30, t.s];
      else if (t.k === ID || t.k === FUNC) {
        const id = t.k === FUNC ? -1 : lookup(t.s);
        [first, text] = [0x61, id < 0 ? t.s : `n${String(id).padStart(3, '0')}`];
      } else [first, text] = [t.s.charCodeAt(0), t.s];
      if (isAlnum(last) && isAlnum(first)) out.text(' ');
      out.text(text);
      last =
        t.k === STR
          ? 0x22
          : t.k === NUM
            ? 0x30
            : t.k === ID || t.k === FUNC
              ? 0x61
              : text.charCodeAt(text.length - 1) || 0;
    }
    if (!out.endsWith('</script>')) out.text('</script>');
  }
}

function latin1(s: string): Uint8Array {
  const b = new Uint8Array(s.length);
  for (let i = 0; i < s.length; i++) b[i] = s.charCodeAt(i) & 0xff;
  return b;
}

/** The output buffer: lower-cases, writes white space as a space, and stops at its cap. */
class Writer {
  buf: Uint8Array;
  n = 0;
  constructor(readonly cap: number) {
    this.buf = scratch('html-script', Math.min(cap, 1 << 16));
  }
  text(s: string): void {
    for (let i = 0; i < s.length; i++) {
      const c = s.charCodeAt(i) & 0xff;
      this.put(isSpace(c) ? 0x20 : c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
  }
  put(c: number): void {
    if (this.n >= this.cap) return;
    if (this.n === this.buf.length) {
      const next = new Uint8Array(Math.min(this.cap, this.buf.length * 2));
      next.set(this.buf);
      this.buf = next;
    }
    this.buf[this.n++] = c;
  }
  endsWith(s: string): boolean {
    if (this.n < s.length) return false;
    for (let i = 0; i < s.length; i++) if (this.buf[this.n - s.length + i] !== s.charCodeAt(i)) return false;
    return true;
  }
}

/**
 * Where the body of a script that starts at `from` (just after its `<script ...>` tag) ends: just
 * past its `</script>` and the white space after it, or the end of `d`. As in ClamAV's HTML
 * parser, a `<!` inside a script runs to the next `>`, so it can hide a `</script>`.
 */
export function scriptEnd(d: Uint8Array, from: number): number {
  for (let i = d.indexOf(0x3c, from); i >= 0; i = d.indexOf(0x3c, i + 1)) {
    if (d[i + 1] === 0x21) {
      const gt = d.indexOf(0x3e, i + 2);
      if (gt < 0) return d.length;
      i = gt;
      continue;
    }
    let j = i + 1;
    let tag = '';
    while (j < d.length && d[j] !== 0x3e && !isSpace(d[j] as number) && tag.length < 8) {
      const c = d[j++] as number;
      tag += String.fromCharCode(c >= 0x41 && c <= 0x5a ? c + 0x20 : c);
    }
    if (tag !== '/script' || (j < d.length && d[j] !== 0x3e && !isSpace(d[j] as number))) continue;
    if (d[j] === 0x3e) j++;
    while (j < d.length && isSpace(d[j] as number)) j++;
    return j;
  }
  return d.length;
}

/**
 * The script view of `d` from its script bodies (`[start, end)` ranges, see scriptEnd), or an
 * empty array when there are none; valid until the next call (the buffer is reused). Never throws.
 */
export function normaliseScripts(d: Uint8Array, bodies: readonly (readonly [number, number])[]): Uint8Array {
  if (bodies.length === 0) return new Uint8Array(0);
  const out = new Writer(2 * d.length + 64 * bodies.length);
  for (const [start, end] of bodies) {
    if (out.n > 0) out.put(0x0a);
    const script = new Script();
    // ClamAV's reader drops NUL bytes before the HTML parser sees them.
    script.lex(d.subarray(start, end).filter((b) => b !== 0));
    script.finish();
    script.write(out);
  }
  keep('html-script', out.buf);
  return out.buf.subarray(0, out.n);
}
