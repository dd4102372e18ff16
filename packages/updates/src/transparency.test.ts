// The log, its witnesses and the client's checks, together over loopback HTTP: a release is
// accepted only with an inclusion proof to a checkpoint cosigned by a quorum and consistent with
// the last one the client stored; a forked view is refused with its evidence, and witnesses refuse
// to cosign one.
import assert from 'node:assert/strict';
import { appendFileSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { after, describe, it } from 'node:test';
import {
  checkpointText,
  cosign,
  openCheckpoint,
  parseCheckpointText,
  signCheckpoint,
  verifyCosignatures,
} from './checkpoint.js';
import { UpdateError } from './errors.js';
import { TransparencyLog } from './log.js';
import { consistencyProof, hashLeaf, inclusionProof, treeRoot } from './merkle.js';
import {
  COSIGNATURE_V1,
  formatNote,
  generateSigner,
  parseNote,
  parseSigner,
  parseVerifier,
  type Signer,
} from './note.js';
import { startWitness as startWitnessAt } from './test-support.js';
import { type LogPolicy, SplitViewError, verifyLoggedEntry } from './verify.js';
import { formatAddCheckpoint, Witness } from './witness.js';
import { requestCosignature } from './witness-http.js';

const root = mkdtempSync(join(tmpdir(), 'vigil-tlog-'));
after(() => rmSync(root, { recursive: true, force: true }));
let n = 0;
const fresh = () => join(root, String(n++));
const ORIGIN = 'updates.vigil.example/log';
const enc = new TextEncoder();

describe('signed notes and keys', () => {
  it('round-trips keys through their text forms and checks the key ID', () => {
    const s = generateSigner('vigil.example/log');
    assert.equal(parseSigner(s.skey).vkey, s.vkey);
    assert.deepEqual(parseVerifier(s.vkey).publicKey, s.publicKey);
    const wrongId = s.vkey.replace(/\+[0-9a-f]{8}\+/, '+00000000+');
    assert.throws(() => parseVerifier(wrongId), /key ID does not match/);
    assert.throws(() => parseVerifier('no-plus-here'), /expected '<name>\+<key ID>\+<key>'/);
    assert.throws(() => generateSigner('has space'), /without spaces/);
  });

  it('verifies the log signature and refuses an altered or unsigned checkpoint', () => {
    const key = generateSigner(ORIGIN);
    const other = generateSigner(ORIGIN);
    const note = signCheckpoint({ origin: ORIGIN, size: 3, root: new Uint8Array(32).fill(7), extensions: [] }, key);
    assert.equal(openCheckpoint(note, [key], ORIGIN).checkpoint.size, 3);
    assert.throws(() => openCheckpoint(note.replace('\n3\n', '\n4\n'), [key], ORIGIN), /does not verify/);
    assert.throws(() => openCheckpoint(note, [other], ORIGIN), /no signature from a trusted key/);
    assert.throws(
      () => openCheckpoint(note, [key], 'other.example/log'),
      /for the log updates.vigil.example\/log, not/,
    );
  });

  it('refuses malformed notes and checkpoints, saying what is wrong', () => {
    assert.throws(() => parseNote('text\n— a b\n'), /no blank line/);
    assert.throws(() => parseNote('text\n\n— a b'), /does not end with a newline/);
    assert.throws(() => parseNote('te\u0007xt\n\n— a AAAAAAA=\n'), /control character/);
    assert.throws(() => parseNote('text\n\nnot a signature\n'), /signature line 1: it does not start with an em dash/);
    assert.throws(() => parseNote(new Uint8Array(70_000).fill(0x41)), /more than the 65536 allowed/);
    assert.throws(() => parseCheckpointText('o\n01\nAAAA\n'), /size line "01"/);
    assert.throws(() => parseCheckpointText('o\n1\nAAAA\n'), /root line is not the base64 of a 32-byte hash/);
    assert.throws(() => parseCheckpointText('\n1\n'), /no origin line/);
  });

  it('checks timestamped cosignatures and ignores unknown witnesses', () => {
    const key = generateSigner(ORIGIN);
    const w = generateSigner('witness.example/w1', COSIGNATURE_V1);
    const stranger = generateSigner('witness.example/w2', COSIGNATURE_V1);
    const c = { origin: ORIGIN, size: 1, root: hashLeaf(enc.encode('a')), extensions: [] };
    const text = checkpointText(c);
    const signed = parseNote(signCheckpoint(c, key)).signatures.map((s) => s.line);
    const note = parseNote(formatNote(text, [...signed, cosign(text, w, 1_700_000_000), cosign(text, stranger, 5)]));
    const got = verifyCosignatures(note, [w]);
    assert.deepEqual(
      got.map((g) => [g.witness.name, g.time]),
      [['witness.example/w1', 1_700_000_000]],
    );
    const forged = parseNote(formatNote(text, [...signed, cosign('other\n1\n', w, 1)]));
    assert.throws(() => verifyCosignatures(forged, [w]), /cosignature by witness.example\/w1 does not verify/);
  });
});

const startWitness = (logKey: Signer, dir = fresh(), name = `witness.example/w${n}`) =>
  startWitnessAt(ORIGIN, logKey, dir, name);

describe('a witness', () => {
  it('cosigns a consistent history and answers each refusal as the protocol says', async () => {
    const logKey = generateSigner(ORIGIN);
    const { url, key, dir, witness } = await startWitness(logKey);
    const leaves = Array.from({ length: 9 }, (_, i) => hashLeaf(enc.encode(`release ${i}`)));
    const note = (size: number, l = leaves) =>
      signCheckpoint({ origin: ORIGIN, size, root: treeRoot(l, size), extensions: [] }, logKey);

    const first = await requestCosignature(url, { oldSize: 0, proof: [], checkpoint: note(4) });
    assert.equal(first.kind, 'cosigned');
    const cosigned = parseNote(`${note(4)}${first.kind === 'cosigned' ? first.lines.join('\n') : ''}\n`);
    assert.equal(verifyCosignatures(cosigned, [key]).length, 1);

    // Stale old size: 409 with the size it holds.
    assert.deepEqual(await requestCosignature(url, { oldSize: 0, proof: [], checkpoint: note(9) }), {
      kind: 'conflict',
      size: 4,
    });
    // A proof that does not lead from 4 to 9.
    const wrong = await requestCosignature(url, {
      oldSize: 4,
      proof: consistencyProof(leaves, 3, 9),
      checkpoint: note(9),
    });
    assert.equal(wrong.kind === 'refused' && wrong.status, 422);
    // A forked history: entry 2 rewritten, validly signed by the log.
    const forked = leaves.map((l, i) => (i === 2 ? hashLeaf(enc.encode('targeted')) : l));
    const fork = await requestCosignature(url, {
      oldSize: 4,
      proof: consistencyProof(forked, 4, 9),
      checkpoint: note(9, forked),
    });
    assert.equal(fork.kind === 'refused' && fork.status, 422);
    assert.equal(readdirSync(join(dir, 'evidence')).length, 2, 'both refused requests the log signed are kept');
    // Not signed by the log's key; an unknown log; a malformed body; old size past the checkpoint.
    const impostor = signCheckpoint(
      { origin: ORIGIN, size: 9, root: treeRoot(leaves), extensions: [] },
      generateSigner(ORIGIN),
    );
    const bad = await requestCosignature(url, {
      oldSize: 4,
      proof: consistencyProof(leaves, 4, 9),
      checkpoint: impostor,
    });
    assert.equal(bad.kind === 'refused' && bad.status, 403);
    const stranger = signCheckpoint(
      { origin: 'x.example/log', size: 1, root: leaves[0] as Uint8Array, extensions: [] },
      logKey,
    );
    const unknown = await requestCosignature(url, { oldSize: 0, proof: [], checkpoint: stranger });
    assert.equal(unknown.kind === 'refused' && unknown.status, 404);
    const garbage = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: 'hello\n' });
    assert.equal(garbage.status, 400);
    assert.match(await garbage.text(), /no blank line before the checkpoint/);
    const past = await requestCosignature(url, { oldSize: 10, proof: [], checkpoint: note(9) });
    assert.equal(past.kind === 'refused' && past.status, 400);
    const huge = await fetch(`${url}/add-checkpoint`, { method: 'POST', body: 'x'.repeat(200_000) });
    assert.equal(huge.status, 413);

    const good = await requestCosignature(url, {
      oldSize: 4,
      proof: consistencyProof(leaves, 4, 9),
      checkpoint: note(9),
    });
    assert.equal(good.kind, 'cosigned');
    assert.equal(witness.latest(ORIGIN)?.size, 9);
  });

  it('remembers across restarts, and never cosigns two checkpoints of one size with different roots', async () => {
    const logKey = generateSigner(ORIGIN);
    const dir = fresh();
    const leaves = Array.from({ length: 5 }, (_, i) => hashLeaf(enc.encode(`r${i}`)));
    const other = leaves.map((l, i) => (i === 4 ? hashLeaf(enc.encode('evil')) : l));
    const note = (l: Uint8Array[]) =>
      signCheckpoint({ origin: ORIGIN, size: 5, root: treeRoot(l), extensions: [] }, logKey);
    const one = new Witness({
      key: generateSigner('w.example/a', COSIGNATURE_V1),
      logs: new Map([[ORIGIN, [logKey]]]),
      dir,
    });
    assert.equal((await one.addCheckpoint(formatAddCheckpoint(0, [], note(leaves)))).status, 200);
    const again = new Witness({
      key: generateSigner('w.example/a', COSIGNATURE_V1),
      logs: new Map([[ORIGIN, [logKey]]]),
      dir,
    });
    const r = await again.addCheckpoint(formatAddCheckpoint(5, [], note(other)));
    assert.equal(r.status, 409);
    assert.match(r.body, /another root hash: a forked view/);
    // Racing requests for the same old size: exactly one wins.
    const key = generateSigner('w.example/b', COSIGNATURE_V1);
    const racer = new Witness({ key, logs: new Map([[ORIGIN, [logKey]]]), dir: fresh() });
    const replies = await Promise.all(
      [note(leaves), note(other)].map((c) => racer.addCheckpoint(formatAddCheckpoint(0, [], c))),
    );
    assert.deepEqual(replies.map((x) => x.status).sort(), [200, 409]);
  });

  it('refuses to start on damaged state rather than forget what it cosigned', () => {
    const dir = fresh();
    const w = () => new Witness({ key: generateSigner('w.example/c', COSIGNATURE_V1), logs: new Map(), dir });
    w();
    writeFileSync(join(dir, 'state.json'), '{"x": ');
    assert.throws(w, (e: unknown) => e instanceof UpdateError && /damaged .* refusing to start/.test(e.message));
  });
});

describe('the log and the client', () => {
  it('publishes releases with cosignatures; the client follows them and refuses a forked view', async () => {
    const logKey = generateSigner(ORIGIN);
    const witnesses = await Promise.all([startWitness(logKey), startWitness(logKey), startWitness(logKey)]);
    const log = TransparencyLog.open(fresh(), ORIGIN);
    const policy: LogPolicy = { origin: ORIGIN, logKeys: [logKey], witnesses: witnesses.map((w) => w.key), quorum: 2 };
    let stored: string | undefined;
    const published: string[] = [];
    for (let v = 1; v <= 3; v++) {
      const entry = enc.encode(`daily-${v}.vdb sha256:${'ab'.repeat(32)}`);
      const index = log.append(entry);
      const before = stored === undefined ? 0 : parseCheckpointText(parseNote(stored).text).size;
      const { note, refused } = await log.publish(
        logKey,
        witnesses.map((w) => w.url),
      );
      assert.deepEqual(refused, []);
      const got = {
        entry,
        index,
        inclusionProof: log.inclusionProof(index),
        checkpoint: note,
        consistencyProof: log.consistencyProof(before),
      };
      assert.equal(verifyLoggedEntry(policy, got, stored).size, v);
      stored = note;
      published.push(note);
    }
    assert.equal(stored, log.checkpoint());

    // The vendor makes a release for one client only: a tree that forks from the public one.
    const target = enc.encode('daily-4.vdb for one client');
    const leaves = [0, 1, 2].map((i) => hashLeaf(log.entry(i)));
    const forked = [leaves[0], leaves[1], hashLeaf(enc.encode('rewritten')), hashLeaf(target)] as Uint8Array[];
    const head = { origin: ORIGIN, size: 4, root: treeRoot(forked), extensions: [] };
    const text = checkpointText(head);
    const signed = parseNote(signCheckpoint(head, logKey)).signatures.map((s) => s.line);
    const attempt = {
      entry: target,
      index: 3,
      inclusionProof: inclusionProof(forked, 3, 4),
      consistencyProof: consistencyProof(forked, 3, 4),
    };
    // Without cosignatures (the witnesses refuse the fork), the quorum is not met.
    for (const w of witnesses) {
      const r = await requestCosignature(w.url, {
        oldSize: 3,
        proof: attempt.consistencyProof,
        checkpoint: formatNote(text, signed),
      });
      assert.equal(r.kind === 'refused' && r.status, 422, 'a witness refuses the fork');
    }
    assert.throws(
      () => verifyLoggedEntry(policy, { ...attempt, checkpoint: formatNote(text, signed) }, stored),
      (e: unknown) => e instanceof UpdateError && e.code === 'E_QUORUM',
    );
    // Even with colluding witnesses' cosignatures, the client's own stored checkpoint exposes it.
    const rogue = [
      generateSigner('rogue.example/1', COSIGNATURE_V1),
      generateSigner('rogue.example/2', COSIGNATURE_V1),
    ];
    const rogueNote = formatNote(text, [...signed, ...rogue.map((k) => cosign(text, k, 1))]);
    const lax: LogPolicy = { ...policy, witnesses: [...policy.witnesses, ...rogue] };
    let caught: unknown;
    try {
      verifyLoggedEntry(lax, { ...attempt, checkpoint: rogueNote }, stored);
    } catch (e) {
      caught = e;
    }
    assert.ok(caught instanceof SplitViewError, `expected a split view, got ${String(caught)}`);
    assert.equal(caught.evidence.stored, stored);
    assert.equal(caught.evidence.received, rogueNote);
    assert.match(caught.message, /does not extend the size 3 seen before: a forked view/);

    // A tampered entry, and an older checkpoint than the one stored, are refused too.
    const tampered = {
      entry: enc.encode('daily-3.vdb evil'),
      index: 2,
      inclusionProof: log.inclusionProof(2),
      checkpoint: stored as string,
      consistencyProof: [],
    };
    assert.throws(() => verifyLoggedEntry(policy, tampered, stored), /inclusion proof does not verify/);
    const old = {
      entry: log.entry(0),
      index: 0,
      inclusionProof: log.inclusionProof(0, 1),
      checkpoint: published[0] as string,
      consistencyProof: [],
    };
    assert.throws(() => verifyLoggedEntry(policy, old, stored), /at size 1 is older than the size 3 already seen/);
  });

  it('keeps its leaves across reopening and drops a leaf hash cut short by a crash', () => {
    const dir = fresh();
    const log = TransparencyLog.open(dir, ORIGIN);
    log.append(enc.encode('a'));
    log.append(enc.encode('b'));
    appendFileSync(join(dir, 'leaves'), Buffer.alloc(7));
    const again = TransparencyLog.open(dir, ORIGIN);
    assert.equal(again.size, 2);
    assert.deepEqual(again.head().root, treeRoot([hashLeaf(enc.encode('a')), hashLeaf(enc.encode('b'))]));
    assert.throws(() => TransparencyLog.open(dir, 'other.example/log'), /is updates.vigil.example\/log, not other/);
  });
});
