// The container formats the scanner knows, by file type. Adding a format is adding a handler here.
// Several handlers may share a type: they run in this list's order, ClamAV's order for executables
// (what is appended to the file first, its packer after).
import type { FileType } from '../filetypes/types.js';
import { arjHandler } from './arj/index.js';
import { autoitHandler } from './autoit/index.js';
import { binhexHandler } from './binhex/index.js';
import { bzip2Handler } from './bzip2/index.js';
import { cabHandler } from './cab/index.js';
import { chmHandler } from './chm/index.js';
import { cpioHandler } from './cpio/index.js';
import { gzipHandler } from './gzip/index.js';
import { htmlHandler } from './html/index.js';
import { installShieldMsiHandler, installShieldSetupHandler } from './installshield/index.js';
import { iso9660Handler } from './iso9660/index.js';
import { mailHandler } from './mail/index.js';
import { nsisHandler } from './nsis/index.js';
import { ole2Handler } from './ole2/index.js';
import { pdfHandler } from './pdf/index.js';
import { aspackHandler } from './pe-unpack/aspack/index.js';
import { fsgHandler } from './pe-unpack/fsg/index.js';
import { mewHandler } from './pe-unpack/mew/index.js';
import { pespinHandler } from './pe-unpack/pespin/index.js';
import { petiteHandler } from './pe-unpack/petite/index.js';
import { upackHandler } from './pe-unpack/upack/index.js';
import { upxHandler } from './pe-unpack/upx/index.js';
import { wwpackHandler } from './pe-unpack/wwpack/index.js';
import { ycHandler } from './pe-unpack/yc/index.js';
import { rarHandler } from './rar/index.js';
import { rtfHandler } from './rtf/index.js';
import { sevenZipHandler } from './sevenzip/index.js';
import { sisHandler } from './sis/index.js';
import { szddHandler } from './szdd/index.js';
import { tarHandler } from './tar/index.js';
import { tnefHandler } from './tnef/index.js';
import type { ContainerFamily, ContainerHandler } from './types.js';
import { xzHandler } from './xz/index.js';
import { zipHandler } from './zip/index.js';
import { zstdHandler } from './zstd/index.js';

const HANDLERS: readonly ContainerHandler[] = [
  zipHandler,
  gzipHandler,
  bzip2Handler,
  tarHandler,
  cpioHandler,
  iso9660Handler,
  mailHandler,
  binhexHandler,
  szddHandler,
  cabHandler,
  chmHandler,
  htmlHandler,
  tnefHandler,
  ole2Handler,
  pdfHandler,
  rtfHandler,
  xzHandler,
  zstdHandler,
  sevenZipHandler,
  arjHandler,
  rarHandler,
  sisHandler,
  nsisHandler,
  autoitHandler,
  installShieldSetupHandler,
  installShieldMsiHandler,
  upxHandler,
  mewHandler,
  upackHandler,
  fsgHandler,
  petiteHandler,
  pespinHandler,
  ycHandler,
  wwpackHandler,
  aspackHandler,
];

const BY_TYPE = new Map<FileType, ContainerHandler[]>();
for (const h of HANDLERS) {
  for (const t of h.types) {
    const list = BY_TYPE.get(t);
    if (list === undefined) BY_TYPE.set(t, [h]);
    else list.push(h);
  }
}

/**
 * The handlers that unpack files of `type` and whose switches are on, in the order of HANDLERS.
 * Most types have one; an executable has several (installers and scripts appended to it, packers).
 */
export function handlersFor(type: FileType, enabled: ReadonlySet<ContainerFamily>): readonly ContainerHandler[] {
  return (BY_TYPE.get(type) ?? []).filter((h) => h.families.every((f) => enabled.has(f)));
}

/** Every registered handler (for documentation and tests). */
export function allHandlers(): readonly ContainerHandler[] {
  return HANDLERS;
}
