// The part of Node's `clamscan` package (a client of clamd) that the tests use; it ships no types.
declare module 'clamscan' {
  import type { Readable } from 'node:stream';

  interface Verdict {
    readonly isInfected: boolean | null;
    readonly viruses: readonly string[];
  }
  interface Many {
    readonly goodFiles: readonly string[];
    readonly badFiles: readonly string[];
    readonly viruses?: readonly string[];
  }
  interface Scanner {
    getVersion(): Promise<string>;
    isInfected(file: string): Promise<Verdict & { readonly file: string }>;
    scanStream(stream: Readable): Promise<Verdict>;
    scanDir(path: string): Promise<Many>;
    scanFiles(files: readonly string[]): Promise<Many>;
  }
  export default class NodeClam {
    init(options: Record<string, unknown>): Promise<Scanner>;
  }
}
