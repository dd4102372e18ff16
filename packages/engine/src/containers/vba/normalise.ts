// ClamAV's normalisation of VBA source before it is scanned as part of a project's text: outside
// string literals, runs of blanks become one space and A-Z become a-z; a line continuation
// (" _" then CR LF or LF) joins its lines. Bytes are handled one at a time, UTF-8 or not, and
// comments are not told apart from code, as in ClamAV.

/** Where the normaliser is: in code, in a string literal, after " _", after " _" CR, after a blank. */
const State = { Normal: 0, InString: 1, Underscore: 2, UnderscoreCr: 3, Space: 4 } as const;
type State = (typeof State)[keyof typeof State];

const QUOTE = 0x22;
const UNDERSCORE = 0x5f;
const CR = 0x0d;
const LF = 0x0a;
const TAB = 0x09;
const SPACE = 0x20;

/** `source` normalised as ClamAV does it (see the file header); a new array. */
export function normaliseVba(source: Uint8Array): Uint8Array {
  const out = new Uint8Array(source.length);
  let o = 0;
  let state: State = State.Normal;
  const outside = () => state === State.Normal || state === State.Underscore || state === State.Space;
  for (const b of source) {
    switch (b) {
      case QUOTE:
        if (state === State.InString) state = State.Normal;
        else if (outside()) state = State.InString;
        out[o++] = b;
        break;
      case UNDERSCORE:
        if (state === State.Space) state = State.Underscore;
        out[o++] = b;
        break;
      case CR:
        if (state === State.Underscore) state = State.UnderscoreCr;
        out[o++] = b;
        break;
      case LF:
        // A continuation: drop the underscore (and the CR) and carry on as after a blank.
        if (state === State.Underscore) {
          o -= 1;
          state = State.Space;
        } else if (state === State.UnderscoreCr) {
          o -= 2;
          state = State.Space;
        } else out[o++] = b;
        break;
      case TAB:
      case SPACE:
        if (state !== State.Space) out[o++] = SPACE;
        if (state === State.Normal || state === State.Underscore) state = State.Space;
        break;
      default:
        if (outside()) {
          out[o++] = b >= 0x41 && b <= 0x5a ? b + 0x20 : b;
          state = State.Normal;
        } else out[o++] = b;
    }
  }
  return out.subarray(0, o);
}
