// What the scanner learns before matching (type, PE/ELF facts) and the normalised views it matches
// as HTML (target 3) and text (target 7). The parsers themselves live in filetypes/, exe/, normalise/.
import type { ByteSource } from '../bytesource.js';
import type { Group } from '../database/layout.js';
import { parseExecutable } from '../exe/index.js';
import { hasHtmlMarkers, recogniseType } from '../filetypes/recognise.js';
import type { FileFacts } from '../filetypes/types.js';
import { normaliseHtml } from '../normalise/html.js';
import { normaliseText } from '../normalise/text.js';
import type { FileTypeMagic } from '../signatures/types.js';
import type { ScanRun } from './scanner.js';

/** Type and executable facts of one input. */
export function describeFile(source: ByteSource, fileTypes: readonly FileTypeMagic[]): FileFacts {
  const type = recogniseType(source, fileTypes);
  const exe = parseExecutable(source, type);
  return exe === undefined ? { type, size: source.size } : { type, size: source.size, exe };
}

/** The normalised views of `data` that HTML and text signatures are matched against. */
export function* normalisedViews(run: ScanRun, data: Uint8Array, facts: FileFacts): Generator<[Group, Uint8Array]> {
  // Generic (raw-group) signatures are matched against the normalised views too, so a view is
  // made whenever either group has patterns.
  const { groups } = run.db;
  // ASCII text with HTML markers past its first 1024 bytes (where the type check stops): ClamAV's
  // raw pass finds them, and the text is then matched as HTML instead of as normalised text.
  const html = facts.type === 'CL_TYPE_HTML' || (facts.type === 'CL_TYPE_TEXT_ASCII' && hasHtmlMarkers(data));
  if (html && (groups.html !== undefined || groups.raw !== undefined)) {
    const html = normaliseHtml(data, { maxBytes: run.options.maxHtmlNormalize });
    if (html.limitHit) run.limit('MaxHTMLNormalize');
    // Past MaxHTMLNoTags ClamAV matches only the whole normalised document, not its text and links.
    const noTags = data.length <= run.options.maxHtmlNoTags;
    if (!noTags) run.warnings.push(`HTML of ${data.length} bytes: text and link views skipped (over MaxHTMLNoTags)`);
    for (const view of noTags ? html.views : html.views.slice(0, 1)) yield ['html', view];
    // ClamAV scans its normalised scripts twice, as HTML and as ASCII text, whatever MaxHTMLNoTags says.
    if (html.script.length > 0) {
      yield ['html', html.script];
      yield ['text', html.script];
    }
  }
  if (!html && facts.type.startsWith('CL_TYPE_TEXT') && (groups.text !== undefined || groups.raw !== undefined)) {
    yield ['text', normaliseText(data)];
  }
}
