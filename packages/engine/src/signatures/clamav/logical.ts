// Logical signature lines (.ldb): `Name;TargetDescriptionBlock;LogicalExpression;Subsig0;Subsig1...`.
// The target description block is `Key:Value` pairs; the expression combines subsignature indexes
// with `&`, `|`, parentheses and counts (`A=X`, `A>X`, `A<X`, each with an optional `,Y`); a
// subsignature is a hex pattern (with `Offset:` and `::iwaf` modifiers), a PCRE
// (`[Offset:]Trigger/regex/flags`) or a byte compare (`N(>>off#options#comparisons)`).
import type {
  ByteCompare,
  LogicalExpr,
  LogicalSignature,
  OffsetSpec,
  PatternModifiers,
  Range,
  SourceRef,
  SubSignature,
  TargetDescription,
} from '../types.js';
import { MAX_TARGET } from './body.js';
import { type Field, FieldError, requireFlevel, signatureName, splitFields } from './fields.js';
import { parseOffset } from './offset.js';
import { parseHexPattern } from './pattern.js';

/** ClamAV allows at most 64 subsignatures per logical signature. */
export const MAX_SUBSIGS = 64;

function tdbError(message: string, column: number): FieldError {
  return new FieldError('S008', message, column);
}

function parseRange(text: string, column: number, key: string): Range {
  const m = /^(\d+)(?:-(\d+))?$/.exec(text);
  if (m === null) throw tdbError(`${key} must be a number or a range n-m, not '${text}'`, column);
  const min = Number(m[1]);
  const max = m[2] === undefined ? min : Number(m[2]);
  if (max < min) throw tdbError(`${key} range ${text} is empty`, column);
  return { min, max };
}

const TYPE_NAME = /^CL_TYPE_[A-Z0-9_]+$/;

export function parseTdb(f: Field): TargetDescription {
  const tdb: Record<string, unknown> = {};
  for (const kv of splitFields(f.text, ',', f.column)) {
    const colon = kv.text.indexOf(':');
    if (colon < 0) throw tdbError(`'${kv.text}' is not Key:Value`, kv.column);
    const key = kv.text.slice(0, colon);
    const value = kv.text.slice(colon + 1);
    const vc = kv.column + colon + 1;
    switch (key) {
      case 'Engine':
        tdb.engine = parseRange(value, vc, key);
        break;
      case 'Target': {
        const t = parseRange(value, vc, key);
        if (t.min !== t.max || t.min > MAX_TARGET) throw tdbError(`Target must be one of 0-${MAX_TARGET}`, vc);
        tdb.target = t.min;
        break;
      }
      case 'FileSize':
        tdb.fileSize = parseRange(value, vc, key);
        break;
      case 'EntryPoint':
        tdb.entryPoint = parseRange(value, vc, key);
        break;
      case 'NumberOfSections':
        tdb.numberOfSections = parseRange(value, vc, key);
        break;
      case 'Container':
        if (!TYPE_NAME.test(value)) throw tdbError(`Container must be a CL_TYPE_ name, not '${value}'`, vc);
        tdb.container = value;
        break;
      case 'Intermediates': {
        const types = value.split('>');
        if (types.some((t) => !TYPE_NAME.test(t) && !/^\d+$/.test(t))) {
          throw tdbError(`Intermediates must be CL_TYPE_ names joined by '>', not '${value}'`, vc);
        }
        tdb.intermediates = types;
        break;
      }
      case 'IconGroup1':
        tdb.iconGroup1 = value;
        break;
      case 'IconGroup2':
        tdb.iconGroup2 = value;
        break;
      case 'HandlerType':
        if (!TYPE_NAME.test(value)) throw tdbError(`HandlerType must be a CL_TYPE_ name, not '${value}'`, vc);
        tdb.handlerType = value;
        break;
      default:
        throw tdbError(`unknown target description key '${key}'`, kv.column);
    }
  }
  if (tdb.target === undefined) throw tdbError('the target description block needs a Target', f.column);
  return tdb as TargetDescription;
}

/** Recursive-descent parser for logical expressions; `pos` indexes `text`. */
class ExprParser {
  pos = 0;
  constructor(
    private readonly text: string,
    private readonly column: number,
    private readonly maxIndex: number,
  ) {}

  fail(message: string): never {
    throw new FieldError('S009', message, this.column + this.pos);
  }

  parse(): LogicalExpr {
    const e = this.expr();
    if (this.pos < this.text.length) this.fail(`unexpected '${this.text[this.pos]}'`);
    return e;
  }

  /**
   * `term (op expr)?`: ClamAV splits at the first operator, so `a&b|c` is `a&(b|c)` (checked
   * against clamscan: `2&0|1` with 0 and 1 matching and 2 not does not match).
   */
  private expr(): LogicalExpr {
    const first = this.term();
    const op = this.text[this.pos];
    if (op !== '&' && op !== '|') return first;
    this.pos++;
    const rest = this.expr();
    const kind = op === '&' ? 'and' : 'or';
    return { op: kind, args: rest.op === kind ? [first, ...rest.args] : [first, rest] };
  }

  private number(what: string): number {
    const m = /^\d+/.exec(this.text.slice(this.pos));
    if (m === null) this.fail(`expected ${what}`);
    this.pos += m[0].length;
    return Number(m[0]);
  }

  private term(): LogicalExpr {
    let e: LogicalExpr;
    if (this.text[this.pos] === '(') {
      this.pos++;
      e = this.expr();
      if (this.text[this.pos] !== ')') this.fail("expected ')'");
      this.pos++;
    } else {
      const start = this.pos;
      const index = this.number('a subsignature index');
      if (index > this.maxIndex) {
        this.pos = start;
        this.fail(`subsignature ${index} does not exist (the line has ${this.maxIndex + 1})`);
      }
      e = { op: 'sub', index };
    }
    const cmp = this.text[this.pos];
    if (cmp === '=' || cmp === '>' || cmp === '<') {
      this.pos++;
      const count = this.number('a count');
      if (this.text[this.pos] === ',') {
        this.pos++;
        const distinct = this.number('a number of distinct subsignatures');
        return { op: 'count', arg: e, cmp, count, distinct };
      }
      return { op: 'count', arg: e, cmp, count };
    }
    return e;
  }
}

export function parseExpression(text: string, column: number, subsigCount: number, requireAll = true): LogicalExpr {
  if (text === '') throw new FieldError('S009', 'the logical expression is empty', column);
  const e = new ExprParser(text, column, subsigCount - 1).parse();
  const used = new Set<number>();
  const walk = (x: LogicalExpr): void => {
    if (x.op === 'sub') used.add(x.index);
    else if (x.op === 'count') walk(x.arg);
    else x.args.forEach(walk);
  };
  walk(e);
  if (requireAll && used.size !== subsigCount) {
    throw new FieldError(
      'S009',
      `the expression uses ${used.size} of the line's ${subsigCount} subsignatures (ClamAV needs all)`,
      column,
    );
  }
  return e;
}

const MODIFIERS = /::([iwfa]+)$/;

function parseModifiers(text: string, column: number): PatternModifiers {
  const mods = { nocase: false, wide: false, ascii: false, fullword: false };
  for (const c of text) {
    if (c === 'i') mods.nocase = true;
    else if (c === 'w') mods.wide = true;
    else if (c === 'a') mods.ascii = true;
    else if (c === 'f') mods.fullword = true;
    else throw new FieldError('S010', `unknown subsignature modifier '${c}' (i, w, a, f)`, column);
  }
  return mods;
}

const BYTE_COMPARE = /^(\d+)\((<<|>>)(\d+)#([a-z]+?)(\d+)#([^)]*)\)$/;

function parseByteCompare(f: Field, subsigCount: number): ByteCompare {
  const m = BYTE_COMPARE.exec(f.text);
  if (m === null) {
    throw new FieldError('S010', `byte compare must read N(>>offset#options#comparisons), not '${f.text}'`, f.column);
  }
  const [, sub, dir, off, opts = '', len, cmps = ''] = m;
  const subsig = Number(sub);
  if (subsig >= subsigCount)
    throw new FieldError('S010', `byte compare refers to missing subsignature ${subsig}`, f.column);
  let base: ByteCompare['base'] = 'auto';
  let endian: ByteCompare['endian'] = 'big';
  let exact = false;
  for (const c of opts) {
    if (c === 'h') base = 'hex';
    else if (c === 'd') base = 'dec';
    else if (c === 'a') base = 'auto';
    else if (c === 'i') base = 'raw';
    else if (c === 'l') endian = 'little';
    else if (c === 'b') endian = 'big';
    else if (c === 'e') exact = true;
    else throw new FieldError('S010', `unknown byte compare option '${c}' (h d a i l b e)`, f.column);
  }
  const length = Number(len);
  if (base === 'raw' ? ![1, 2, 4, 8].includes(length) : length < 1 || length > 32) {
    throw new FieldError('S010', `byte compare cannot read ${length} bytes with these options`, f.column);
  }
  const comparisons = cmps.split(',').map((c) => {
    const cm = /^([<>=])(0x[0-9a-fA-F]+|\d+)$/.exec(c);
    if (cm === null) throw new FieldError('S010', `byte compare comparison '${c}' must be <n, >n or =n`, f.column);
    return { op: cm[1] as '<' | '>' | '=', value: Number(cm[2]) };
  });
  if (comparisons.length > 2) throw new FieldError('S010', 'byte compare takes at most two comparisons', f.column);
  return { subsig, offset: dir === '<<' ? -Number(off) : Number(off), base, endian, exact, length, comparisons };
}

function parsePcre(f: Field, slash: number, subsigCount: number): SubSignature {
  const last = f.text.lastIndexOf('/');
  if (last === slash) throw new FieldError('S010', 'PCRE subsignature needs Trigger/regex/flags', f.column);
  let head = f.text.slice(0, slash);
  let offset: OffsetSpec = { kind: 'any' };
  const colon = head.lastIndexOf(':');
  if (colon >= 0) {
    offset = parseOffset(head.slice(0, colon), f.column);
    head = head.slice(colon + 1);
  }
  const trigger = parseExpression(head, f.column + (colon + 1), subsigCount, false);
  const regex = f.text.slice(slash + 1, last);
  const flags = f.text.slice(last + 1);
  if (!/^[ismxAEUgre]*$/.test(flags)) {
    throw new FieldError('S010', `unknown PCRE flag in '${flags}' (i s m x A E U g r e)`, f.column + last + 1);
  }
  if (regex === '') throw new FieldError('S010', 'the PCRE is empty', f.column + slash + 1);
  return { kind: 'pcre', trigger, offset, regex, flags };
}

const MACRO = /^\$\{(\d+)-(\d+)\}(\d+)\$$/;

function parseSubsig(f: Field, subsigCount: number): SubSignature {
  const macro = MACRO.exec(f.text);
  if (macro !== null) return { kind: 'macro', min: Number(macro[1]), max: Number(macro[2]), group: Number(macro[3]) };
  if (/^\d+\((<<|>>)/.test(f.text)) return { kind: 'bytecompare', compare: parseByteCompare(f, subsigCount) };
  const slash = f.text.indexOf('/');
  if (slash >= 0) return parsePcre(f, slash, subsigCount);
  let text = f.text;
  const mm = MODIFIERS.exec(text);
  const modifiers = mm === null ? parseModifiers('', f.column) : parseModifiers(mm[1] as string, f.column + mm.index);
  if (mm !== null) text = text.slice(0, mm.index);
  else if (text.includes('::')) throw new FieldError('S010', `bad modifiers in '${f.text}' (i, w, a, f)`, f.column);
  const colon = text.indexOf(':');
  const offset = colon < 0 ? ({ kind: 'any' } as const) : parseOffset(text.slice(0, colon), f.column);
  const hex = colon < 0 ? text : text.slice(colon + 1);
  const pattern = parseHexPattern(hex, f.column + colon + 1, { strict: true, wide: modifiers.wide });
  return { kind: 'pattern', offset, pattern, modifiers };
}

export function parseLdbLine(line: string, source: SourceRef): LogicalSignature {
  const fields = splitFields(line, ';');
  if (fields.length < 4) {
    throw new FieldError(
      'S001',
      `expected Name;TargetDescription;Expression;Subsig0[;Subsig1...], found ${fields.length} fields`,
      0,
    );
  }
  const [fn, ftdb, fexpr] = fields as [Field, Field, Field];
  const subFields = fields.slice(3);
  if (subFields.length > MAX_SUBSIGS) {
    throw new FieldError(
      'S001',
      `${subFields.length} subsignatures (ClamAV allows ${MAX_SUBSIGS})`,
      (subFields[MAX_SUBSIGS] as Field).column,
    );
  }
  // The engine window first: a line for a newer engine may use keys and syntax this one lacks.
  const engine = /(?:^|,)Engine:(\d+)(?:-(\d+))?(?:,|$)/.exec(ftdb.text);
  if (engine !== null) requireFlevel({ min: Number(engine[1]), max: Number(engine[2] ?? engine[1]) });
  const name = signatureName(fn);
  const tdb = parseTdb(ftdb);
  const expr = parseExpression(fexpr.text, fexpr.column, subFields.length);
  const subsigs = subFields.map((f) => parseSubsig(f, subFields.length));
  return { name, tdb, expr, subsigs, source };
}
