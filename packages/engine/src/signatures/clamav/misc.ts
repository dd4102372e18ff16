// The smaller formats: .ftm file-type magic, .ign/.ign2 ignore lists, and the formats this engine
// checks and counts but does not match with yet (.cdb .crb .idb .pdb .wdb .gdb .cfg .pwdb).
import type { AuxiliaryKind, FileTypeMagic, IgnoreRule, SourceRef } from '../types.js';
import { decimal, type Field, FieldError, fieldCount, flevelFields, signatureName, splitFields } from './fields.js';
import { parseHexPattern } from './pattern.js';

const TYPE_NAME = /^CL_TYPE_[A-Z0-9_]+$/;

function typeName(f: Field, what: string): string {
  if (!TYPE_NAME.test(f.text))
    throw new FieldError('S011', `${what} must be a CL_TYPE_ name, not '${f.text}'`, f.column);
  return f.text;
}

/** `magictype:offset:magicbytes:name:rtype:type[:MinFL[:MaxFL]]` */
export function parseFtmLine(line: string): FileTypeMagic {
  const fields = splitFields(line, ':');
  fieldCount(fields, 6, 8, 'MagicType:Offset:HexMagic:Name:RequiredType:DetectedType[:MinFL[:MaxFL]]');
  const [fk, fo, fp, fn, fr, fd] = fields as [Field, Field, Field, Field, Field, Field];
  const kind = decimal(fk, 'magic type', 'S011');
  if (kind !== 0 && kind !== 1 && kind !== 4)
    throw new FieldError('S011', `magic type ${kind} is not 0, 1 or 4`, fk.column);
  const offset = fo.text === '*' && kind === 1 ? '*' : decimal(fo, 'magic offset', 'S011');
  const pattern = parseHexPattern(fp.text, fp.column);
  if (kind === 0 && pattern.some((n) => n.t !== 'run' || n.run.mask.some((m) => m !== 0xff))) {
    throw new FieldError('S011', 'magic type 0 takes plain hex bytes only', fp.column);
  }
  const flevel = flevelFields(fields, 6);
  return {
    magicType: kind,
    offset,
    pattern,
    name: signatureName(fn),
    requiredType: typeName(fr, 'required type'),
    detectedType: typeName(fd, 'detected type'),
    ...(flevel === undefined ? {} : { flevel }),
  };
}

/**
 * .ign: `Name` or the old `DatabaseName:Line:Name`; .ign2: `Name` or `Name:MD5`, where the MD5 is
 * of the signature's text (kept, but any signature of the name is dropped, which is what ClamAV
 * does for the common case of a unique name).
 */
export function parseIgnoreLine(line: string, source: SourceRef): IgnoreRule {
  const fields = splitFields(line, ':');
  fieldCount(fields, 1, 3, 'Name, Name:MD5 or Database:Line:Name');
  if (fields.length === 3) return { name: signatureName(fields[2]), source };
  const name = signatureName(fields[0]);
  const md5 = fields[1];
  if (md5 === undefined) return { name, source };
  if (!/^[0-9a-fA-F]{32}$/.test(md5.text)) throw new FieldError('S002', `'${md5.text}' is not an MD5`, md5.column);
  return { name, md5: md5.text.toLowerCase(), source };
}

interface AuxShape {
  readonly sep: string;
  readonly min: number;
  readonly max: number;
  readonly shape: string;
  /** What the first field must look like, if anything. */
  readonly first?: RegExp;
}

const AUX_SHAPES: Partial<Record<AuxiliaryKind, AuxShape>> = {
  cdb: {
    sep: ':',
    min: 10,
    max: 12,
    shape:
      'Name:ContainerType:ContainerSize:FileNameREGEX:FileSizeInContainer:FileSizeReal:IsEncrypted:FilePos:Res1:Res2[:MinFL[:MaxFL]]',
  },
  crb: {
    sep: ';',
    min: 11,
    max: 13,
    shape: 'Name;Trusted;Subject;Serial;Pubkey;Exponent;CodeSign;TimeSign;CertSign;NotBefore;Comment[;MinFL[;MaxFL]]',
  },
  idb: { sep: ':', min: 4, max: 4, shape: 'IconName:Group1:Group2:IconHash' },
  pdb: {
    sep: ':',
    min: 2,
    max: 5,
    shape: 'R[Filter]:RealURL:DisplayedURL[:FLevel] or H[Filter]:DisplayedHostname[:FLevel]',
    first: /^[RH]\d*$/,
  },
  wdb: {
    sep: ':',
    min: 2,
    max: 5,
    shape: 'X:RealURL:DisplayedURL[:FLevel], M:RealHost:DisplayedHost[:FLevel] or Y:...',
    first: /^[XMY]\d*$/,
  },
  gdb: { sep: ':', min: 3, max: 5, shape: 'S:P:Hash or S:F:Hash', first: /^S\d*$/ },
  cfg: { sep: ':', min: 2, max: 5, shape: 'Module:0xFlags[:MinFL[:MaxFL]]', first: /^[A-Z0-9]+$/ },
  pwdb: { sep: ';', min: 3, max: 66, shape: 'Name;TargetDescription;Expression;Password...' },
};

/** Checks the shape of an auxiliary line and returns its fields. */
export function parseAuxiliaryLine(kind: AuxiliaryKind, line: string): readonly string[] {
  const shape = AUX_SHAPES[kind];
  if (shape === undefined) return [line];
  const fields = splitFields(line, shape.sep);
  fieldCount(fields, shape.min, shape.max, shape.shape);
  const first = fields[0] as Field;
  if (shape.first !== undefined && !shape.first.test(first.text)) {
    throw new FieldError('S011', `'${first.text}' does not start a .${kind} line (${shape.shape})`, first.column);
  }
  if (kind === 'cfg' && !/^0x[0-9a-fA-F]+$/.test((fields[1] as Field).text)) {
    throw new FieldError('S011', 'the flags of a .cfg line must be hexadecimal (0x...)', (fields[1] as Field).column);
  }
  return fields.map((f) => f.text);
}
