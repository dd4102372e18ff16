// `vigil policy`: regional availability rules as data. `check` validates a policy file, `decide`
// answers one request (with the notices due), `dry-run` lists the licences a proposed policy would
// affect. The licensing package is loaded only here.
import { readFileSync } from 'node:fs';
import { dateOption, helpText, type OptionSpec, parseArgs, usageError } from './args.js';

const OPTIONS: readonly OptionSpec[] = [
  { name: 'help', short: 'h', kind: 'flag', help: 'Print this help and exit' },
  {
    name: 'action',
    kind: 'string',
    help: 'decide: new-sale, renewal, activation, resale, transfer, signature-update or cloud-lookup',
  },
  { name: 'country', kind: 'string', help: "decide: the customer's billing country (ISO 3166-1 alpha-2)" },
  { name: 'ip-country', kind: 'string', help: "decide: the country of the request's IP address (a signal only)" },
  { name: 'customer', kind: 'string', help: "decide: the customer's id (for exemptions)" },
  { name: 'at', kind: 'string', help: 'decide: the instant (ISO 8601; default now)' },
  { name: 'licences', kind: 'string', help: 'dry-run: a JSON list of licence records' },
  { name: 'from', kind: 'string', help: 'dry-run: start of the window (default now)' },
  { name: 'to', kind: 'string', help: 'dry-run: end of the window (default a year after --from)' },
];

const USAGE = `Usage: vigil policy check POLICY.json
       vigil policy decide POLICY.json --action ACTION --country CC [--ip-country CC] [--customer ID] [--at ISO]
       vigil policy dry-run CURRENT.json PROPOSED.json --licences LICENCES.json [--from ISO] [--to ISO]`;

export async function runPolicy(argv: readonly string[]): Promise<number> {
  const { values, positionals } = parseArgs(argv, OPTIONS);
  if (values.get('help') === true || positionals.length === 0) {
    process.stdout.write(helpText(USAGE, OPTIONS));
    return values.get('help') === true ? 0 : 2;
  }
  const licensing = await import('@vigil/licensing');
  const load = (file: string) => licensing.parsePolicy(readFileSync(file, 'utf8'), file);
  const [sub, ...files] = positionals;
  const out = (s: string) => process.stdout.write(s.endsWith('\n') ? s : `${s}\n`);
  if (sub === 'check' && files.length === 1) {
    const p = load(files[0] as string);
    const rules = p.jurisdictions.reduce((n, j) => n + j.rules.length, 0);
    out(`${files[0]}: policy version ${p.version}, ${p.jurisdictions.length} jurisdiction(s), ${rules} rule(s): OK`);
    return 0;
  }
  if (sub === 'decide' && files.length === 1) {
    const customer = {
      billingCountry: String(values.get('country') ?? ''),
      ...(values.has('ip-country') ? { ipCountry: String(values.get('ip-country')) } : {}),
      ...(values.has('customer') ? { id: String(values.get('customer')) } : {}),
    };
    const action = String(values.get('action') ?? '') as Parameters<typeof licensing.decide>[1]['action'];
    const d = licensing.decide(load(files[0] as string), {
      action,
      at: dateOption(values.get('at'), '--at', new Date()),
      customer,
    });
    out(JSON.stringify(d, null, 2));
    return d.allowed ? 0 : 1;
  }
  if (sub === 'dry-run' && files.length === 2) {
    const licencesFile = values.get('licences') as string | undefined;
    if (licencesFile === undefined) throw usageError(`dry-run needs --licences\n${USAGE}`);
    const from = dateOption(values.get('from'), '--from', new Date());
    const to = dateOption(values.get('to'), '--to', new Date(from.getTime() + 365 * 86_400_000));
    const licences = JSON.parse(readFileSync(licencesFile, 'utf8')) as Parameters<
      typeof licensing.dryRun
    >[2]['licences'];
    const r = licensing.dryRun(load(files[0] as string), load(files[1] as string), { licences, window: { from, to } });
    out(licensing.formatDryRun(r));
    return 0;
  }
  throw usageError(`unknown policy command '${positionals.join(' ')}'\n${USAGE}`);
}
