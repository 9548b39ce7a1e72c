import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import type { AlertStates } from '../../src/core/correlation.js';
import { foldTimeline } from '../../src/core/incident.js';
import { alertNoticeField, checkQueuedField } from '../../src/core/incident-meta.js';
import type { IncidentId } from '../../src/core/incident-model.js';
import type { NewEntry } from '../../src/core/timeline.js';
import type { DeclaredEntry, LockName, StorePort } from '../../src/flows/deps.js';
import { eventually } from '../support/eventually.js';

/** What the contract runs against: a fresh, empty store, and the means to play a crash and time. */
export interface ContractSubject {
  store: StorePort;
  /** A store over the same data whose declare throws at `step` (its own checkpoint hook), as a crash there would. */
  crashingAt(step: 'declare:reserved' | 'declare:written'): StorePort;
  /** Moves the store's clock on, for a store with an injectable clock; without it TTL clauses wait in real time. */
  advance?: (ms: number) => void;
  cleanup(): Promise<void>;
}

const AT = Date.parse('2024-05-01T10:00:00.000Z');
/** `s` seconds after the contract's time zero, as ISO 8601 UTC. */
const at = (s: number) => new Date(AT + s * 1000).toISOString();
const user = { type: 'user', id: 'U0123ABCD' } as const;

function declared(over: Partial<DeclaredEntry> = {}): DeclaredEntry {
  return {
    kind: 'declared',
    at: at(0),
    actor: user,
    source: 'slash',
    title: 'Checkout returns 502',
    severity: 'SEV2',
    ...over,
  };
}

function note(id: IncidentId, text: string, s = 60): NewEntry {
  return { kind: 'note', incidentId: id, at: at(s), actor: user, source: 'slash', text };
}

function closed(id: IncidentId, s = 600): Extract<NewEntry, { kind: 'closed' }> {
  return {
    kind: 'closed',
    incidentId: id,
    at: at(s),
    actor: user,
    source: 'slash',
    resolution: 'rolled back',
  };
}

const firing = (s: number) => ({ status: 'firing' as const, startsAt: at(s) });

/**
 * The StorePort contract (src/flows/deps.ts), one test per clause, for any implementation:
 * `makeStore` gives a fresh, empty store per test and cleans it up after.
 */
export function storeContract(name: string, makeStore: () => Promise<ContractSubject>): void {
  describe(`${name} keeps the store port's contract`, () => {
    let subject: ContractSubject;
    let store: StorePort;

    beforeEach(async () => {
      subject = await makeStore();
      store = subject.store;
    });
    afterEach(async () => {
      await subject.cleanup();
    });

    /** Runs `check` once `ms` have passed on the store's clock: at once after `advance`, else polling real time. */
    async function afterTtl(ms: number, check: () => Promise<void>): Promise<void> {
      if (subject.advance) {
        subject.advance(ms + 1);
        await check();
      } else {
        await eventually(check, ms + 5_000, 10);
      }
    }

    /** The one pending declaration there must be. */
    async function onePending(): Promise<{ id: IncidentId; entry: DeclaredEntry }> {
      const pending = await store.pendingDeclarations();
      expect(pending).toHaveLength(1);
      return pending[0]!;
    }

    async function declareOne(over: Partial<DeclaredEntry> = {}, opts = {}): Promise<IncidentId> {
      const res = await store.declare(declared(over), opts);
      expect(res.created).toBe(true);
      return res.id;
    }

    describe('declarations', () => {
      it('fifty concurrent declarations with one claim key create one incident', async () => {
        const results = await Promise.all(
          Array.from({ length: 50 }, (_, i) =>
            store.declare(declared({ title: `attempt ${i}` }), { claimKey: 'trigger-1' }),
          ),
        );
        const ids = new Set(results.map((r) => r.id));
        expect(ids.size).toBe(1);
        const winner = results.findIndex((r) => r.created);
        expect(results.filter((r) => r.created)).toHaveLength(1);
        const [id] = [...ids] as [IncidentId];
        expect(await store.allIncidents()).toEqual([id]);
        expect(await store.openIncidents()).toEqual([id]);
        const entries = await store.entries(id);
        expect(entries.map((e) => [e.seq, e.kind])).toEqual([[1, 'declared']]);
        expect(entries[0]).toMatchObject({ incidentId: id, title: `attempt ${winner}` });
        expect(await store.pendingDeclarations()).toEqual([]);
      });

      it('an alert group has one open incident until leaveOpenIndex frees it', async () => {
        const [a, b] = await Promise.all([
          store.declare(declared({ alertGroupId: 'grp-a' }), { alertGroupId: 'grp-a' }),
          store.declare(declared({ alertGroupId: 'grp-a' }), { alertGroupId: 'grp-a' }),
        ]);
        expect(a!.id).toBe(b!.id);
        expect([a!.created, b!.created].sort()).toEqual([false, true]);
        const first = a!.id;
        expect(await store.boundIncident('grp-a')).toBe(first);
        expect(await store.lastIncident('grp-a')).toBe(first);
        expect(await store.declare(declared(), { alertGroupId: 'grp-a' })).toEqual({
          id: first,
          created: false,
        });

        expect(await store.close(first, closed(first))).toMatchObject({ ok: true });
        await store.leaveOpenIndex(first, 'grp-a', new Date(AT + 600_000));
        expect(await store.boundIncident('grp-a')).toBeUndefined();
        expect(await store.lastIncident('grp-a')).toBe(first);

        const next = await store.declare(declared({ at: at(700) }), { alertGroupId: 'grp-a' });
        expect(next.created).toBe(true);
        expect(next.id).not.toBe(first);
        expect(await store.boundIncident('grp-a')).toBe(next.id);
        expect(await store.lastIncident('grp-a')).toBe(next.id);
      });

      it('a declaration a crash left reserved is written by the next declare with its claim key', async () => {
        const crashing = subject.crashingAt('declare:reserved');
        await expect(
          crashing.declare(declared({ title: 'first try' }), { claimKey: 'view-1' }),
        ).rejects.toThrow();
        const { id, entry } = await onePending();
        expect(entry).toEqual(declared({ title: 'first try' }));
        expect(await store.timelineLength(id)).toBe(0);
        expect(await store.load(id)).toBeUndefined();
        expect(await store.openIncidents()).toEqual([id]);

        expect(await store.declare(declared({ title: 'retry' }), { claimKey: 'view-1' })).toEqual({
          id,
          created: false,
        });
        const entries = await store.entries(id);
        expect(entries).toHaveLength(1);
        expect(entries[0]).toMatchObject({ kind: 'declared', title: 'first try' });
        expect(await store.pendingDeclarations()).toEqual([]);
      });

      it('a declaration a crash left reserved is written by the next declare for its alert group', async () => {
        const crashing = subject.crashingAt('declare:reserved');
        const entry = declared({ alertGroupId: 'grp-b', title: 'alert' });
        await expect(crashing.declare(entry, { alertGroupId: 'grp-b' })).rejects.toThrow();
        const { id } = await onePending();
        expect(await store.boundIncident('grp-b')).toBe(id);

        expect(await store.declare(entry, { alertGroupId: 'grp-b' })).toEqual({ id, created: false });
        expect((await store.current(id))?.title).toBe('alert');
        expect(await store.pendingDeclarations()).toEqual([]);
      });

      it('completeDeclaration writes a pending declaration once and forgets it', async () => {
        await expect(subject.crashingAt('declare:reserved').declare(declared())).rejects.toThrow();
        const { id, entry } = await onePending();
        await store.completeDeclaration(id, entry);
        await store.completeDeclaration(id, entry);
        expect(await store.timelineLength(id)).toBe(1);
        expect(await store.pendingDeclarations()).toEqual([]);
        expect((await store.current(id))?.title).toBe(entry.title);
      });

      it('a declaration cut short after its timeline was written is not written twice', async () => {
        const crashing = subject.crashingAt('declare:written');
        await expect(crashing.declare(declared(), { claimKey: 'view-2' })).rejects.toThrow();
        const { id, entry } = await onePending();
        expect(await store.timelineLength(id)).toBe(1);
        await store.completeDeclaration(id, entry);
        expect(await store.declare(declared(), { claimKey: 'view-2' })).toEqual({ id, created: false });
        expect(await store.timelineLength(id)).toBe(1);
        expect(await store.pendingDeclarations()).toEqual([]);
      });

      it('the directory lists incidents in number order and oldest declaration first', async () => {
        const ids: IncidentId[] = [];
        // Declared at descending times: the open index orders by declaration time, `all` by number.
        for (let i = 0; i < 11; i++) ids.push(await declareOne({ at: at(1000 - i) }, { claimKey: `k-${i}` }));
        expect(ids).toEqual(Array.from({ length: 11 }, (_, i) => `INC-${i + 1}`));
        expect(await store.allIncidents()).toEqual(ids);
        expect(await store.openIncidents()).toEqual([...ids].reverse());
        expect(await store.openCount()).toBe(11);
        expect(await store.exists(11)).toBe(true);
        expect(await store.exists(12)).toBe(false);
        await store.indexChannel('C0INC11', ids[10]!);
        expect(await store.incidentByChannel('C0INC11')).toBe(ids[10]);
        expect(await store.incidentByChannel('C0OTHER')).toBeUndefined();
      });
    });

    describe('timelines', () => {
      it('append happens once per claim key', async () => {
        const id = await declareOne();
        const other = await declareOne({}, { claimKey: 'other' });
        expect(await store.append(id, [note(id, 'once')], { claimKey: 'slack-1' })).toEqual({
          ok: true,
          seqs: [2],
        });
        expect(await store.append(id, [note(id, 'twice')], { claimKey: 'slack-1' })).toEqual({
          ok: false,
          reason: 'duplicate',
        });
        expect(await store.append(id, [note(id, 'another')], { claimKey: 'slack-2' })).toEqual({
          ok: true,
          seqs: [3],
        });
        // Claims are per incident.
        expect(await store.append(other, [note(other, 'once')], { claimKey: 'slack-1' })).toEqual({
          ok: true,
          seqs: [2],
        });
        expect((await store.entries(id)).map((e) => (e.kind === 'note' ? e.text : e.kind))).toEqual([
          'declared',
          'once',
          'another',
        ]);
      });

      it('append refuses a stale expected length and appends at the right one', async () => {
        const id = await declareOne();
        expect(await store.append(id, [note(id, 'stale')], { expectedLength: 0 })).toEqual({
          ok: false,
          reason: 'conflict',
        });
        expect(await store.append(id, [note(id, 'a'), note(id, 'b')], { expectedLength: 1 })).toEqual({
          ok: true,
          seqs: [2, 3],
        });
        // A refused append does not use up its claim.
        expect(await store.append(id, [note(id, 'c')], { expectedLength: 1, claimKey: 'k' })).toEqual({
          ok: false,
          reason: 'conflict',
        });
        expect(await store.append(id, [note(id, 'c')], { expectedLength: 3, claimKey: 'k' })).toEqual({
          ok: true,
          seqs: [4],
        });
        expect(await store.timelineLength(id)).toBe(4);
        expect(await store.append(id, [])).toEqual({ ok: true, seqs: [] });
        expect(await store.timelineLength(id)).toBe(4);
      });

      it('append and close to a missing incident are not-found and change nothing', async () => {
        const missing = 'INC-999' as IncidentId;
        expect(await store.append(missing, [note(missing, 'x')])).toEqual({ ok: false, reason: 'not-found' });
        expect(await store.close(missing, closed(missing))).toEqual({ ok: false, reason: 'not-found' });
        expect(await store.timelineLength(missing)).toBe(0);
        expect(await store.entries(missing)).toEqual([]);
        expect(await store.load(missing)).toBeUndefined();
        expect(await store.current(missing)).toBeUndefined();
        expect(await store.exists(999)).toBe(false);
        expect(await store.meta(missing)).toEqual({ alertNotices: {}, checksQueued: {} });
      });

      it('close appends the closed entry and marks both owed fields in one step, once per claim', async () => {
        const id = await declareOne();
        const before = await store.meta(id);
        expect(before['close-owed']).toBeUndefined();
        expect(before['postmortem-owed']).toBeUndefined();

        expect(await store.close(id, closed(id, 600), { expectedLength: 1, claimKey: 'close-1' })).toEqual({
          ok: true,
          seqs: [2],
        });
        const meta = await store.meta(id);
        expect(meta['close-owed']).toBe(at(600));
        expect(meta['postmortem-owed']).toBe(at(600));
        expect((await store.current(id))?.status).toBe('closed');

        // The follow-up clears the marks; a retried close with the same claim must not set them again.
        await store.deleteMeta(id, 'close-owed', 'postmortem-owed');
        expect(await store.close(id, closed(id, 900), { claimKey: 'close-1' })).toEqual({
          ok: false,
          reason: 'duplicate',
        });
        const after = await store.meta(id);
        expect(after['close-owed']).toBeUndefined();
        expect(after['postmortem-owed']).toBeUndefined();
        expect((await store.entries(id)).filter((e) => e.kind === 'closed')).toHaveLength(1);
      });

      it('a close refused for a stale length marks nothing', async () => {
        const id = await declareOne();
        expect(await store.close(id, closed(id), { expectedLength: 5 })).toEqual({
          ok: false,
          reason: 'conflict',
        });
        const meta = await store.meta(id);
        expect(meta['close-owed']).toBeUndefined();
        expect(meta['postmortem-owed']).toBeUndefined();
        expect(await store.timelineLength(id)).toBe(1);
      });

      it('entries read back with seqs and the incident id, from any seq', async () => {
        const id = await declareOne();
        await store.append(id, [note(id, 'a', 10), note(id, 'b', 20)]);
        const from2 = await store.entries(id, 2);
        expect(from2).toEqual([
          { ...note(id, 'a', 10), seq: 2 },
          { ...note(id, 'b', 20), seq: 3 },
        ]);
        // What a caller does to what it read does not reach the store.
        (from2[0] as { text: string }).text = 'changed';
        expect((await store.entries(id, 2))[0]).toMatchObject({ text: 'a' });
      });

      it('a malformed stored entry makes reading the timeline throw', async () => {
        const id = await declareOne();
        const bad = { kind: 'note', incidentId: id, at: 'yesterday', actor: user, source: 'slash' };
        await store.append(id, [bad as unknown as NewEntry]);
        await expect(store.entries(id)).rejects.toThrow();
        await expect(store.load(id)).rejects.toThrow();
      });
    });

    describe('snapshots and folds', () => {
      it('an older fold never overwrites a newer snapshot', async () => {
        const id = await declareOne();
        await store.append(id, [note(id, 'a'), note(id, 'b')]);
        const loaded = (await store.load(id))!;
        expect(loaded.incident.entryCount).toBe(3);
        // Marked titles tell the cached folds apart from the timeline's.
        await store.saveSnapshot(id, { ...loaded.incident, title: 'fold of 3' });
        await store.saveSnapshot(id, { ...foldTimeline(loaded.entries.slice(0, 2)), title: 'fold of 2' });
        await store.saveSnapshot(id, { ...loaded.incident, title: 'another fold of 3' });
        expect((await store.current(id))?.title).toBe('fold of 3');

        await store.append(id, [note(id, 'c')]);
        const cur = (await store.current(id))!;
        expect(cur.title).toBe('fold of 3');
        expect(cur.entryCount).toBe(4);
        await store.saveSnapshot(id, { ...cur, title: 'fold of 4' });
        expect((await store.current(id))?.title).toBe('fold of 4');
      });

      it('current() equals load().incident after every append', async () => {
        const id = await declareOne();
        const same = async () => expect(await store.current(id)).toEqual((await store.load(id))?.incident);
        await same();
        const steps: NewEntry[] = [
          {
            kind: 'role_assigned',
            incidentId: id,
            at: at(30),
            actor: user,
            source: 'slash',
            role: 'commander',
            userId: 'U1',
          },
          {
            kind: 'status_changed',
            incidentId: id,
            at: at(60),
            actor: user,
            source: 'slash',
            from: 'investigating',
            to: 'identified',
          },
          {
            kind: 'hypothesis_suspected',
            incidentId: id,
            at: at(90),
            actor: user,
            source: 'slash',
            hypothesisId: 'h1',
            text: 'the database',
            category: 'database',
          },
          {
            kind: 'hypothesis_ruled_out',
            incidentId: id,
            at: at(120),
            actor: user,
            source: 'slash',
            hypothesisId: 'h1',
          },
          {
            kind: 'severity_changed',
            incidentId: id,
            at: at(150),
            actor: user,
            source: 'slash',
            from: 'SEV2',
            to: 'SEV1',
          },
        ];
        for (const e of steps) {
          await store.append(id, [e]);
          await same();
        }
        // More entries past the cached fold than current() folds without re-caching.
        await store.append(
          id,
          Array.from({ length: 40 }, (_, i) => note(id, `n${i}`, 200 + i)),
        );
        await same();
        await same();
        await store.close(id, closed(id, 900));
        await same();
        expect((await store.current(id))?.entryCount).toBe(47);
      });
    });

    describe('closing', () => {
      it('leaveOpenIndex moves an incident to the closing index, idempotently', async () => {
        const a = await declareOne({ at: at(0) }, { claimKey: 'a' });
        const b = await declareOne({ at: at(10) }, { claimKey: 'b' });
        expect(await store.openIncidents()).toEqual([a, b]);
        await store.leaveOpenIndex(b, undefined, new Date(AT + 100_000));
        await store.leaveOpenIndex(a, undefined, new Date(AT + 200_000));
        expect(await store.openIncidents()).toEqual([]);
        expect(await store.openCount()).toBe(0);
        expect(await store.closingIncidents()).toEqual([b, a]);
        // Again, later: the close time stays the first one's.
        await store.leaveOpenIndex(b, undefined, new Date(AT + 300_000));
        expect(await store.closingIncidents()).toEqual([b, a]);
        await store.leaveClosingIndex(b);
        await store.leaveClosingIndex(b);
        expect(await store.closingIncidents()).toEqual([a]);
        expect(await store.allIncidents()).toEqual([a, b]);
      });

      it('leaveOpenIndex does not release a group rebound to another incident', async () => {
        const a = await declareOne({ alertGroupId: 'grp-c' }, { alertGroupId: 'grp-c' });
        expect(await store.releaseAlertGroup('grp-c', a)).toBe(true);
        expect(await store.releaseAlertGroup('grp-c', a)).toBe(false);
        const b = await declareOne({ alertGroupId: 'grp-c' }, { alertGroupId: 'grp-c' });
        expect(b).not.toBe(a);
        await store.leaveOpenIndex(a, 'grp-c', new Date(AT + 600_000));
        await store.leaveOpenIndex(a, 'grp-c', new Date(AT + 600_000));
        expect(await store.boundIncident('grp-c')).toBe(b);
        expect(await store.releaseAlertGroup('grp-c', a)).toBe(false);
        expect(await store.lastIncident('grp-c')).toBe(b);
        expect(await store.openIncidents()).toEqual([b]);
      });
    });

    describe('claims and locks', () => {
      it('a claim goes to its first caller only, per incident and globally', async () => {
        expect(await store.claim('diagnose-1', 60)).toBe(true);
        expect(await store.claim('diagnose-1', 60)).toBe(false);
        expect(await store.claim('diagnose-1', 60, 'INC-1')).toBe(true);
        expect(await store.claim('diagnose-1', 60, 'INC-1')).toBe(false);
        expect(await store.claim('diagnose-1', 60, 'INC-2')).toBe(true);
      });

      it('a claim can be taken again after its TTL', async () => {
        expect(await store.claim('short', 1, 'INC-1')).toBe(true);
        expect(await store.claim('short', 1, 'INC-1')).toBe(false);
        await afterTtl(1000, async () => {
          expect(await store.claim('short', 1, 'INC-1')).toBe(true);
        });
      });

      it('a lock has one holder, and only its owner renews or releases it', async () => {
        const lock: LockName = { kind: 'delivery', incidentId: 'INC-1' };
        const token = (await store.acquireLock(lock, 60_000))!;
        expect(token).toEqual(expect.any(String));
        expect(await store.acquireLock(lock, 60_000)).toBeUndefined();
        // Other locks are other locks.
        expect(
          await store.acquireLock({ kind: 'checklist-render', incidentId: 'INC-1' }, 60_000),
        ).toBeDefined();
        expect(await store.acquireLock({ kind: 'delivery', incidentId: 'INC-2' }, 60_000)).toBeDefined();
        expect(await store.acquireLock({ kind: 'alert-group', groupId: 'INC-1' }, 60_000)).toBeDefined();

        expect(await store.renewLock(lock, 'not-the-token', 60_000)).toBe(false);
        await store.releaseLock(lock, 'not-the-token');
        expect(await store.acquireLock(lock, 60_000)).toBeUndefined();
        expect(await store.renewLock(lock, token, 60_000)).toBe(true);
        await store.releaseLock(lock, token);
        expect(await store.renewLock(lock, token, 60_000)).toBe(false);
        const next = await store.acquireLock(lock, 60_000);
        expect(next).toBeDefined();
        expect(next).not.toBe(token);
      });

      it('a lock is free again after its TTL unless its owner renewed it', async () => {
        const renewed: LockName = { kind: 'alert-group', groupId: 'renewed' };
        const lapsed: LockName = { kind: 'alert-group', groupId: 'lapsed' };
        // Renewed before its 50 ms ran out (a stalled test process may miss that: take it again).
        let token: string | undefined;
        for (let i = 0; i < 20 && !token; i++) {
          const t = (await store.acquireLock(renewed, 50))!;
          if (await store.renewLock(renewed, t, 60_000)) token = t;
        }
        expect(token).toBeDefined();
        const old = (await store.acquireLock(lapsed, 50))!;
        expect(old).toBeDefined();
        // `lapsed` was taken after `renewed` was: once it is free, renewed's first 50 ms have passed too.
        await afterTtl(50, async () => {
          expect(await store.acquireLock(lapsed, 60_000)).toBeDefined();
        });
        expect(await store.renewLock(lapsed, old, 60_000)).toBe(false);
        expect(await store.acquireLock(renewed, 60_000)).toBeUndefined();
      });

      it('releaseRenderLockIfUnchanged keeps the lock when a render was asked for since', async () => {
        const id = await declareOne();
        const lock: LockName = { kind: 'checklist-render', incidentId: id };
        const t1 = (await store.acquireLock(lock, 60_000))!;
        expect(await store.releaseRenderLockIfUnchanged(id, t1, '')).toBe(true);

        expect(await store.incrementMeta(id, 'checklist-version')).toBe(1);
        const t2 = (await store.acquireLock(lock, 60_000))!;
        expect(t2).toBeDefined();
        expect(await store.incrementMeta(id, 'checklist-version')).toBe(2);
        expect(await store.releaseRenderLockIfUnchanged(id, t2, '1')).toBe(false);
        expect(await store.acquireLock(lock, 60_000)).toBeUndefined();
        // Not the caller's lock: nothing to release, and the holder keeps it.
        expect(await store.releaseRenderLockIfUnchanged(id, 'not-mine', '2')).toBe(true);
        expect(await store.acquireLock(lock, 60_000)).toBeUndefined();
        expect(await store.releaseRenderLockIfUnchanged(id, t2, '2')).toBe(true);
        expect(await store.acquireLock(lock, 60_000)).toBeDefined();
      });
    });

    describe('meta', () => {
      it('setNudgeIfGeneration points the nudge at a job only while the generation is unchanged', async () => {
        const id = await declareOne();
        expect(await store.setNudgeIfGeneration(id, '', 'nudge-a', at(0))).toBe('');
        expect(await store.setNudgeIfGeneration(id, '', 'nudge-b', at(60))).toBe('nudge-a');
        await store.setMeta(id, { 'nudge-sev': at(100) });
        expect(await store.setNudgeIfGeneration(id, '', 'nudge-c', at(120))).toBeNull();
        expect(await store.meta(id)).toMatchObject({ 'nudge-job': 'nudge-b', 'nudge-basis': at(60) });
        expect(await store.setNudgeIfGeneration(id, at(100), 'nudge-d', at(120))).toBe('nudge-b');
        expect(await store.meta(id)).toMatchObject({ 'nudge-job': 'nudge-d', 'nudge-basis': at(120) });
      });

      it('meta refuses a malformed value and keeps what was there', async () => {
        const id = await declareOne();
        await store.setMeta(id, { announced: at(0) });
        await expect(store.setMeta(id, { 'close-owed': 'yesterday' })).rejects.toThrow();
        await expect(store.setMeta(id, { announced: at(5), 'checklist-run': 'two' })).rejects.toThrow();
        await expect(store.setMetaIfAbsent(id, 'checklist-version', '1.5')).rejects.toThrow();
        await expect(store.setMeta(id, { [alertNoticeField('k')]: 'soon' })).rejects.toThrow();
        await expect(store.setMeta(id, { [checkQueuedField('pool-health/lb1')]: '3' })).rejects.toThrow();
        expect(await store.meta(id)).toEqual({ announced: at(0), alertNotices: {}, checksQueued: {} });
      });

      it('meta reads both field families into maps and counts with incrementMeta', async () => {
        const id = await declareOne();
        await store.setMeta(id, {
          [alertNoticeField('abc-1714557600000')]: at(1),
          [checkQueuedField('pool-health/lb1')]: '1:4',
        });
        expect(await store.setMetaIfAbsent(id, 'checklist-name', 'lb-first')).toBe(true);
        expect(await store.setMetaIfAbsent(id, 'checklist-name', 'other')).toBe(false);
        expect(await store.incrementMeta(id, 'checklist-run')).toBe(1);
        expect(await store.incrementMeta(id, 'checklist-run')).toBe(2);
        expect(await store.meta(id)).toEqual({
          'checklist-name': 'lb-first',
          'checklist-run': '2',
          alertNotices: { 'abc-1714557600000': at(1) },
          checksQueued: { 'pool-health/lb1': '1:4' },
        });
        await store.deleteMeta(id, 'checklist-name', alertNoticeField('abc-1714557600000'));
        expect(await store.meta(id)).toEqual({
          'checklist-run': '2',
          alertNotices: {},
          checksQueued: { 'pool-health/lb1': '1:4' },
        });
      });
    });

    describe('alert states and webhook deliveries', () => {
      it('alert states are kept per incident: a second incident of the same group starts empty', async () => {
        const a = await declareOne({ alertGroupId: 'grp-d' }, { alertGroupId: 'grp-d' });
        await store.saveAlertStates(a, 'grp-d', { fp1: firing(0) }, 3600);
        await store.saveAlertStates(
          a,
          'grp-d',
          { fp2: { status: 'resolved', startsAt: at(0), endsAt: at(9) } },
          3600,
        );
        expect(await store.alertStates(a, 'grp-d')).toEqual({
          fp1: firing(0),
          fp2: { status: 'resolved', startsAt: at(0), endsAt: at(9) },
        });
        await store.saveAlertStates(a, 'grp-d', { fp3: firing(5) }, 3600, { replace: true });
        const states: AlertStates = await store.alertStates(a, 'grp-d');
        expect(states).toEqual({ fp3: firing(5) });
        states.fp3!.status = 'resolved';
        expect(await store.alertStates(a, 'grp-d')).toEqual({ fp3: firing(5) });
        expect(await store.alertStates(a, 'grp-other')).toEqual({});

        await store.close(a, closed(a));
        await store.leaveOpenIndex(a, 'grp-d', new Date(AT + 600_000));
        const b = await declareOne({ alertGroupId: 'grp-d', at: at(700) }, { alertGroupId: 'grp-d' });
        expect(await store.alertStates(b, 'grp-d')).toEqual({});
        expect(await store.alertStates(a, 'grp-d')).toEqual({ fp3: firing(5) });
      });

      it('a webhook delivery is stored once, read back as a copy, and forgotten', async () => {
        await store.saveDelivery('grp-1-abc', { n: 1, alerts: ['x'] }, 60);
        await store.saveDelivery('grp-1-abc', { n: 2 }, 60);
        const got = (await store.delivery('grp-1-abc')) as { n: number; alerts: string[] };
        expect(got).toEqual({ n: 1, alerts: ['x'] });
        got.alerts.push('y');
        expect(await store.delivery('grp-1-abc')).toEqual({ n: 1, alerts: ['x'] });
        await store.forgetDelivery('grp-1-abc');
        expect(await store.delivery('grp-1-abc')).toBeUndefined();
        await store.saveDelivery('grp-1-abc', { n: 3 }, 60);
        expect(await store.delivery('grp-1-abc')).toEqual({ n: 3 });
      });

      it('a stored delivery expires after its TTL', async () => {
        await store.saveDelivery('grp-2-def', { n: 1 }, 1);
        expect(await store.delivery('grp-2-def')).toEqual({ n: 1 });
        await afterTtl(1000, async () => {
          expect(await store.delivery('grp-2-def')).toBeUndefined();
        });
      });
    });

    describe('channel bookkeeping', () => {
      it('the delivery cursor, posting marks, postmortem upload and LB config state read back what was written', async () => {
        const id = await declareOne();
        expect(await store.deliveredCursor(id)).toBe(0);
        await store.setDeliveredCursor(id, 5);
        expect(await store.deliveredCursor(id)).toBe(5);

        expect(await store.isPosting(id, 'summary')).toBe(false);
        await store.markPosting(id, 'summary', at(1));
        expect(await store.isPosting(id, 'summary')).toBe(true);
        expect(await store.isPosting(id, 'other')).toBe(false);
        await store.clearPosting(id, 'summary');
        expect(await store.isPosting(id, 'summary')).toBe(false);

        expect(await store.postmortemUpload(id)).toBeUndefined();
        const upload = { filename: `${id}.md`, title: 'Postmortem', content: '# x', comment: 'draft' };
        await store.savePostmortemUpload(id, upload, 3600);
        expect(await store.postmortemUpload(id)).toEqual(upload);

        expect(await store.lbConfigState()).toEqual({});
        await store.saveLbConfigState({ lb1: 'h1', 'lines:lb1': '["a"]' });
        await store.saveLbConfigState({ lb1: 'h2' });
        expect(await store.lbConfigState()).toEqual({ lb1: 'h2', 'lines:lb1': '["a"]' });
        await expect(store.ping()).resolves.toBeUndefined();
      });
    });

    describe('postmortem drafts (issue 14)', () => {
      it('keeps the latest draft with its view and names, durably, and refuses another incident’s view', async () => {
        const id = await declareOne();
        expect(await store.postmortemDraft(id)).toBeUndefined();
        const draft = (markdown: string) => ({
          fileName: `${id}-checkout-latency.md`,
          markdown,
          view: { incidentId: id, title: 'Checkout latency', severity: 'SEV2' } as never,
          people: { U1: 'alice' },
          renderedAt: at(5),
          sha256: 'a'.repeat(64),
        });
        await store.savePostmortemDraft(id, draft('# v1'));
        await store.savePostmortemDraft(id, draft('# v2'));
        expect(await store.postmortemDraft(id)).toEqual(draft('# v2'));
        const other = await declareOne();
        await store.savePostmortemDraft(other, draft('# wrong'));
        await expect(store.postmortemDraft(other)).rejects.toThrow(/malformed/);
      });

      it('keeps one outgoing webhook cursor per receiver that only moves forward, and one lock per receiver', async () => {
        const id = await declareOne();
        expect(await store.webhookCursor(id, 'aaaaaaaaaaaa')).toBe(0);
        expect(await store.advanceWebhookCursor(id, 'aaaaaaaaaaaa', 3)).toBe(true);
        expect(await store.advanceWebhookCursor(id, 'aaaaaaaaaaaa', 2)).toBe(false);
        expect(await store.advanceWebhookCursor(id, 'aaaaaaaaaaaa', 3)).toBe(false);
        expect(await store.webhookCursor(id, 'aaaaaaaaaaaa')).toBe(3);
        expect(await store.webhookCursor(id, 'bbbbbbbbbbbb')).toBe(0);
        const a = await store.acquireLock(
          { kind: 'webhook', incidentId: id, receiver: 'aaaaaaaaaaaa' },
          5000,
        );
        const b = await store.acquireLock(
          { kind: 'webhook', incidentId: id, receiver: 'bbbbbbbbbbbb' },
          5000,
        );
        expect(a).toBeDefined();
        expect(b).toBeDefined();
        expect(
          await store.acquireLock({ kind: 'webhook', incidentId: id, receiver: 'aaaaaaaaaaaa' }, 5000),
        ).toBeUndefined();
      });
    });

    describe('correlation, merges, closed index, retention and App Home (issue 13)', () => {
      const corr = { key: 'service=checkout', ttlMs: 60_000 };

      it('ten groups declaring with one correlation key at once make one incident; the others join it', async () => {
        const results = await Promise.all(
          Array.from({ length: 10 }, (_, i) =>
            store.declare(declared(), { alertGroupId: `g-${i}`, correlation: corr }),
          ),
        );
        expect(results.filter((r) => r.created)).toHaveLength(1);
        expect(results.filter((r) => r.joined)).toHaveLength(9);
        expect(new Set(results.map((r) => r.id))).toEqual(new Set(['INC-1']));
        for (let i = 0; i < 10; i++) expect(await store.boundIncident(`g-${i}`)).toBe('INC-1');
        expect(await store.allIncidents()).toEqual(['INC-1']);
      });

      it('a correlation key expires after its window, is extended by its holder, and is refused to another open incident', async () => {
        const a = await declareOne({}, { alertGroupId: 'g-a', correlation: corr });
        const b = await declareOne({}, { alertGroupId: 'g-b' });
        expect(await store.claimCorrelation(corr.key, b, 60_000)).toBe(false);
        expect(await store.claimCorrelation(corr.key, a, 1_000)).toBe(true);
        await afterTtl(1_000, async () => {
          expect(await store.claimCorrelation(corr.key, b, 60_000)).toBe(true);
        });
        const joined = await store.declare(declared(), { alertGroupId: 'g-c', correlation: corr });
        expect(joined).toMatchObject({ id: b, created: false, joined: true });
        await store.releaseCorrelation(corr.key, a);
        expect(await store.claimCorrelation(corr.key, a, 60_000)).toBe(false);
        await store.releaseCorrelation(corr.key, b);
        expect(await store.claimCorrelation(corr.key, a, 60_000)).toBe(true);
      });

      it('a correlation key held by an incident that left the open index is not joined', async () => {
        const a = await declareOne({}, { alertGroupId: 'g-a', correlation: corr });
        await store.append(a, [closed(a)]);
        await store.leaveOpenIndex(a, 'g-a', new Date(AT + 600_000));
        const next = await store.declare(declared(), { alertGroupId: 'g-b', correlation: corr });
        expect(next).toMatchObject({ created: true });
        expect(next.id).not.toBe(a);
      });

      it('moves an alert group only from the named incident or from none', async () => {
        const a = await declareOne({}, { alertGroupId: 'g-a' });
        const b = await declareOne({}, { alertGroupId: 'g-b' });
        const c = await declareOne({}, { alertGroupId: 'g-c' });
        expect(await store.moveAlertGroup('g-a', a, b)).toBe(true);
        expect(await store.boundIncident('g-a')).toBe(b);
        expect(await store.lastIncident('g-a')).toBe(b);
        expect(await store.moveAlertGroup('g-c', a, b)).toBe(false);
        expect(await store.boundIncident('g-c')).toBe(c);
        expect(await store.moveAlertGroup('g-free', a, b)).toBe(true);
      });

      it('a close without a postmortem owes only the close follow-up', async () => {
        const a = await declareOne();
        expect((await store.close(a, closed(a), { postmortem: false })).ok).toBe(true);
        const meta = await store.meta(a);
        expect(meta['close-owed']).toBeDefined();
        expect(meta['postmortem-owed']).toBeUndefined();
      });

      it('lists closed incidents by close time, the last n, and forgets an incident everywhere', async () => {
        const ids: IncidentId[] = [];
        for (let i = 0; i < 3; i++) ids.push(await declareOne({}, { alertGroupId: `g-${i}` }));
        await store.indexChannel('C1', ids[0]!);
        // Closed in the order 2, 0, 1.
        for (const [i, s] of [
          [2, 100],
          [0, 200],
          [1, 300],
        ] as const) {
          await store.append(ids[i]!, [closed(ids[i]!, s)]);
          await store.leaveOpenIndex(ids[i]!, `g-${i}`, new Date(AT + s * 1000));
        }
        expect(await store.closedIncidents()).toEqual([ids[2], ids[0], ids[1]]);
        expect(await store.closedIncidents({ last: 2 })).toEqual([ids[0], ids[1]]);
        expect(await store.closedIncidents({ fromMs: AT + 150_000, toMs: AT + 300_000 })).toEqual([
          ids[0],
          ids[1],
        ]);
        await store.forgetIncident(ids[0]!, { channelId: 'C1', alertGroupIds: ['g-0'] });
        expect(await store.timelineLength(ids[0]!)).toBe(0);
        expect(await store.current(ids[0]!)).toBeUndefined();
        expect(await store.closedIncidents()).toEqual([ids[2], ids[1]]);
        expect(await store.allIncidents()).toEqual([ids[1], ids[2]]);
        expect(await store.incidentByChannel('C1')).toBeUndefined();
        await store.forgetIncident(ids[0]!, { channelId: 'C1', alertGroupIds: [] });
      });

      it('keeps App Home viewers by time and the digest last published to each', async () => {
        await store.addHomeViewer('U1', AT);
        await store.addHomeViewer('U2', AT + 1000);
        expect(await store.homeViewers(AT)).toEqual(['U1', 'U2']);
        expect(await store.homeViewers(AT + 500)).toEqual(['U2']);
        expect(await store.homeDigest('U1')).toBeUndefined();
        await store.setHomeDigest('U1', 'abc', 3600);
        expect(await store.homeDigest('U1')).toBe('abc');
        const t = await store.acquireLock({ kind: 'home', userId: 'U1' }, 5_000);
        expect(t).toBeDefined();
        expect(await store.acquireLock({ kind: 'home', userId: 'U1' }, 5_000)).toBeUndefined();
        expect(await store.acquireLock({ kind: 'home', userId: 'U2' }, 5_000)).toBeDefined();
      });
    });
  });
}
