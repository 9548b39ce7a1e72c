import { randomUUID } from 'node:crypto';
import type { Checkpoint } from '../../src/core/checkpoints.js';
import { AlertState, type AlertStates } from '../../src/core/correlation.js';
import { applyEntry, foldTimeline, type Incident } from '../../src/core/incident.js';
import {
  checkIncidentMetaValue,
  type IncidentMeta,
  type IncidentMetaField,
  parseIncidentMeta,
} from '../../src/core/incident-meta.js';
import { type IncidentId, incidentId } from '../../src/core/incident-model.js';
import { type NewEntry, TimelineEntry } from '../../src/core/timeline.js';
import type {
  AppendResult,
  CorrelationClaim,
  DeclaredEntry,
  LockName,
  PostmortemUploadData,
  StoredPostmortemDraft,
  StorePort,
} from '../../src/flows/deps.js';
import { parseStoredDraft } from '../../src/redis/stored-draft.js';

/** How long idempotency claims live (s), as in src/redis/store.ts. */
const CLAIM_TTL_S = 7 * 24 * 3600;

/** A store operation that `failNext` can make reject. */
export type StoreOp = keyof StorePort;

/** Values with an optional expiry time (ms on the store's clock), read lazily like Redis keys with a TTL. */
class Expiring<V> {
  private readonly m = new Map<string, { v: V; until: number }>();

  constructor(private readonly now: () => number) {}

  get(k: string): V | undefined {
    const e = this.m.get(k);
    if (!e) return undefined;
    if (e.until <= this.now()) {
      this.m.delete(k);
      return undefined;
    }
    return e.v;
  }

  /** SET (EX/PX when `ttlMs` is given, else no TTL). */
  set(k: string, v: V, ttlMs?: number): void {
    this.m.set(k, { v, until: ttlMs === undefined ? Number.POSITIVE_INFINITY : this.now() + ttlMs });
  }

  /** SET NX; true when it set. */
  setIfAbsent(k: string, v: V, ttlMs?: number): boolean {
    if (this.get(k) !== undefined) return false;
    this.set(k, v, ttlMs);
    return true;
  }

  /** EXPIRE/PEXPIRE on an existing key; true when the key exists. */
  expire(k: string, ttlMs: number): boolean {
    const v = this.get(k);
    if (v === undefined) return false;
    this.set(k, v, ttlMs);
    return true;
  }

  delete(k: string): boolean {
    const had = this.get(k) !== undefined;
    this.m.delete(k);
    return had;
  }
}

/** A sorted set's members in ZRANGE order: by score, then by member (Redis compares the bytes). */
function zrange(set: Map<IncidentId, number>): IncidentId[] {
  return [...set.entries()]
    .sort(([a, sa], [b, sb]) => sa - sb || (a < b ? -1 : a > b ? 1 : 0))
    .map(([id]) => id);
}

/** Everything the store holds; shared by the views `withCheckpoint` makes. */
class MemoryData {
  seq = 0;
  readonly declareClaims: Expiring<IncidentId>;
  readonly open = new Map<IncidentId, number>();
  readonly closing = new Map<IncidentId, number>();
  readonly all = new Map<IncidentId, number>();
  readonly channels = new Map<string, IncidentId>();
  /** Incident id → JSON of its declared entry, while its timeline is not written. */
  readonly declaring = new Map<IncidentId, string>();
  readonly groups = new Map<string, IncidentId>();
  readonly groupsLast = new Map<string, IncidentId>();
  /** JSON entries without seq and incidentId, as src/redis/store.ts keeps them. */
  readonly timelines = new Map<IncidentId, string[]>();
  readonly snapshots = new Map<IncidentId, { count: number; state: string }>();
  readonly delivered = new Map<IncidentId, number>();
  readonly posting = new Map<IncidentId, Map<string, string>>();
  readonly meta = new Map<IncidentId, Map<string, string>>();
  readonly postmortems: Expiring<string>;
  /** One namespace per incident (`<id>\0<key>`) shared by append claims and `claim(key, ttl, id)`, as on Redis; global ones as `\0<key>`. */
  readonly claims: Expiring<true>;
  readonly alertStates: Expiring<Map<string, string>>;
  readonly locks: Expiring<string>;
  readonly deliveries: Expiring<string>;
  readonly lbConfig = new Map<string, string>();
  readonly postmortemDrafts = new Map<IncidentId, string>();
  readonly webhookCursors = new Map<string, number>();
  readonly closed = new Map<IncidentId, number>();
  readonly correlations: Expiring<IncidentId>;
  readonly homeViewers = new Map<string, number>();
  readonly homeDigests: Expiring<string>;
  readonly failures = new Map<StoreOp, Error[]>();

  constructor(readonly now: () => number) {
    this.declareClaims = new Expiring(now);
    this.postmortems = new Expiring(now);
    this.claims = new Expiring(now);
    this.alertStates = new Expiring(now);
    this.locks = new Expiring(now);
    this.deliveries = new Expiring(now);
    this.correlations = new Expiring(now);
    this.homeDigests = new Expiring(now);
  }
}

function serialize(entry: NewEntry | DeclaredEntry): string {
  const { incidentId: _id, ...rest } = entry as NewEntry;
  return JSON.stringify(rest);
}

function declaredOf(json: string): DeclaredEntry {
  const parsed = TimelineEntry.parse({ ...JSON.parse(json), seq: 1, incidentId: 'INC-1' });
  if (parsed.kind !== 'declared') throw new Error('pending declaration is not a declared entry');
  const { seq: _s, incidentId: _i, ...entry } = parsed;
  return entry;
}

const lockKey = (lock: LockName): string =>
  lock.kind === 'alert-group'
    ? `alert-group\0${lock.groupId}`
    : lock.kind === 'webhook'
      ? `${lock.incidentId}\0webhook-${lock.receiver}`
      : lock.kind === 'home'
        ? `home\0${lock.userId}`
        : `${lock.incidentId}\0${lock.kind}`;

export interface MemoryStoreOptions {
  /** The store's clock (ms since the epoch) for TTLs; Date.now by default. */
  now?: () => number;
  /** Called between the steps of declare, like RedisStore's; a throw there is a crash at that step. */
  checkpoint?: (step: Checkpoint) => void;
}

/**
 * The store port in memory, with RedisStore's semantics (src/redis/store.ts and its scripts):
 * values are kept serialized so callers never share objects with the store, reads validate like
 * the Redis reads do, TTLs run on an injectable clock, and declare takes the same two steps (a
 * `checkpoint` that throws leaves a reserved, unwritten declaration, as a crash would). Each other
 * operation is atomic: it runs in one go after one await. `failNext(op)` makes the next call of
 * an operation reject without doing anything (a Redis error).
 */
export class MemoryStore implements StorePort {
  private readonly d: MemoryData;
  private readonly checkpoint: (step: Checkpoint) => void;

  constructor(opts: MemoryStoreOptions = {}, shared?: MemoryData) {
    this.d = shared ?? new MemoryData(opts.now ?? Date.now);
    this.checkpoint = opts.checkpoint ?? (() => {});
  }

  /** A store over the same data and clock whose declare calls `checkpoint` between its steps. */
  withCheckpoint(checkpoint: (step: Checkpoint) => void): MemoryStore {
    return new MemoryStore({ checkpoint }, this.d);
  }

  /** Makes the next call of `op` (on this store or any view of its data) reject with `err`, changing nothing. */
  failNext(op: StoreOp, err: Error = new Error(`injected failure of ${op}`)): void {
    const list = this.d.failures.get(op) ?? [];
    list.push(err);
    this.d.failures.set(op, list);
  }

  /** One round trip: yields (so concurrent callers interleave between operations), then fails if told to. */
  private async enter(op: StoreOp): Promise<void> {
    await null;
    const err = this.d.failures.get(op)?.shift();
    if (err) throw err;
  }

  private get now(): number {
    return this.d.now();
  }

  // ── Incidents and timelines ────────────────────────────────────────────────────────────

  async declare(
    entry: DeclaredEntry,
    opts: { claimKey?: string; alertGroupId?: string; correlation?: CorrelationClaim } = {},
  ): Promise<{ id: IncidentId; created: boolean; joined?: boolean }> {
    await this.enter('declare');
    const d = this.d;
    const json = serialize(entry);
    // Step 1 (DECLARE on {dir}): reserve the number, or find the claim's / group's incident.
    let id: IncidentId | undefined;
    let pending: string | undefined;
    let created = false;
    if (opts.claimKey) id = d.declareClaims.get(opts.claimKey);
    if (!id && opts.alertGroupId) id = d.groups.get(opts.alertGroupId);
    const corr = opts.correlation;
    const target = !id && corr ? d.correlations.get(corr.key) : undefined;
    if (!id && corr && target && d.open.has(target)) {
      // Joins the open incident holding the correlation key (DECLARE's third outcome).
      if (opts.alertGroupId) {
        d.groups.set(opts.alertGroupId, target);
        d.groupsLast.set(opts.alertGroupId, target);
      }
      d.correlations.set(corr.key, target, Math.max(1, Math.round(corr.ttlMs)));
      const p = d.declaring.get(target);
      this.checkpoint('declare:reserved');
      if (p) await this.writeDeclared(target, p);
      return { id: target, created: false, joined: true };
    }
    if (id) {
      pending = d.declaring.get(id);
    } else {
      const n = ++d.seq;
      id = incidentId(n);
      created = true;
      pending = json;
      d.open.set(id, Date.parse(entry.at));
      d.all.set(id, n);
      d.declaring.set(id, json);
      if (opts.claimKey) d.declareClaims.set(opts.claimKey, id, CLAIM_TTL_S * 1000);
      if (opts.alertGroupId) {
        d.groups.set(opts.alertGroupId, id);
        d.groupsLast.set(opts.alertGroupId, id);
      }
      if (corr) d.correlations.set(corr.key, id, Math.max(1, Math.round(corr.ttlMs)));
    }
    this.checkpoint('declare:reserved');
    if (pending) await this.writeDeclared(id, pending);
    return { id, created };
  }

  /** Steps 2 and 3: the timeline gets the declared entry (if still empty), then the pending note goes. */
  private async writeDeclared(id: IncidentId, json: string): Promise<void> {
    await null;
    const list = this.d.timelines.get(id);
    if (!list || list.length === 0) this.d.timelines.set(id, [json]);
    this.checkpoint('declare:written');
    await null;
    this.d.declaring.delete(id);
  }

  async pendingDeclarations(): Promise<{ id: IncidentId; entry: DeclaredEntry }[]> {
    await this.enter('pendingDeclarations');
    return [...this.d.declaring.entries()].map(([id, json]) => ({ id, entry: declaredOf(json) }));
  }

  async completeDeclaration(id: IncidentId, entry: DeclaredEntry): Promise<void> {
    await this.enter('completeDeclaration');
    await this.writeDeclared(id, serialize(entry));
  }

  async append(
    id: IncidentId,
    entries: NewEntry[],
    opts: { expectedLength?: number; claimKey?: string } = {},
  ): Promise<AppendResult> {
    await this.enter('append');
    return this.appendWithMeta(id, entries, {}, opts);
  }

  async close(
    id: IncidentId,
    entry: Extract<NewEntry, { kind: 'closed' }>,
    opts: { expectedLength?: number; claimKey?: string; postmortem?: boolean } = {},
  ): Promise<AppendResult> {
    await this.enter('close');
    const owed: Partial<Record<IncidentMetaField, string>> =
      opts.postmortem === false
        ? { 'close-owed': entry.at }
        : { 'close-owed': entry.at, 'postmortem-owed': entry.at };
    return this.appendWithMeta(id, [entry], owed, opts);
  }

  /** The APPEND script: not-found, then conflict, then duplicate claim; meta and entries in one step. */
  private appendWithMeta(
    id: IncidentId,
    entries: NewEntry[],
    meta: Partial<Record<IncidentMetaField, string>>,
    opts: { expectedLength?: number; claimKey?: string },
  ): AppendResult {
    if (entries.length === 0) return { ok: true, seqs: [] };
    const list = this.d.timelines.get(id);
    const len = list?.length ?? 0;
    if (!list || len === 0) return { ok: false, reason: 'not-found' };
    if ((opts.expectedLength ?? -1) >= 0 && len !== opts.expectedLength)
      return { ok: false, reason: 'conflict' };
    if (opts.claimKey && !this.d.claims.setIfAbsent(`${id}\0${opts.claimKey}`, true, CLAIM_TTL_S * 1000)) {
      return { ok: false, reason: 'duplicate' };
    }
    const hash = this.metaHash(id);
    for (const [f, v] of Object.entries(meta)) hash.set(f, v as string);
    list.push(...entries.map(serialize));
    return { ok: true, seqs: entries.map((_, i) => len + i + 1) };
  }

  private readEntries(id: IncidentId, from = 1): TimelineEntry[] {
    const raw = (this.d.timelines.get(id) ?? []).slice(from - 1);
    return raw.map((json, i) => TimelineEntry.parse({ ...JSON.parse(json), seq: from + i, incidentId: id }));
  }

  async entries(id: IncidentId, from = 1): Promise<TimelineEntry[]> {
    await this.enter('entries');
    return this.readEntries(id, from);
  }

  async timelineLength(id: IncidentId): Promise<number> {
    await this.enter('timelineLength');
    return this.d.timelines.get(id)?.length ?? 0;
  }

  async load(id: IncidentId): Promise<{ incident: Incident; entries: TimelineEntry[] } | undefined> {
    await this.enter('load');
    return this.loadNow(id);
  }

  private loadNow(id: IncidentId): { incident: Incident; entries: TimelineEntry[] } | undefined {
    const entries = this.readEntries(id);
    if (entries.length === 0) return undefined;
    return { incident: foldTimeline(entries), entries };
  }

  async current(id: IncidentId): Promise<Incident | undefined> {
    await this.enter('current');
    const snap = this.d.snapshots.get(id);
    if (snap) {
      const inc = JSON.parse(snap.state) as Incident;
      const rest = this.readEntries(id, snap.count + 1);
      for (const e of rest) applyEntry(inc, e);
      if (rest.length > 32) this.writeSnapshot(id, inc);
      return inc;
    }
    const loaded = this.loadNow(id);
    if (loaded) this.writeSnapshot(id, loaded.incident);
    return loaded?.incident;
  }

  async saveSnapshot(id: IncidentId, inc: Incident): Promise<void> {
    await this.enter('saveSnapshot');
    this.writeSnapshot(id, inc);
  }

  /** The SNAPSHOT script: only a fold of more entries replaces the cached one. */
  private writeSnapshot(id: IncidentId, inc: Incident): void {
    const cur = this.d.snapshots.get(id);
    if (!cur || cur.count < inc.entryCount) {
      this.d.snapshots.set(id, { count: inc.entryCount, state: JSON.stringify(inc) });
    }
  }

  async exists(n: number): Promise<boolean> {
    await this.enter('exists');
    return (this.d.timelines.get(incidentId(n))?.length ?? 0) > 0;
  }

  // ── Directory ───────────────────────────────────────────────────────────────────────────

  async incidentByChannel(channelId: string): Promise<IncidentId | undefined> {
    await this.enter('incidentByChannel');
    return this.d.channels.get(channelId);
  }

  async indexChannel(channelId: string, id: IncidentId): Promise<void> {
    await this.enter('indexChannel');
    this.d.channels.set(channelId, id);
  }

  async allIncidents(): Promise<IncidentId[]> {
    await this.enter('allIncidents');
    return zrange(this.d.all);
  }

  async openIncidents(): Promise<IncidentId[]> {
    await this.enter('openIncidents');
    return zrange(this.d.open);
  }

  async openCount(): Promise<number> {
    await this.enter('openCount');
    return this.d.open.size;
  }

  async closingIncidents(): Promise<IncidentId[]> {
    await this.enter('closingIncidents');
    return zrange(this.d.closing);
  }

  async leaveOpenIndex(id: IncidentId, alertGroupId: string | undefined, at: Date): Promise<void> {
    await this.enter('leaveOpenIndex');
    if (this.d.open.delete(id)) this.d.closing.set(id, at.getTime());
    if (alertGroupId && this.d.groups.get(alertGroupId) === id) this.d.groups.delete(alertGroupId);
    if (!this.d.closed.has(id)) this.d.closed.set(id, at.getTime());
  }

  async leaveClosingIndex(id: IncidentId): Promise<void> {
    await this.enter('leaveClosingIndex');
    this.d.closing.delete(id);
  }

  async closedIncidents(
    range: { fromMs?: number; toMs?: number; last?: number } = {},
  ): Promise<IncidentId[]> {
    await this.enter('closedIncidents');
    const from = range.fromMs ?? Number.NEGATIVE_INFINITY;
    const to = range.toMs ?? Number.POSITIVE_INFINITY;
    const ids = zrange(this.d.closed).filter((id) => {
      const at = this.d.closed.get(id)!;
      return at >= from && at <= to;
    });
    return range.last === undefined ? ids : ids.slice(Math.max(0, ids.length - range.last));
  }

  async forgetIncident(id: IncidentId, opts: { channelId?: string; alertGroupIds: string[] }): Promise<void> {
    await this.enter('forgetIncident');
    const d = this.d;
    d.timelines.delete(id);
    d.snapshots.delete(id);
    d.delivered.delete(id);
    d.posting.delete(id);
    d.meta.delete(id);
    d.postmortems.delete(id);
    for (const g of opts.alertGroupIds) d.alertStates.delete(`${id}\0${g}`);
    await null;
    for (const set of [d.open, d.closing, d.all, d.closed]) set.delete(id);
    if (opts.channelId && d.channels.get(opts.channelId) === id) d.channels.delete(opts.channelId);
  }

  // ── Alert groups and webhook deliveries ────────────────────────────────────────────────

  async boundIncident(groupId: string): Promise<IncidentId | undefined> {
    await this.enter('boundIncident');
    return this.d.groups.get(groupId);
  }

  async lastIncident(groupId: string): Promise<IncidentId | undefined> {
    await this.enter('lastIncident');
    return this.d.groupsLast.get(groupId);
  }

  async releaseAlertGroup(groupId: string, id: IncidentId): Promise<boolean> {
    await this.enter('releaseAlertGroup');
    if (this.d.groups.get(groupId) !== id) return false;
    this.d.groups.delete(groupId);
    return true;
  }

  async moveAlertGroup(groupId: string, from: IncidentId, to: IncidentId): Promise<boolean> {
    await this.enter('moveAlertGroup');
    const cur = this.d.groups.get(groupId);
    if (cur && cur !== from && cur !== to) return false;
    this.d.groups.set(groupId, to);
    this.d.groupsLast.set(groupId, to);
    return true;
  }

  async claimCorrelation(key: string, id: IncidentId, ttlMs: number): Promise<boolean> {
    await this.enter('claimCorrelation');
    const cur = this.d.correlations.get(key);
    if (cur && cur !== id && this.d.open.has(cur)) return false;
    this.d.correlations.set(key, id, Math.max(1, Math.round(ttlMs)));
    return true;
  }

  async releaseCorrelation(key: string, id: IncidentId): Promise<void> {
    await this.enter('releaseCorrelation');
    if (this.d.correlations.get(key) === id) this.d.correlations.delete(key);
  }

  async alertStates(id: IncidentId, groupId: string): Promise<AlertStates> {
    await this.enter('alertStates');
    const out: AlertStates = {};
    const raw = this.d.alertStates.get(`${id}\0${groupId}`);
    for (const [fp, json] of raw ?? []) out[fp] = AlertState.parse(JSON.parse(json));
    return out;
  }

  async saveAlertStates(
    id: IncidentId,
    groupId: string,
    states: AlertStates,
    ttlS: number,
    opts: { replace?: boolean } = {},
  ): Promise<void> {
    await this.enter('saveAlertStates');
    const key = `${id}\0${groupId}`;
    if (opts.replace) this.d.alertStates.delete(key);
    const fields = Object.entries(states);
    if (fields.length > 0) {
      const hash = this.d.alertStates.get(key) ?? new Map<string, string>();
      for (const [fp, s] of fields) hash.set(fp, JSON.stringify(s));
      this.d.alertStates.set(key, hash);
    }
    this.d.alertStates.expire(key, ttlS * 1000);
  }

  async saveDelivery(deliveryId: string, delivery: unknown, ttlS: number): Promise<void> {
    await this.enter('saveDelivery');
    this.d.deliveries.setIfAbsent(deliveryId, JSON.stringify(delivery), ttlS * 1000);
  }

  async delivery(deliveryId: string): Promise<unknown> {
    await this.enter('delivery');
    const raw = this.d.deliveries.get(deliveryId);
    return raw === undefined ? undefined : JSON.parse(raw);
  }

  async forgetDelivery(deliveryId: string): Promise<void> {
    await this.enter('forgetDelivery');
    this.d.deliveries.delete(deliveryId);
  }

  // ── Claims and locks ────────────────────────────────────────────────────────────────────

  async claim(key: string, ttlS: number, id?: IncidentId): Promise<boolean> {
    await this.enter('claim');
    return this.d.claims.setIfAbsent(id ? `${id}\0${key}` : `\0${key}`, true, ttlS * 1000);
  }

  async acquireLock(lock: LockName, ttlMs: number): Promise<string | undefined> {
    await this.enter('acquireLock');
    const token = randomUUID();
    return this.d.locks.setIfAbsent(lockKey(lock), token, ttlMs) ? token : undefined;
  }

  async renewLock(lock: LockName, token: string, ttlMs: number): Promise<boolean> {
    await this.enter('renewLock');
    const k = lockKey(lock);
    return this.d.locks.get(k) === token && this.d.locks.expire(k, ttlMs);
  }

  async releaseLock(lock: LockName, token: string): Promise<void> {
    await this.enter('releaseLock');
    const k = lockKey(lock);
    if (this.d.locks.get(k) === token) this.d.locks.delete(k);
  }

  async releaseRenderLockIfUnchanged(id: IncidentId, token: string, version: string): Promise<boolean> {
    await this.enter('releaseRenderLockIfUnchanged');
    const k = lockKey({ kind: 'checklist-render', incidentId: id });
    if (this.d.locks.get(k) !== token) return true;
    if ((this.d.meta.get(id)?.get('checklist-version') ?? '') !== version) return false;
    this.d.locks.delete(k);
    return true;
  }

  // ── Delivery to the channel ─────────────────────────────────────────────────────────────

  async deliveredCursor(id: IncidentId): Promise<number> {
    await this.enter('deliveredCursor');
    return this.d.delivered.get(id) ?? 0;
  }

  async setDeliveredCursor(id: IncidentId, seq: number): Promise<void> {
    await this.enter('setDeliveredCursor');
    this.d.delivered.set(id, seq);
  }

  async isPosting(id: IncidentId, key: string): Promise<boolean> {
    await this.enter('isPosting');
    return this.d.posting.get(id)?.has(key) ?? false;
  }

  async markPosting(id: IncidentId, key: string, at: string): Promise<void> {
    await this.enter('markPosting');
    const h = this.d.posting.get(id) ?? new Map<string, string>();
    h.set(key, at);
    this.d.posting.set(id, h);
  }

  async clearPosting(id: IncidentId, key: string): Promise<void> {
    await this.enter('clearPosting');
    this.d.posting.get(id)?.delete(key);
  }

  async savePostmortemUpload(id: IncidentId, upload: PostmortemUploadData, ttlS: number): Promise<void> {
    await this.enter('savePostmortemUpload');
    this.d.postmortems.set(id, JSON.stringify(upload), ttlS * 1000);
  }

  async postmortemUpload(id: IncidentId): Promise<PostmortemUploadData | undefined> {
    await this.enter('postmortemUpload');
    const raw = this.d.postmortems.get(id);
    return raw ? (JSON.parse(raw) as PostmortemUploadData) : undefined;
  }

  // ── Incident meta ───────────────────────────────────────────────────────────────────────

  private metaHash(id: IncidentId): Map<string, string> {
    let h = this.d.meta.get(id);
    if (!h) {
      h = new Map();
      this.d.meta.set(id, h);
    }
    return h;
  }

  async meta(id: IncidentId): Promise<IncidentMeta> {
    await this.enter('meta');
    return parseIncidentMeta(Object.fromEntries(this.d.meta.get(id) ?? []));
  }

  async setMeta(id: IncidentId, fields: Partial<Record<IncidentMetaField, string>>): Promise<void> {
    await this.enter('setMeta');
    const pairs = Object.entries(fields) as [IncidentMetaField, string][];
    if (pairs.length === 0) return;
    for (const [f, v] of pairs) checkIncidentMetaValue(f, v);
    const h = this.metaHash(id);
    for (const [f, v] of pairs) h.set(f, v);
  }

  async setMetaIfAbsent(id: IncidentId, field: IncidentMetaField, value: string): Promise<boolean> {
    await this.enter('setMetaIfAbsent');
    checkIncidentMetaValue(field, value);
    const h = this.metaHash(id);
    if (h.has(field)) return false;
    h.set(field, value);
    return true;
  }

  async deleteMeta(id: IncidentId, ...fields: IncidentMetaField[]): Promise<void> {
    await this.enter('deleteMeta');
    const h = this.d.meta.get(id);
    for (const f of fields) h?.delete(f);
  }

  async incrementMeta(id: IncidentId, field: 'checklist-run' | 'checklist-version'): Promise<number> {
    await this.enter('incrementMeta');
    const h = this.metaHash(id);
    const cur = h.get(field) ?? '0';
    // HINCRBY refuses a field that is not an integer.
    if (!/^-?\d+$/.test(cur)) throw new Error('ERR hash value is not an integer');
    const next = Number(cur) + 1;
    h.set(field, String(next));
    return next;
  }

  async setNudgeIfGeneration(
    id: IncidentId,
    generation: string,
    jobId: string,
    basis: string,
  ): Promise<string | null> {
    await this.enter('setNudgeIfGeneration');
    const h = this.metaHash(id);
    if ((h.get('nudge-sev') ?? '') !== generation) return null;
    const prev = h.get('nudge-job') ?? '';
    h.set('nudge-job', jobId);
    h.set('nudge-basis', basis);
    return prev;
  }

  // ── Diagnostics ─────────────────────────────────────────────────────────────────────────

  async lbConfigState(): Promise<Record<string, string>> {
    await this.enter('lbConfigState');
    return Object.fromEntries(this.d.lbConfig);
  }

  async saveLbConfigState(fields: Record<string, string>): Promise<void> {
    await this.enter('saveLbConfigState');
    for (const [k, v] of Object.entries(fields)) this.d.lbConfig.set(k, v);
  }

  async addHomeViewer(userId: string, atMs: number): Promise<void> {
    await this.enter('addHomeViewer');
    this.d.homeViewers.set(userId, atMs);
  }

  async homeViewers(sinceMs: number): Promise<string[]> {
    await this.enter('homeViewers');
    return [...this.d.homeViewers.entries()]
      .filter(([, at]) => at >= sinceMs)
      .sort(([a, x], [b, y]) => x - y || (a < b ? -1 : 1))
      .map(([u]) => u);
  }

  async homeDigest(userId: string): Promise<string | undefined> {
    await this.enter('homeDigest');
    return this.d.homeDigests.get(userId);
  }

  async setHomeDigest(userId: string, digest: string, ttlS: number): Promise<void> {
    await this.enter('setHomeDigest');
    this.d.homeDigests.set(userId, digest, ttlS * 1000);
  }

  async ping(): Promise<void> {
    await this.enter('ping');
  }

  async savePostmortemDraft(id: IncidentId, draft: StoredPostmortemDraft): Promise<void> {
    await this.enter('savePostmortemDraft');
    this.d.postmortemDrafts.set(id, JSON.stringify(draft));
  }

  async postmortemDraft(id: IncidentId): Promise<StoredPostmortemDraft | undefined> {
    await this.enter('postmortemDraft');
    const raw = this.d.postmortemDrafts.get(id);
    return raw ? parseStoredDraft(raw, id) : undefined;
  }

  async webhookCursor(id: IncidentId, receiver: string): Promise<number> {
    await this.enter('webhookCursor');
    return this.d.webhookCursors.get(`${id}\0${receiver}`) ?? 0;
  }

  async advanceWebhookCursor(id: IncidentId, receiver: string, seq: number): Promise<boolean> {
    await this.enter('advanceWebhookCursor');
    const key = `${id}\0${receiver}`;
    if (seq <= (this.d.webhookCursors.get(key) ?? 0)) return false;
    this.d.webhookCursors.set(key, seq);
    return true;
  }
}
