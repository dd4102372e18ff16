// Diagnostics for signature files: where (file, line, column), what (a stable code) and why.
// Parsers collect them instead of throwing; callers decide whether any error stops a load.

/** Stable diagnostic codes. New codes are appended; existing ones never change meaning. */
export type DiagnosticCode =
  | 'S001' // wrong number of fields
  | 'S002' // bad hash digest (length or characters)
  | 'S003' // bad size field
  | 'S004' // bad hex pattern
  | 'S005' // bad offset
  | 'S006' // bad target type
  | 'S007' // bad functionality level
  | 'S008' // bad target description block
  | 'S009' // bad logical expression
  | 'S010' // bad subsignature (modifiers, PCRE, byte compare)
  | 'S011' // bad field in a metadata/URL/config format (.cdb .crb .idb .pdb .wdb .cfg .ftm .info ...)
  | 'S012' // empty or missing signature name
  | 'S013' // container (.cvd/.cld/.cud) problem
  | 'S014' // unknown database file kind
  | 'S015' // a pattern ClamAV would refuse (e.g. too short, too few static bytes)
  | 'S016' // an empty file or an empty line where ClamAV refuses one
  | 'W001'; // warning: loaded but will not run (e.g. bytecode) or skipped by functionality level

/** One finding in a signature file. `line` and `column` are 1-based; column 0 means the whole line. */
export interface Diagnostic {
  readonly severity: 'error' | 'warning';
  readonly code: DiagnosticCode;
  readonly file: string;
  readonly line: number;
  readonly column: number;
  readonly message: string;
}

/** `file:line:column: error S004: message`, as compilers print. */
export function formatDiagnostic(d: Diagnostic): string {
  return `${d.file}:${d.line}:${d.column}: ${d.severity} ${d.code}: ${d.message}`;
}
