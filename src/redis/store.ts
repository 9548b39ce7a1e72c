import { createHash } from 'node:crypto';
import type { Cluster, Redis } from 'ioredis';
import type { Checkpoint } from '../core/checkpoints.js';
import { AlertState, type AlertStates } from '../core/correlation.js';
import { applyEntry, foldTimeline, type Incident } from '../core/incident.js';
import {
  checkIncidentMetaValue,
  type IncidentMeta,
  type IncidentMetaField,
  parseIncidentMeta,
} from '../core/incident-meta.js';
import { type IncidentId, incidentId } from '../core/incident-model.js';
import { type NewEntry, TimelineEntry } from '../core/timeline.js';
import type {
  AppendResult,
  CorrelationClaim,
  DeclaredEntry,
  LockName,
  PostmortemUploadData,
  StoredPostmortemDraft,
  StorePort,
} from '../flows/deps.js';
import { type Keys, keys } from './keys.js';
import {
  ADVANCE_CURSOR,
  APPEND,
  CLAIM_CORRELATION,
  CLOSE_INDEXES,
  DECLARE,
  FORGET_INDEXES,
  MOVE_ALERT_GROUP,
  RELEASE_IF_OWNER,
  RELEASE_IF_UNCHANGED,
  RENEW_IF_OWNER,
  runScript,
  SET_NUDGE_IF_GENERATION,
  SNAPSHOT,
  WRITE_DECLARED,
} from './scripts.js';
import { parseStoredDraft } from './stored-draft.js';

/** How long idempotency claims live (s): longer than any Slack, Alertmanager or BullMQ retry window. */
const CLAIM_TTL_S = 7 * 24 * 3600;

function serialize(entry: NewEntry | DeclaredEntry): string {
  const { incidentId: _id, ...rest } = entry as NewEntry;
  return JSON.stringify(rest);
}

/** Correlation keys hold label values of any length and bytes: stored under their digest. */
const correlationHash = (key: string) => createHash('sha256').update(key, 'utf8').digest('hex').slice(0, 32);

const DeclaredJson = (json: string): DeclaredEntry => {
  const parsed = TimelineEntry.parse({ ...JSON.parse(json), seq: 1, incidentId: 'INC-1' });
  if (parsed.kind !== 'declared') throw new Error('pending declaration is not a declared entry');
  const { seq: _s, incidentId: _i, ...entry } = parsed;
  return entry;
};

/** BullMQ's prefix for a REDIS_PREFIX: hash-tagged, so each queue's keys share a Redis Cluster slot. */
export function bullPrefix(prefix: string): string {
  return keys(prefix).bull;
}

/**
 * The store port on Redis (one node, Sentinel or Cluster: `client` is whichever ioredis client the
 * connection factory made). Keys come from keys.ts, scripts from scripts.ts; nothing else in the
 * bot touches Redis for incident state. Cross-slot transitions (declare, close) run one script per
 * slot in an order that a retry or the sweeper can finish (see `declare` and `close`).
 */
export class RedisStore implements StorePort {
  private readonly k: Keys;

  constructor(
    private readonly client: Redis | Cluster,
    prefix: string,
    /** Called between the steps of declare (fault-injection tests; a no-op otherwise). */
    private readonly checkpoint: (step: Checkpoint) => void = () => {},
  ) {
    this.k = keys(prefix);
  }

  /** BullMQ's hash-tagged prefix for this store's keys. */
  get bullPrefix(): string {
    return this.k.bull;
  }

  /**
   * Two steps, one slot each: the directory reserves `INC-<n>` (indexes, claim, group binding, and
   * the declared entry as pending), then the incident's own slot gets its timeline, then the
   * pending note is dropped. A crash after the first step is finished by a retry with the same
   * key, or by the sweeper from the pending entry.
   */
  async declare(
    entry: DeclaredEntry,
    opts: { claimKey?: string; alertGroupId?: string; correlation?: CorrelationClaim } = {},
  ): Promise<{ id: IncidentId; created: boolean; joined?: boolean }> {
    const json = serialize(entry);
    const k = this.k;
    const corr = opts.correlation;
    const [created, id, pending] = (await runScript(
      this.client,
      DECLARE,
      [
        k.incidentSeq,
        k.declareClaim(opts.claimKey ?? ''),
        k.openIncidents,
        k.allIncidents,
        k.alertGroup(opts.alertGroupId ?? ''),
        k.alertGroupLast(opts.alertGroupId ?? ''),
        k.declaring,
        k.correlation(correlationHash(corr?.key ?? '')),
      ],
      [
        opts.claimKey ? '1' : '0',
        opts.alertGroupId ? '1' : '0',
        json,
        String(Date.parse(entry.at)),
        String(CLAIM_TTL_S),
        corr ? '1' : '0',
        String(Math.max(1, Math.round(corr?.ttlMs ?? 1))),
      ],
    )) as [number, IncidentId, string | null];
    this.checkpoint('declare:reserved');
    if (pending) await this.writeDeclared(id, pending);
    return created === 2 ? { id, created: false, joined: true } : { id, created: created === 1 };
  }

  private async writeDeclared(id: IncidentId, json: string): Promise<void> {
    await runScript(this.client, WRITE_DECLARED, [this.k.timeline(id)], [json]);
    this.checkpoint('declare:written');
    await this.client.hdel(this.k.declaring, id);
  }

  async pendingDeclarations(): Promise<{ id: IncidentId; entry: DeclaredEntry }[]> {
    const raw = await this.client.hgetall(this.k.declaring);
    return Object.entries(raw).map(([id, json]) => ({ id: id as IncidentId, entry: DeclaredJson(json) }));
  }

  async completeDeclaration(id: IncidentId, entry: DeclaredEntry): Promise<void> {
    await this.writeDeclared(id, serialize(entry));
  }

  async append(
    id: IncidentId,
    entries: NewEntry[],
    opts: { expectedLength?: number; claimKey?: string } = {},
  ): Promise<AppendResult> {
    return this.appendWithMeta(id, entries, {}, opts);
  }

  async close(
    id: IncidentId,
    entry: Extract<NewEntry, { kind: 'closed' }>,
    opts: { expectedLength?: number; claimKey?: string; postmortem?: boolean } = {},
  ): Promise<AppendResult> {
    const owed: Partial<Record<IncidentMetaField, string>> =
      opts.postmortem === false
        ? { 'close-owed': entry.at }
        : { 'close-owed': entry.at, 'postmortem-owed': entry.at };
    return this.appendWithMeta(id, [entry], owed, opts);
  }

  private async appendWithMeta(
    id: IncidentId,
    entries: NewEntry[],
    meta: Partial<Record<IncidentMetaField, string>>,
    opts: { expectedLength?: number; claimKey?: string },
  ): Promise<AppendResult> {
    if (entries.length === 0) return { ok: true, seqs: [] };
    const pairs = Object.entries(meta).flatMap(([f, v]) => [f, v as string]);
    const res = (await runScript(
      this.client,
      APPEND,
      [this.k.timeline(id), this.k.claim(id, opts.claimKey ?? ''), this.k.meta(id)],
      [
        String(opts.expectedLength ?? -1),
        String(CLAIM_TTL_S),
        opts.claimKey ? '1' : '0',
        String(pairs.length / 2),
        ...pairs,
        ...entries.map(serialize),
      ],
    )) as number;
    if (res === -1) return { ok: false, reason: 'conflict' };
    if (res === -2) return { ok: false, reason: 'duplicate' };
    if (res === -3) return { ok: false, reason: 'not-found' };
    return { ok: true, seqs: entries.map((_, i) => res - entries.length + i + 1) };
  }

  async entries(id: IncidentId, from = 1): Promise<TimelineEntry[]> {
    const raw = await this.client.lrange(this.k.timeline(id), from - 1, -1);
    return raw.map((json, i) => TimelineEntry.parse({ ...JSON.parse(json), seq: from + i, incidentId: id }));
  }

  timelineLength(id: IncidentId): Promise<number> {
    return this.client.llen(this.k.timeline(id));
  }

  async load(id: IncidentId): Promise<{ incident: Incident; entries: TimelineEntry[] } | undefined> {
    const entries = await this.entries(id);
    if (entries.length === 0) return undefined;
    return { incident: foldTimeline(entries), entries };
  }

  async current(id: IncidentId): Promise<Incident | undefined> {
    const [count, state] = await this.client.hmget(this.k.snapshot(id), 'count', 'state');
    if (count && state) {
      const inc = JSON.parse(state) as Incident;
      const rest = await this.entries(id, Number(count) + 1);
      for (const e of rest) applyEntry(inc, e);
      if (rest.length > 32) await this.saveSnapshot(id, inc);
      return inc;
    }
    const loaded = await this.load(id);
    if (loaded) await this.saveSnapshot(id, loaded.incident);
    return loaded?.incident;
  }

  async saveSnapshot(id: IncidentId, inc: Incident): Promise<void> {
    await runScript(
      this.client,
      SNAPSHOT,
      [this.k.snapshot(id)],
      [String(inc.entryCount), JSON.stringify(inc)],
    );
  }

  async exists(n: number): Promise<boolean> {
    return (await this.client.exists(this.k.timeline(incidentId(n)))) === 1;
  }

  async incidentByChannel(channelId: string): Promise<IncidentId | undefined> {
    return ((await this.client.hget(this.k.channelIndex, channelId)) as IncidentId | null) ?? undefined;
  }

  async indexChannel(channelId: string, id: IncidentId): Promise<void> {
    await this.client.hset(this.k.channelIndex, channelId, id);
  }

  // ioredis 6.0.0 types ZRANGE's stop as string | Buffer only (a number is fine on the wire).
  async allIncidents(): Promise<IncidentId[]> {
    return (await this.client.zrange(this.k.allIncidents, 0, '-1')) as IncidentId[];
  }

  async openIncidents(): Promise<IncidentId[]> {
    return (await this.client.zrange(this.k.openIncidents, 0, '-1')) as IncidentId[];
  }

  openCount(): Promise<number> {
    return this.client.zcard(this.k.openIncidents);
  }

  async closingIncidents(): Promise<IncidentId[]> {
    return (await this.client.zrange(this.k.closingIncidents, 0, '-1')) as IncidentId[];
  }

  async leaveOpenIndex(id: IncidentId, alertGroupId: string | undefined, at: Date): Promise<void> {
    await runScript(
      this.client,
      CLOSE_INDEXES,
      [
        this.k.openIncidents,
        this.k.closingIncidents,
        this.k.alertGroup(alertGroupId ?? ''),
        this.k.closedIncidents,
      ],
      [id, String(at.getTime()), alertGroupId ? '1' : '0', String(at.getTime())],
    );
  }

  async leaveClosingIndex(id: IncidentId): Promise<void> {
    await this.client.zrem(this.k.closingIncidents, id);
  }

  async closedIncidents(
    range: { fromMs?: number; toMs?: number; last?: number } = {},
  ): Promise<IncidentId[]> {
    const from = range.fromMs === undefined ? '-inf' : String(range.fromMs);
    const to = range.toMs === undefined ? '+inf' : String(range.toMs);
    if (range.last !== undefined) {
      const ids = await this.client.zrevrangebyscore(
        this.k.closedIncidents,
        to,
        from,
        'LIMIT',
        0,
        range.last,
      );
      return (ids as IncidentId[]).reverse();
    }
    return (await this.client.zrangebyscore(this.k.closedIncidents, from, to)) as IncidentId[];
  }

  async forgetIncident(id: IncidentId, opts: { channelId?: string; alertGroupIds: string[] }): Promise<void> {
    const k = this.k;
    // The incident's own slot first: a crash after it leaves an id in the indexes with no timeline,
    // which readers skip and the next retention pass removes.
    await this.client.del(
      k.timeline(id),
      k.snapshot(id),
      k.delivered(id),
      k.posting(id),
      k.meta(id),
      k.postmortem(id),
      ...opts.alertGroupIds.map((g) => k.alertStates(id, g)),
    );
    await runScript(
      this.client,
      FORGET_INDEXES,
      [k.openIncidents, k.closingIncidents, k.allIncidents, k.closedIncidents, k.channelIndex],
      [id, opts.channelId ?? ''],
    );
  }

  async boundIncident(groupId: string): Promise<IncidentId | undefined> {
    return ((await this.client.get(this.k.alertGroup(groupId))) as IncidentId | null) ?? undefined;
  }

  async lastIncident(groupId: string): Promise<IncidentId | undefined> {
    return ((await this.client.get(this.k.alertGroupLast(groupId))) as IncidentId | null) ?? undefined;
  }

  async releaseAlertGroup(groupId: string, id: IncidentId): Promise<boolean> {
    return (await runScript(this.client, RELEASE_IF_OWNER, [this.k.alertGroup(groupId)], [id])) === 1;
  }

  async moveAlertGroup(groupId: string, from: IncidentId, to: IncidentId): Promise<boolean> {
    const k = this.k;
    return (
      (await runScript(
        this.client,
        MOVE_ALERT_GROUP,
        [k.alertGroup(groupId), k.alertGroupLast(groupId)],
        [from, to],
      )) === 1
    );
  }

  async claimCorrelation(key: string, id: IncidentId, ttlMs: number): Promise<boolean> {
    const res = await runScript(
      this.client,
      CLAIM_CORRELATION,
      [this.k.correlation(correlationHash(key)), this.k.openIncidents],
      [id, String(Math.max(1, Math.round(ttlMs)))],
    );
    return res === 1;
  }

  async releaseCorrelation(key: string, id: IncidentId): Promise<void> {
    await runScript(this.client, RELEASE_IF_OWNER, [this.k.correlation(correlationHash(key))], [id]);
  }

  async alertStates(id: IncidentId, groupId: string): Promise<AlertStates> {
    const raw = await this.client.hgetall(this.k.alertStates(id, groupId));
    const out: AlertStates = {};
    for (const [fp, json] of Object.entries(raw)) out[fp] = AlertState.parse(JSON.parse(json));
    return out;
  }

  async saveAlertStates(
    id: IncidentId,
    groupId: string,
    states: AlertStates,
    ttlS: number,
    opts: { replace?: boolean } = {},
  ): Promise<void> {
    const key = this.k.alertStates(id, groupId);
    const fields = Object.entries(states).flatMap(([fp, s]) => [fp, JSON.stringify(s)]);
    const m = this.client.multi();
    if (opts.replace) m.del(key);
    if (fields.length > 0) m.hset(key, ...fields);
    m.expire(key, ttlS);
    await m.exec();
  }

  async saveDelivery(deliveryId: string, delivery: unknown, ttlS: number): Promise<void> {
    await this.client.set(this.k.delivery(deliveryId), JSON.stringify(delivery), 'EX', ttlS, 'NX');
  }

  async delivery(deliveryId: string): Promise<unknown> {
    const raw = await this.client.get(this.k.delivery(deliveryId));
    return raw === null ? undefined : JSON.parse(raw);
  }

  async forgetDelivery(deliveryId: string): Promise<void> {
    await this.client.del(this.k.delivery(deliveryId));
  }

  async claim(key: string, ttlS: number, id?: IncidentId): Promise<boolean> {
    const k = id ? this.k.claim(id, key) : this.k.globalClaim(key);
    return (await this.client.set(k, '1', 'EX', ttlS, 'NX')) === 'OK';
  }

  private lockKey(lock: LockName): string {
    if (lock.kind === 'webhook') return this.k.lock(lock.incidentId, `webhook-${lock.receiver}`);
    if (lock.kind === 'alert-group') return this.k.alertGroupLock(lock.groupId);
    if (lock.kind === 'home') return this.k.homeLock(lock.userId);
    return this.k.lock(lock.incidentId, lock.kind);
  }

  async acquireLock(lock: LockName, ttlMs: number): Promise<string | undefined> {
    const token = crypto.randomUUID();
    const ok = await this.client.set(this.lockKey(lock), token, 'PX', ttlMs, 'NX');
    return ok === 'OK' ? token : undefined;
  }

  async renewLock(lock: LockName, token: string, ttlMs: number): Promise<boolean> {
    return (await runScript(this.client, RENEW_IF_OWNER, [this.lockKey(lock)], [token, String(ttlMs)])) === 1;
  }

  async releaseLock(lock: LockName, token: string): Promise<void> {
    await runScript(this.client, RELEASE_IF_OWNER, [this.lockKey(lock)], [token]);
  }

  async releaseRenderLockIfUnchanged(id: IncidentId, token: string, version: string): Promise<boolean> {
    const lock = this.lockKey({ kind: 'checklist-render', incidentId: id });
    const res = await runScript(
      this.client,
      RELEASE_IF_UNCHANGED,
      [lock, this.k.meta(id)],
      [token, version, 'checklist-version'],
    );
    return res === 1;
  }

  async deliveredCursor(id: IncidentId): Promise<number> {
    return Number((await this.client.get(this.k.delivered(id))) ?? 0);
  }

  async setDeliveredCursor(id: IncidentId, seq: number): Promise<void> {
    await this.client.set(this.k.delivered(id), String(seq));
  }

  async isPosting(id: IncidentId, key: string): Promise<boolean> {
    return (await this.client.hexists(this.k.posting(id), key)) === 1;
  }

  async markPosting(id: IncidentId, key: string, at: string): Promise<void> {
    await this.client.hset(this.k.posting(id), key, at);
  }

  async clearPosting(id: IncidentId, key: string): Promise<void> {
    await this.client.hdel(this.k.posting(id), key);
  }

  async savePostmortemUpload(id: IncidentId, upload: PostmortemUploadData, ttlS: number): Promise<void> {
    await this.client.set(this.k.postmortem(id), JSON.stringify(upload), 'EX', ttlS);
  }

  async postmortemUpload(id: IncidentId): Promise<PostmortemUploadData | undefined> {
    const raw = await this.client.get(this.k.postmortem(id));
    return raw ? (JSON.parse(raw) as PostmortemUploadData) : undefined;
  }

  async meta(id: IncidentId): Promise<IncidentMeta> {
    return parseIncidentMeta(await this.client.hgetall(this.k.meta(id)));
  }

  async setMeta(id: IncidentId, fields: Partial<Record<IncidentMetaField, string>>): Promise<void> {
    const pairs = Object.entries(fields) as [IncidentMetaField, string][];
    if (pairs.length === 0) return;
    for (const [f, v] of pairs) checkIncidentMetaValue(f, v);
    await this.client.hset(this.k.meta(id), ...pairs.flat());
  }

  async setMetaIfAbsent(id: IncidentId, field: IncidentMetaField, value: string): Promise<boolean> {
    checkIncidentMetaValue(field, value);
    return (await this.client.hsetnx(this.k.meta(id), field, value)) === 1;
  }

  async deleteMeta(id: IncidentId, ...fields: IncidentMetaField[]): Promise<void> {
    if (fields.length > 0) await this.client.hdel(this.k.meta(id), ...fields);
  }

  incrementMeta(id: IncidentId, field: 'checklist-run' | 'checklist-version'): Promise<number> {
    return this.client.hincrby(this.k.meta(id), field, 1);
  }

  async setNudgeIfGeneration(
    id: IncidentId,
    generation: string,
    jobId: string,
    basis: string,
  ): Promise<string | null> {
    checkIncidentMetaValue('nudge-job', jobId);
    checkIncidentMetaValue('nudge-basis', basis);
    return (await runScript(
      this.client,
      SET_NUDGE_IF_GENERATION,
      [this.k.meta(id)],
      [generation, jobId, basis],
    )) as string | null;
  }

  lbConfigState(): Promise<Record<string, string>> {
    return this.client.hgetall(this.k.configHashes);
  }

  async saveLbConfigState(fields: Record<string, string>): Promise<void> {
    const pairs = Object.entries(fields).flat();
    if (pairs.length > 0) await this.client.hset(this.k.configHashes, ...pairs);
  }

  async addHomeViewer(userId: string, atMs: number): Promise<void> {
    await this.client.zadd(this.k.homeViewers, atMs, userId);
  }

  async homeViewers(sinceMs: number): Promise<string[]> {
    return this.client.zrangebyscore(this.k.homeViewers, sinceMs, '+inf');
  }

  async homeDigest(userId: string): Promise<string | undefined> {
    return (await this.client.get(this.k.homePublished(userId))) ?? undefined;
  }

  async setHomeDigest(userId: string, digest: string, ttlS: number): Promise<void> {
    await this.client.set(this.k.homePublished(userId), digest, 'EX', ttlS);
  }

  async ping(): Promise<void> {
    await this.client.ping();
  }

  async savePostmortemDraft(id: IncidentId, draft: StoredPostmortemDraft): Promise<void> {
    await this.client.set(this.k.postmortemDraft(id), JSON.stringify(draft));
  }

  async postmortemDraft(id: IncidentId): Promise<StoredPostmortemDraft | undefined> {
    const raw = await this.client.get(this.k.postmortemDraft(id));
    return raw ? parseStoredDraft(raw, id) : undefined;
  }

  async webhookCursor(id: IncidentId, receiver: string): Promise<number> {
    return Number((await this.client.hget(this.k.webhookCursors(id), receiver)) ?? 0);
  }

  async advanceWebhookCursor(id: IncidentId, receiver: string, seq: number): Promise<boolean> {
    return (
      (await runScript(this.client, ADVANCE_CURSOR, [this.k.webhookCursors(id)], [receiver, String(seq)])) ===
      1
    );
  }
}
