// clamd.conf: ClamAV's format (one `Option value` per line, `#` comments, yes/no booleans, sizes
// with K/M/G) read into a typed configuration. Every option clamd 1.4 knows is accepted; the ones
// Vigil does not act on are listed back so the daemon can say so at start. An unknown option, a bad
// value or the `Example` line is an error naming the file and line.
import { readFileSync } from 'node:fs';
import { DEFAULT_SCAN_OPTIONS, resolveScanOptions, type ScanOptions, VigilError } from '@vigil/engine';
import { DEFAULT_DATABASE_DIR } from '@vigil/node';

type Kind = 'bool' | 'number' | 'size' | 'string' | 'regex';

interface Spec {
  readonly kind: Kind;
  /** May appear more than once (ExcludePath, TCPAddr, ...): every value is kept. */
  readonly repeat?: true;
  /** Accepted for compatibility; Vigil does not act on it. */
  readonly ignored?: string;
}

const b = (ignored?: string): Spec => (ignored === undefined ? { kind: 'bool' } : { kind: 'bool', ignored });
const n = (ignored?: string): Spec => (ignored === undefined ? { kind: 'number' } : { kind: 'number', ignored });
const sz = (ignored?: string): Spec => (ignored === undefined ? { kind: 'size' } : { kind: 'size', ignored });
const s = (ignored?: string): Spec => (ignored === undefined ? { kind: 'string' } : { kind: 'string', ignored });

const NOT_BUILT = 'not built in Vigil yet';
const NOT_NEEDED = 'not needed by Vigil';
const ONACCESS = 'on-access scanning belongs to the endpoint agent';

/** Every option of clamd 1.4's clamd.conf, and Vigil's own (TLS, HTTP, the compiled cache). */
const SPECS: Readonly<Record<string, Spec>> = {
  LogFile: s(),
  LogFileUnlock: b(NOT_NEEDED),
  LogFileMaxSize: sz(),
  LogTime: b(),
  LogClean: b(),
  LogSyslog: b(),
  LogFacility: s(),
  LogVerbose: b(),
  LogRotate: b(),
  ExtendedDetectionInfo: b(NOT_BUILT),
  PidFile: s(),
  TemporaryDirectory: s(),
  DatabaseDirectory: s(),
  OfficialDatabaseOnly: b(NOT_BUILT),
  FailIfCvdOlderThan: n(NOT_BUILT),
  LocalSocket: s(),
  LocalSocketGroup: s(),
  LocalSocketMode: s(),
  FixStaleSocket: b(),
  TCPSocket: n(),
  TCPAddr: { kind: 'string', repeat: true },
  MaxConnectionQueueLength: n(),
  StreamMaxLength: sz(),
  StreamMinPort: n('the STREAM command is gone from clamd too'),
  StreamMaxPort: n('the STREAM command is gone from clamd too'),
  MaxThreads: n(),
  ReadTimeout: n(),
  CommandReadTimeout: n(),
  SendBufTimeout: n(),
  MaxQueue: n(),
  IdleTimeout: n(),
  ExcludePath: { kind: 'regex', repeat: true },
  MaxDirectoryRecursion: n(),
  FollowDirectorySymlinks: b(),
  CrossFilesystems: b(),
  FollowFileSymlinks: b(),
  SelfCheck: n(),
  ConcurrentDatabaseReload: b(),
  VirusEvent: s(),
  ExitOnOOM: b(NOT_NEEDED),
  AllowAllMatchScan: b(),
  Foreground: b(),
  Debug: b(NOT_NEEDED),
  LeaveTemporaryFiles: b(NOT_NEEDED),
  GenerateMetadataJson: b(NOT_BUILT),
  User: s(),
  Bytecode: b('bytecode signatures are loaded, counted and not run'),
  BytecodeSecurity: s('bytecode signatures are loaded, counted and not run'),
  BytecodeTimeout: n('bytecode signatures are loaded, counted and not run'),
  BytecodeUnsigned: b('bytecode signatures are loaded, counted and not run'),
  BytecodeMode: s('bytecode signatures are loaded, counted and not run'),
  DetectPUA: b(),
  ExcludePUA: { kind: 'string', repeat: true, ignored: NOT_BUILT },
  IncludePUA: { kind: 'string', repeat: true, ignored: NOT_BUILT },
  HeuristicAlerts: b(NOT_BUILT),
  HeuristicScanPrecedence: b(NOT_BUILT),
  ScanPE: b(),
  ScanELF: b(NOT_BUILT),
  ScanMail: b(),
  ScanPartialMessages: b(NOT_BUILT),
  PhishingSignatures: b(NOT_BUILT),
  PhishingScanURLs: b(NOT_BUILT),
  StructuredDataDetection: b(NOT_BUILT),
  StructuredMinCreditCardCount: n(NOT_BUILT),
  StructuredCCOnly: b(NOT_BUILT),
  StructuredMinSSNCount: n(NOT_BUILT),
  StructuredSSNFormatNormal: b(NOT_BUILT),
  StructuredSSNFormatStripped: b(NOT_BUILT),
  ScanHTML: b(),
  ScanOLE2: b(),
  ScanPDF: b(),
  ScanSWF: b(NOT_BUILT),
  ScanXMLDOCS: b(NOT_BUILT),
  ScanHWP3: b(NOT_BUILT),
  ScanOneNote: b(NOT_BUILT),
  ScanArchive: b(),
  ScanImage: b(NOT_BUILT),
  ScanImageFuzzyHash: b(NOT_BUILT),
  AlertBrokenExecutables: b(),
  AlertBrokenMedia: b(NOT_BUILT),
  AlertEncrypted: b(),
  AlertEncryptedArchive: b(),
  AlertEncryptedDoc: b(),
  AlertOLE2Macros: b(NOT_BUILT),
  AlertExceedsMax: b(),
  AlertPhishingSSLMismatch: b(NOT_BUILT),
  AlertPhishingCloak: b(NOT_BUILT),
  AlertPartitionIntersection: b(NOT_BUILT),
  MaxScanTime: sz(),
  MaxScanSize: sz(),
  MaxFileSize: sz(),
  MaxRecursion: n(),
  MaxFiles: n(),
  MaxEmbeddedPE: sz(),
  MaxHTMLNormalize: sz(),
  MaxHTMLNoTags: sz(),
  MaxScriptNormalize: sz(NOT_BUILT),
  MaxZipTypeRcg: sz(NOT_BUILT),
  MaxPartitions: sz(NOT_BUILT),
  MaxIconsPE: sz(NOT_BUILT),
  MaxRecHWP3: n(NOT_BUILT),
  PCREMatchLimit: n(NOT_BUILT),
  PCRERecMatchLimit: n(NOT_BUILT),
  PCREMaxFileSize: sz(NOT_BUILT),
  OnAccessMountPath: { kind: 'string', repeat: true, ignored: ONACCESS },
  OnAccessIncludePath: { kind: 'string', repeat: true, ignored: ONACCESS },
  OnAccessExcludePath: { kind: 'string', repeat: true, ignored: ONACCESS },
  OnAccessExcludeRootUID: b(ONACCESS),
  OnAccessExcludeUID: { kind: 'number', repeat: true, ignored: ONACCESS },
  OnAccessExcludeUname: { kind: 'string', repeat: true, ignored: ONACCESS },
  OnAccessMaxFileSize: sz(ONACCESS),
  OnAccessMaxThreads: n(ONACCESS),
  OnAccessCurlTimeout: n(ONACCESS),
  OnAccessDisableDDD: b(ONACCESS),
  OnAccessPrevention: b(ONACCESS),
  OnAccessRetryAttempts: n(ONACCESS),
  OnAccessDenyOnError: b(ONACCESS),
  OnAccessExtraScanning: b(ONACCESS),
  DisableCertCheck: b(NOT_BUILT),
  // Deprecated in clamd, still accepted by it:
  AlgorithmicDetection: b('deprecated by ClamAV'),
  BlockMax: b('deprecated by ClamAV'),
  PhishingAlwaysBlockSSLMismatch: b('deprecated by ClamAV'),
  PhishingAlwaysBlockCloak: b('deprecated by ClamAV'),
  PartitionIntersection: b('deprecated by ClamAV'),
  OLE2BlockMacros: b('deprecated by ClamAV'),
  ArchiveBlockEncrypted: b('deprecated by ClamAV'),
  DisableCache: b(NOT_NEEDED),
  CacheSize: n(NOT_NEEDED),
  ForceToDisk: b(NOT_NEEDED),
  PreludeEnable: b(NOT_BUILT),
  PreludeAnalyzerName: s(NOT_BUILT),
  // Vigil's own:
  TLSSocket: n(),
  TLSAddr: { kind: 'string', repeat: true },
  TLSCertificateFile: s(),
  TLSPrivateKeyFile: s(),
  TLSClientCAFile: s(),
  HTTPSocket: n(),
  HTTPAddr: s(),
  DatabaseCacheDirectory: s(),
  StreamMemoryLimit: sz(),
};

export interface TlsConfig {
  readonly port: number;
  readonly addresses: readonly string[];
  readonly certificateFile: string;
  readonly privateKeyFile: string;
  /** When set, clients must present a certificate signed by one of these authorities. */
  readonly clientCaFile?: string;
}

export interface DaemonConfig {
  /** The file read, for messages. */
  readonly file: string;
  readonly localSocket?: string;
  readonly localSocketGroup?: string;
  /** Octal permission bits of the socket file (default 0666). */
  readonly localSocketMode: number;
  readonly fixStaleSocket: boolean;
  readonly tcpPort?: number;
  /** Addresses the TCP socket binds (default: every interface). */
  readonly tcpAddresses: readonly string[];
  readonly tls?: TlsConfig;
  readonly httpPort?: number;
  readonly httpAddress: string;
  readonly backlog: number;
  readonly databaseDirectory: string;
  readonly databaseCacheDirectory?: string;
  readonly maxThreads: number;
  readonly maxQueue: number;
  readonly streamMaxLength: number;
  /** In-memory INSTREAM data of all clients together; past it streams spool to TemporaryDirectory. */
  readonly streamMemoryLimit: number;
  /** Milliseconds. */
  readonly readTimeout: number;
  readonly commandReadTimeout: number;
  readonly idleTimeout: number;
  readonly sendBufTimeout: number;
  readonly excludePaths: readonly RegExp[];
  readonly maxDirectoryRecursion: number;
  readonly followDirectorySymlinks: boolean;
  readonly followFileSymlinks: boolean;
  readonly crossFilesystems: boolean;
  readonly allowAllMatchScan: boolean;
  readonly logFile?: string;
  readonly logFileMaxSize: number;
  readonly logRotate: boolean;
  readonly logTime: boolean;
  readonly logClean: boolean;
  readonly logVerbose: boolean;
  readonly logSyslog: boolean;
  readonly logFacility: string;
  readonly pidFile?: string;
  readonly temporaryDirectory?: string;
  readonly foreground: boolean;
  readonly user?: string;
  readonly virusEvent?: string;
  readonly concurrentDatabaseReload: boolean;
  /** Seconds between database checks; 0: never. */
  readonly selfCheck: number;
  readonly scan: ScanOptions;
  /** Options set in the file that Vigil accepts but does not act on, with the reason. */
  readonly ignored: readonly { readonly option: string; readonly reason: string }[];
}

type Value = boolean | number | string | RegExp;

function parseValue(spec: Spec, raw: string): Value | string {
  switch (spec.kind) {
    case 'bool': {
      const v = raw.toLowerCase();
      if (v === 'yes' || v === 'true' || v === '1') return true;
      if (v === 'no' || v === 'false' || v === '0') return false;
      return `'${raw}' is not a boolean (yes/no, true/false, 1/0)`;
    }
    case 'number':
      return /^-?\d+$/.test(raw) ? Number(raw) : `'${raw}' is not a number`;
    case 'size': {
      const m = /^(\d+)([kKmMgG]?)$/.exec(raw);
      if (m === null) return `'${raw}' is not a size (a number with an optional K, M or G)`;
      return Number(m[1]) * ({ '': 1, k: 1024, m: 1024 ** 2, g: 1024 ** 3 }[(m[2] as string).toLowerCase()] as number);
    }
    case 'regex':
      try {
        return new RegExp(raw);
      } catch (e) {
        return `'${raw}' is not a regular expression: ${(e as Error).message}`;
      }
    default:
      return raw;
  }
}

/** Line 0: the file as a whole (a missing or contradictory setting). */
function fail(file: string, line: number, message: string): never {
  throw new VigilError('E_OPTION', `${line > 0 ? `${file}:${line}` : file}: ${message}`, { details: { file, line } });
}

/** Reads a clamd.conf; throws E_OPTION with file and line for anything clamd would refuse too. */
export function readConfig(file: string): DaemonConfig {
  let text: string;
  try {
    text = readFileSync(file, 'utf8');
  } catch (e) {
    throw new VigilError('E_IO', `Can't read the configuration ${file}: ${(e as Error).message}`, { cause: e });
  }
  return parseConfig(text, file);
}

export function parseConfig(text: string, file: string): DaemonConfig {
  const values = new Map<string, Value[]>();
  const lines = text.split('\n');
  for (let i = 0; i < lines.length; i++) {
    const line = (lines[i] as string).replace(/\r$/, '').trim();
    if (line === '' || line.startsWith('#')) continue;
    const m = /^(\S+)(?:\s+(.*))?$/.exec(line) as RegExpExecArray;
    const name = m[1] as string;
    if (name === 'Example') fail(file, i + 1, 'the Example line is still there: edit the file, then remove it');
    const spec = SPECS[name];
    if (spec === undefined) fail(file, i + 1, `unknown option ${name}`);
    let raw = (m[2] ?? '').trim();
    if (raw.length >= 2 && raw.startsWith('"') && raw.endsWith('"')) raw = raw.slice(1, -1);
    if (raw === '') fail(file, i + 1, `${name} needs a value`);
    const v = parseValue(spec, raw);
    if (typeof v === 'string' && spec.kind !== 'string') fail(file, i + 1, `${name}: ${v}`);
    if (spec.repeat === true) values.set(name, [...(values.get(name) ?? []), v]);
    else values.set(name, [v]); // as clamd: the last one counts
  }
  const one = <T extends Value>(name: string): T | undefined => values.get(name)?.at(-1) as T | undefined;
  const bool = (name: string, dflt: boolean) => one<boolean>(name) ?? dflt;
  const num = (name: string, dflt: number) => one<number>(name) ?? dflt;
  const str = (name: string) => one<string>(name);
  const where = (name: string) => {
    for (let i = lines.length - 1; i >= 0; i--) if ((lines[i] as string).trim().startsWith(`${name} `)) return i + 1;
    return 0;
  };
  const positive = (name: string, dflt: number) => {
    const v = num(name, dflt);
    if (v < 1) fail(file, where(name), `${name} must be at least 1`);
    return v;
  };
  const port = (name: string) => {
    const v = one<number>(name);
    if (v !== undefined && (v < 0 || v > 65535)) fail(file, where(name), `${name}: ${v} is not a TCP port`);
    return v;
  };
  const seconds = (name: string, dflt: number) => {
    const v = num(name, dflt);
    if (v < 0) fail(file, where(name), `${name} cannot be negative`);
    return v * 1000;
  };

  const mode = str('LocalSocketMode') ?? '666';
  if (!/^[0-7]{3,4}$/.test(mode))
    fail(file, where('LocalSocketMode'), `LocalSocketMode: '${mode}' is not an octal mode`);

  const tlsPort = port('TLSSocket');
  let tls: TlsConfig | undefined;
  if (tlsPort !== undefined) {
    const cert = str('TLSCertificateFile');
    const key = str('TLSPrivateKeyFile');
    if (cert === undefined || key === undefined)
      fail(file, where('TLSSocket'), 'TLSSocket needs TLSCertificateFile and TLSPrivateKeyFile');
    const ca = str('TLSClientCAFile');
    tls = {
      port: tlsPort,
      addresses: (values.get('TLSAddr') as string[] | undefined) ?? [],
      certificateFile: cert,
      privateKeyFile: key,
      ...(ca !== undefined ? { clientCaFile: ca } : {}),
    };
  }

  const alertEncrypted = bool('AlertEncrypted', false);
  let scan: ScanOptions;
  try {
    scan = resolveScanOptions({
      detectPua: bool('DetectPUA', false),
      maxFileSize: num('MaxFileSize', DEFAULT_SCAN_OPTIONS.maxFileSize),
      maxScanSize: num('MaxScanSize', DEFAULT_SCAN_OPTIONS.maxScanSize),
      maxRecursion: num('MaxRecursion', DEFAULT_SCAN_OPTIONS.maxRecursion),
      maxFiles: num('MaxFiles', DEFAULT_SCAN_OPTIONS.maxFiles),
      maxScanTime: num('MaxScanTime', DEFAULT_SCAN_OPTIONS.maxScanTime),
      maxHtmlNormalize: num('MaxHTMLNormalize', DEFAULT_SCAN_OPTIONS.maxHtmlNormalize),
      maxHtmlNoTags: num('MaxHTMLNoTags', DEFAULT_SCAN_OPTIONS.maxHtmlNoTags),
      maxEmbeddedPe: num('MaxEmbeddedPE', DEFAULT_SCAN_OPTIONS.maxEmbeddedPe),
      scanArchive: bool('ScanArchive', true),
      scanMail: bool('ScanMail', true),
      scanHtml: bool('ScanHTML', true),
      scanPdf: bool('ScanPDF', true),
      scanOle2: bool('ScanOLE2', true),
      scanPe: bool('ScanPE', true),
      alertExceedsMax: bool('AlertExceedsMax', false),
      alertEncrypted: alertEncrypted || bool('AlertEncryptedArchive', false) || bool('AlertEncryptedDoc', false),
      alertBroken: bool('AlertBrokenExecutables', false),
    });
  } catch (e) {
    fail(file, 0, (e as Error).message);
  }

  const ignored: { option: string; reason: string }[] = [];
  for (const name of values.keys()) {
    const reason = SPECS[name]?.ignored;
    if (reason !== undefined) ignored.push({ option: name, reason });
  }
  const opt = <K extends string, V>(key: K, v: V | undefined) =>
    (v === undefined ? {} : { [key]: v }) as { [P in K]?: V };

  const config: DaemonConfig = {
    file,
    ...opt('localSocket', str('LocalSocket')),
    ...opt('localSocketGroup', str('LocalSocketGroup')),
    localSocketMode: Number.parseInt(mode, 8),
    fixStaleSocket: bool('FixStaleSocket', true),
    ...opt('tcpPort', port('TCPSocket')),
    tcpAddresses: (values.get('TCPAddr') as string[] | undefined) ?? [],
    ...opt('tls', tls),
    ...opt('httpPort', port('HTTPSocket')),
    httpAddress: str('HTTPAddr') ?? '127.0.0.1',
    backlog: positive('MaxConnectionQueueLength', 200),
    databaseDirectory: str('DatabaseDirectory') ?? DEFAULT_DATABASE_DIR,
    ...opt('databaseCacheDirectory', str('DatabaseCacheDirectory')),
    maxThreads: positive('MaxThreads', 10),
    maxQueue: positive('MaxQueue', 100),
    streamMaxLength: num('StreamMaxLength', 100 * 1024 * 1024),
    streamMemoryLimit: num('StreamMemoryLimit', 256 * 1024 * 1024),
    readTimeout: seconds('ReadTimeout', 120),
    commandReadTimeout: seconds('CommandReadTimeout', 30),
    idleTimeout: seconds('IdleTimeout', 30),
    sendBufTimeout: num('SendBufTimeout', 500),
    excludePaths: (values.get('ExcludePath') as RegExp[] | undefined) ?? [],
    maxDirectoryRecursion: num('MaxDirectoryRecursion', 15),
    followDirectorySymlinks: bool('FollowDirectorySymlinks', false),
    followFileSymlinks: bool('FollowFileSymlinks', false),
    crossFilesystems: bool('CrossFilesystems', true),
    allowAllMatchScan: bool('AllowAllMatchScan', true),
    ...opt('logFile', str('LogFile')),
    logFileMaxSize: num('LogFileMaxSize', 1024 * 1024),
    logRotate: bool('LogRotate', false),
    logTime: bool('LogTime', false),
    logClean: bool('LogClean', false),
    logVerbose: bool('LogVerbose', false),
    logSyslog: bool('LogSyslog', false),
    logFacility: str('LogFacility') ?? 'LOG_LOCAL6',
    ...opt('pidFile', str('PidFile')),
    ...opt('temporaryDirectory', str('TemporaryDirectory')),
    foreground: bool('Foreground', false),
    ...opt('user', str('User')),
    ...opt('virusEvent', str('VirusEvent')),
    concurrentDatabaseReload: bool('ConcurrentDatabaseReload', true),
    selfCheck: num('SelfCheck', 600),
    scan,
    ignored,
  };
  if (config.localSocket === undefined && config.tcpPort === undefined && config.tls === undefined)
    fail(file, 0, 'no socket to listen on: set LocalSocket, TCPSocket or TLSSocket');
  if (!/^LOG_(LOCAL[0-7]|USER|MAIL|DAEMON|AUTH|SYSLOG|LPR|NEWS|UUCP|CRON|AUTHPRIV|FTP)$/.test(config.logFacility))
    fail(file, where('LogFacility'), `LogFacility: '${config.logFacility}' is not a syslog facility`);
  return config;
}
