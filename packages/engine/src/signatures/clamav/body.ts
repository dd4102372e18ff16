// Body signature lines: .ndb (`Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]`) and the old
// .db (`Name=HexSignature`, any file, any offset).
import type { BodySignature, SourceRef } from '../types.js';
import {
  decimal,
  type Field,
  FieldError,
  fieldCount,
  flevelFields,
  requireFlevel,
  signatureName,
  splitFields,
} from './fields.js';
import { parseOffset } from './offset.js';
import { parseHexPattern } from './pattern.js';

/** The highest target type ClamAV knows (14: other). */
export const MAX_TARGET = 14;

export function parseTarget(f: Field): number {
  const t = decimal(f, 'target type', 'S006');
  if (t > MAX_TARGET) throw new FieldError('S006', `target type ${t} is not one of 0-${MAX_TARGET}`, f.column);
  return t;
}

export function parseNdbLine(line: string, source: SourceRef): BodySignature {
  const fields = splitFields(line, ':');
  fieldCount(fields, 4, 6, 'Name:TargetType:Offset:HexSignature[:MinFL[:MaxFL]]');
  const [fn, ft, fo, fp] = fields as [Field, Field, Field, Field];
  const flevel = flevelFields(fields, 4);
  requireFlevel(flevel);
  const name = signatureName(fn);
  const target = parseTarget(ft);
  const offset = parseOffset(fo.text, fo.column);
  const pattern = parseHexPattern(fp.text, fp.column, { strict: true, ndb: true });
  return { name, target, offset, pattern, source, ...(flevel === undefined ? {} : { flevel }) };
}

export function parseDbLine(line: string, source: SourceRef): BodySignature {
  const eq = line.indexOf('=');
  if (eq < 0) throw new FieldError('S001', "expected 'Name=HexSignature'", 0);
  const name = signatureName({ text: line.slice(0, eq), column: 1 });
  const pattern = parseHexPattern(line.slice(eq + 1), eq + 2, { strict: true, ndb: true });
  return { name, target: 0, offset: { kind: 'any' }, pattern, source };
}
