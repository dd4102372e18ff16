// The shape of a scan's answer. A detection is a result, not an error.

/** One signature that matched. */
export interface Detection {
  /** Signature name as ClamAV prints it (`Name.UNOFFICIAL` for unsigned databases). */
  readonly name: string;
  readonly kind: 'hash' | 'section-hash' | 'import-hash' | 'body' | 'logical' | 'heuristic';
  /** Path of members inside containers, outermost first; empty for the file itself. */
  readonly path: readonly string[];
  /** Offset of the (first) match in the scanned view, for body signatures. */
  readonly offset?: number;
}

/** A limit that stopped part of the scan. */
export interface LimitHit {
  readonly limit: 'MaxFileSize' | 'MaxScanSize' | 'MaxRecursion' | 'MaxFiles' | 'MaxScanTime' | 'MaxHTMLNormalize';
  readonly value: number;
  readonly path: readonly string[];
}

/** The result of scanning one input. */
export interface ScanResult {
  readonly verdict: 'clean' | 'infected';
  readonly detections: readonly Detection[];
  readonly limitsHit: readonly LimitHit[];
  readonly warnings: readonly string[];
  /** The recognised type of the input. */
  readonly fileType: string;
  /** Bytes examined (the input and anything extracted from it). */
  readonly bytesScanned: number;
}
