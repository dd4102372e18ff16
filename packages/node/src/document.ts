// One scanned file as a JSON document (schema version 1, docs/json-output.md): what `vigil scan
// --json` prints per file and what the daemon's HTTP scan endpoint answers.
import type { Detection } from '@vigil/engine';
import type { FileOutcome } from './scanfile.js';

export interface FileDocument {
  readonly type: 'file';
  readonly path: string;
  readonly status: 'clean' | 'infected' | 'error' | 'skipped';
  readonly detections: readonly (Detection & { readonly location: string })[];
  readonly fileType?: string;
  readonly size?: number;
  readonly reason?: string;
  readonly limitsHit?: readonly { readonly limit: string; readonly value: number; readonly location: string }[];
  readonly warnings?: readonly string[];
}

/** The document of a file that was scanned, or could not be. */
export function fileDocument(path: string, o: FileOutcome): FileDocument {
  if (o.status === 'error') return { type: 'file', path, status: 'error', detections: [], reason: o.message };
  const r = o.result;
  const location = (inside: readonly string[]) => [path, ...inside].join('//');
  const limitsHit = r.limitsHit.map((l) => ({ limit: l.limit, value: l.value, location: location(l.path) }));
  return {
    type: 'file',
    path,
    status: r.verdict,
    detections: r.detections.map((d) => ({ ...d, location: location(d.path) })),
    fileType: r.fileType,
    size: o.size,
    ...(limitsHit.length > 0 ? { limitsHit } : {}),
    ...(r.warnings.length > 0 ? { warnings: r.warnings } : {}),
  };
}
