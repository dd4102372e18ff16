// ClamAV's offset field: `*`, `n`, `EOF-n`, `EP+n`, `EP-n`, `Sx+n`, `SEx`, `SL+n`, each but `*` and
// `SEx` with an optional `,MaxShift`; also `VI` (version-info resource) and `$n$` macros, which load
// but never match here (see OffsetSpec).
import type { OffsetSpec } from '../types.js';
import { FieldError } from './fields.js';

const FORMS = '*, n, EOF-n, EP+n, EP-n, Sx+n, SEx, SL+n (with an optional ,MaxShift)';

function num(s: string, column: number, what: string): number {
  if (!/^\d+$/.test(s))
    throw new FieldError('S005', `${what} '${s}' is not a decimal number (offsets: ${FORMS})`, column);
  const n = Number(s);
  if (!Number.isSafeInteger(n)) throw new FieldError('S005', `${what} '${s}' is too large`, column);
  return n;
}

/** Parses an offset field written at `column`. */
export function parseOffset(text: string, column: number): OffsetSpec {
  if (text === '*') return { kind: 'any' };
  if (text === 'VI') return { kind: 'version-info' };
  const macro = /^\$(\d+)\$$/.exec(text);
  if (macro !== null) return { kind: 'macro', group: Number(macro[1]) };
  const comma = text.indexOf(',');
  const head = comma < 0 ? text : text.slice(0, comma);
  const shift = comma < 0 ? 0 : num(text.slice(comma + 1), column + comma + 1, 'MaxShift');
  const m = /^(?:(EOF)-|(EP)([+-])|S(\d+)\+|(SL)\+|(SE))?(.*)$/.exec(head);
  if (m === null || head === '') throw new FieldError('S005', `bad offset '${text}' (offsets: ${FORMS})`, column);
  const [, eof, ep, sign, sect, last, entire, rest = ''] = m;
  const prefix = head.length - rest.length;
  const n = num(rest, column + prefix, 'offset');
  if (eof !== undefined) return { kind: 'eof', n, shift };
  if (ep !== undefined) return { kind: 'ep', n: sign === '-' ? -n : n, shift };
  if (sect !== undefined) return { kind: 'section', index: Number(sect), n, shift };
  if (last !== undefined) return { kind: 'last-section', n, shift };
  if (entire !== undefined) {
    if (comma >= 0) throw new FieldError('S005', 'SEx takes no MaxShift', column + comma);
    return { kind: 'section-entire', index: n };
  }
  return { kind: 'abs', n, shift };
}
