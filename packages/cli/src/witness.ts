// `vigil witness`: a transparency-log witness (c2sp.org/tlog-witness). `keygen` makes its key pair;
// `serve` cosigns the checkpoints of the logs it is given, on POST /add-checkpoint. The updates
// package is loaded only for this command.
import { chmodSync, existsSync, readFileSync, writeFileSync } from 'node:fs';
import { helpText, type OptionSpec, parseArgs, usageError } from './args.js';
import { serveUntilSignal } from './listen.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  { name: 'key', kind: 'string', help: 'serve: the witness key file (from keygen)' },
  { name: 'state', kind: 'string', help: 'serve: directory of what it cosigned and refused (default ./witness-state)' },
  {
    name: 'log',
    kind: 'list',
    help: "serve: a log's verifier key (name+id+key; the name is the log's origin); repeatable",
  },
  { name: 'listen', kind: 'string', help: 'serve: host:port (default 127.0.0.1:7380)' },
  { name: 'out', short: 'o', kind: 'string', help: 'keygen: where to write the private key (default <name>.key)' },
];

const USAGE = `Usage: vigil witness keygen NAME [-o FILE]
       vigil witness serve --key FILE --log VKEY [--log VKEY]... [--state DIR] [--listen HOST:PORT]`;

export async function runWitness(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, OPTIONS);
  if (values.get('help') === true || positionals.length === 0) {
    process.stdout.write(helpText(USAGE, OPTIONS));
    return values.get('help') === true ? 0 : 2;
  }
  const updates = await import('@vigil/updates');
  const [sub, ...rest] = positionals;
  if (sub === 'keygen') {
    const [name] = rest;
    if (name === undefined || rest.length > 1) throw usageError(`keygen takes one NAME\n${USAGE}`);
    const key = updates.generateSigner(name, updates.COSIGNATURE_V1);
    const out = (values.get('out') as string | undefined) ?? `${name.replace(/[^A-Za-z0-9.-]/g, '_')}.key`;
    if (existsSync(out)) throw usageError(`${out} exists: a witness key is never overwritten`);
    writeFileSync(out, `${key.skey}\n`, { mode: 0o600, flag: 'wx' });
    chmodSync(out, 0o600);
    process.stdout.write(`${key.vkey}\n`);
    return 0;
  }
  if (sub !== 'serve' || rest.length > 0)
    throw usageError(`unknown witness command '${positionals.join(' ')}'\n${USAGE}`);
  const keyFile = values.get('key') as string | undefined;
  if (keyFile === undefined) throw usageError(`serve needs --key\n${USAGE}`);
  const key = updates.parseSigner(readFileSync(keyFile, 'utf8'));
  const logs = new Map<string, ReturnType<typeof updates.parseVerifier>[]>();
  for (const vkey of (values.get('log') as readonly string[] | undefined) ?? []) {
    const v = updates.parseVerifier(vkey);
    logs.set(v.name, [...(logs.get(v.name) ?? []), v]);
  }
  if (logs.size === 0) throw usageError(`serve needs at least one --log\n${USAGE}`);
  const listen = (values.get('listen') as string | undefined) ?? '127.0.0.1:7380';
  const witness = new updates.Witness({
    key,
    logs,
    dir: (values.get('state') as string | undefined) ?? 'witness-state',
  });
  const what = `witness ${key.name} (${key.vkey}) for ${[...logs.keys()].join(', ')}, listening`;
  await serveUntilSignal(updates.witnessServer(witness), listen, what);
  return 0;
}
