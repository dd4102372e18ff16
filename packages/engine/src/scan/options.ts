// Scan options: resolved once into a frozen, fully typed object; invalid values fail here, by name.
import { VigilError } from '../errors.js';

/** Options of one scan, with clamscan's defaults. Sizes are bytes. */
export interface ScanOptions {
  /** Keep matching after the first detection (`--allmatch`). */
  readonly allMatch: boolean;
  /** Load and report PUA signatures (`--detect-pua`); applied at load, kept here for reporting. */
  readonly detectPua: boolean;
  /** Files larger than this are not scanned (MaxFileSize, default 100 MiB). */
  readonly maxFileSize: number;
  /** Bytes scanned per input at most, containers included (MaxScanSize, default 400 MiB). */
  readonly maxScanSize: number;
  /** Container nesting depth at most (MaxRecursion, default 17). */
  readonly maxRecursion: number;
  /** Members scanned per input at most (MaxFiles, default 10000). */
  readonly maxFiles: number;
  /** Milliseconds per input at most (MaxScanTime, default 120000); 0 disables. */
  readonly maxScanTime: number;
  /** Executables found inside other files are scanned only up to this size (MaxEmbeddedPE, default 40 MiB). */
  readonly maxEmbeddedPe: number;
  /** Bytes of HTML normalised at most (MaxHTMLNormalize, default 40 MiB). */
  readonly maxHtmlNormalize: number;
  /** HTML files larger than this are not matched in their text and link views (MaxHTMLNoTags, default 8 MiB). */
  readonly maxHtmlNoTags: number;
  /** Unpack archives and compressed files (`--scan-archive`). */
  readonly scanArchive: boolean;
  /** Decode mail and its attachments (`--scan-mail`). */
  readonly scanMail: boolean;
  /** Extract what HTML embeds, such as data: URIs (`--scan-html`). */
  readonly scanHtml: boolean;
  /** Look into PDF documents (`--scan-pdf`). */
  readonly scanPdf: boolean;
  /** Look into OLE2 documents (`--scan-ole2`). */
  readonly scanOle2: boolean;
  /** PE section hashes and unpackers (`--scan-pe`). */
  readonly scanPe: boolean;
  /** Report a limit that stopped the scan as `Heuristics.Limits.Exceeded.*` (`--alert-exceeds-max`). */
  readonly alertExceedsMax: boolean;
  /** Report encrypted members as `Heuristics.Encrypted.*` (`--alert-encrypted`). */
  readonly alertEncrypted: boolean;
  /** Report damaged executables as `Heuristics.Broken.Executable` (`--alert-broken`). */
  readonly alertBroken: boolean;
}

export const DEFAULT_SCAN_OPTIONS: ScanOptions = Object.freeze({
  allMatch: false,
  detectPua: false,
  maxFileSize: 100 * 1024 * 1024,
  maxScanSize: 400 * 1024 * 1024,
  maxRecursion: 17,
  maxFiles: 10_000,
  maxScanTime: 120_000,
  maxEmbeddedPe: 40 * 1024 * 1024,
  maxHtmlNormalize: 40 * 1024 * 1024,
  maxHtmlNoTags: 8 * 1024 * 1024,
  scanArchive: true,
  scanMail: true,
  scanHtml: true,
  scanPdf: true,
  scanOle2: true,
  scanPe: true,
  alertExceedsMax: false,
  alertEncrypted: false,
  alertBroken: false,
});

const SWITCHES = [
  'allMatch',
  'detectPua',
  'scanArchive',
  'scanMail',
  'scanHtml',
  'scanPdf',
  'scanOle2',
  'scanPe',
  'alertExceedsMax',
  'alertEncrypted',
  'alertBroken',
] as const;

/** Fills defaults and checks every value; throws E_OPTION naming the first bad one. */
export function resolveScanOptions(partial: Partial<ScanOptions> = {}): ScanOptions {
  const o = { ...DEFAULT_SCAN_OPTIONS, ...partial };
  for (const key of [
    'maxFileSize',
    'maxScanSize',
    'maxRecursion',
    'maxFiles',
    'maxScanTime',
    'maxEmbeddedPe',
    'maxHtmlNormalize',
    'maxHtmlNoTags',
  ] as const) {
    const v = o[key];
    if (!Number.isSafeInteger(v) || v < 0) {
      throw new VigilError('E_OPTION', `Invalid value for ${key}: ${String(v)} (expected a whole number >= 0)`, {
        details: { option: key, value: v },
      });
    }
  }
  for (const key of SWITCHES) {
    if (typeof o[key] !== 'boolean') {
      throw new VigilError('E_OPTION', `Invalid value for ${key}: ${String(o[key])} (expected true or false)`, {
        details: { option: key, value: o[key] },
      });
    }
  }
  return Object.freeze(o);
}
