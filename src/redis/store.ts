import type { Redis } from 'ioredis';
import { applyEntry, foldTimeline, type Incident } from '../core/incident.js';
import { type IncidentId, incidentId } from '../core/incident-model.js';
import { type NewEntry, TimelineEntry } from '../core/timeline.js';
import type { Keys } from './keys.js';

/** How long idempotency claims live (s): longer than any Slack, Alertmanager or BullMQ retry window. */
const CLAIM_TTL_S = 7 * 24 * 3600;

// Claims the key (when given), takes the next incident number, writes the declared entry and the
// indexes in one step, so two processes racing on one request or alert group make one incident.
// KEYS: seq, claim-or-empty, open, all, group-or-empty, group-last-or-empty; ARGV: prefix, entryJson, scoreMs, ttl
const DECLARE_LUA = `
if KEYS[2] ~= '' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {0, existing} end
end
if KEYS[5] ~= '' then
  local existing = redis.call('GET', KEYS[5])
  if existing then return {0, existing} end
end
local n = redis.call('INCR', KEYS[1])
local id = 'INC-' .. n
redis.call('RPUSH', ARGV[1] .. ':{' .. id .. '}:timeline', ARGV[2])
redis.call('ZADD', KEYS[3], ARGV[3], id)
redis.call('ZADD', KEYS[4], n, id)
if KEYS[2] ~= '' then redis.call('SET', KEYS[2], id, 'EX', ARGV[4]) end
if KEYS[5] ~= '' then redis.call('SET', KEYS[5], id) end
if KEYS[6] ~= '' then redis.call('SET', KEYS[6], id) end
return {1, id}
`;

// Appends entries only if the timeline still has the length the caller folded (optimistic
// concurrency), and only once per claim key. Returns the new length, -1 on conflict, -2 on duplicate.
// KEYS: timeline, claim-or-empty; ARGV: expectedLength (-1 = any), ttl, entries...
const APPEND_LUA = `
local len = redis.call('LLEN', KEYS[1])
if len == 0 then return -3 end
if tonumber(ARGV[1]) >= 0 and len ~= tonumber(ARGV[1]) then return -1 end
if KEYS[2] ~= '' then
  if not redis.call('SET', KEYS[2], len, 'NX', 'EX', ARGV[2]) then return -2 end
end
for i = 3, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return len + #ARGV - 2
`;

// Writes the snapshot only if it folds more entries than the cached one (two writers may race).
const SNAPSHOT_LUA = `
local cur = redis.call('HGET', KEYS[1], 'count')
if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'count', ARGV[1], 'state', ARGV[2])
end
return 0
`;

function serialize(entry: NewEntry): string {
  const { incidentId: _id, ...rest } = entry;
  return JSON.stringify(rest);
}

export type AppendResult =
  | { ok: true; seqs: number[] }
  | { ok: false; reason: 'conflict' | 'duplicate' | 'not-found' };

/** Incident and timeline storage in Redis: append-only timelines, atomic claims, channel and open-incident indexes. */
export class IncidentStore {
  constructor(
    readonly redis: Redis,
    readonly k: Keys,
  ) {}

  /** Creates an incident from its declared entry; with `claimKey` or `alertGroupId`, a second call with the same key returns the first incident (`created: false`). */
  async declare(
    entry: Omit<Extract<NewEntry, { kind: 'declared' }>, 'incidentId'>,
    opts: { claimKey?: string; alertGroupId?: string } = {},
  ): Promise<{ id: IncidentId; created: boolean }> {
    const json = JSON.stringify(entry);
    const res = (await this.redis.eval(
      DECLARE_LUA,
      6,
      this.k.incidentSeq,
      opts.claimKey ? this.k.claim(opts.claimKey) : '',
      this.k.openIncidents,
      this.k.allIncidents,
      opts.alertGroupId ? this.k.alertGroup(opts.alertGroupId) : '',
      opts.alertGroupId ? this.k.alertGroupLast(opts.alertGroupId) : '',
      this.k.prefix,
      json,
      String(Date.parse(entry.at)),
      String(CLAIM_TTL_S),
    )) as [number, string];
    return { id: res[1] as IncidentId, created: res[0] === 1 };
  }

  /** Appends entries atomically; `expectedLength` guards against a concurrent change, `claimKey` makes the append happen once. */
  async append(
    id: IncidentId,
    entries: NewEntry[],
    opts: { expectedLength?: number; claimKey?: string } = {},
  ): Promise<AppendResult> {
    if (entries.length === 0) return { ok: true, seqs: [] };
    const res = (await this.redis.eval(
      APPEND_LUA,
      2,
      this.k.timeline(id),
      opts.claimKey ? this.k.claim(opts.claimKey) : '',
      String(opts.expectedLength ?? -1),
      String(CLAIM_TTL_S),
      ...entries.map(serialize),
    )) as number;
    if (res === -1) return { ok: false, reason: 'conflict' };
    if (res === -2) return { ok: false, reason: 'duplicate' };
    if (res === -3) return { ok: false, reason: 'not-found' };
    return { ok: true, seqs: entries.map((_, i) => res - entries.length + i + 1) };
  }

  /** Reads an incident's timeline (validated; a malformed stored entry is a bug and throws), optionally from seq `from` (1-based). */
  async entries(id: IncidentId, from = 1): Promise<TimelineEntry[]> {
    const raw = await this.redis.lrange(this.k.timeline(id), from - 1, -1);
    return raw.map((json, i) => TimelineEntry.parse({ ...JSON.parse(json), seq: from + i, incidentId: id }));
  }

  /** Loads an incident as the fold of its timeline, or undefined when it does not exist. */
  async load(id: IncidentId): Promise<{ incident: Incident; entries: TimelineEntry[] } | undefined> {
    const entries = await this.entries(id);
    if (entries.length === 0) return undefined;
    return { incident: foldTimeline(entries), entries };
  }

  /**
   * The incident's current state: the cached fold (snapshot) plus the entries appended after it,
   * or the full fold when there is no usable snapshot; undefined when the incident does not exist.
   */
  async current(id: IncidentId): Promise<Incident | undefined> {
    const [count, state] = await this.redis.hmget(this.k.snapshot(id), 'count', 'state');
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

  /** Caches a fold of the first `inc.entryCount` entries, unless a fold of more entries is already cached. */
  async saveSnapshot(id: IncidentId, inc: Incident): Promise<void> {
    await this.redis.eval(SNAPSHOT_LUA, 1, this.k.snapshot(id), String(inc.entryCount), JSON.stringify(inc));
  }

  /** The incident whose channel this is, if any. */
  async incidentByChannel(channelId: string): Promise<IncidentId | undefined> {
    return ((await this.redis.hget(this.k.channelIndex, channelId)) as IncidentId | null) ?? undefined;
  }

  /** Records that `channelId` belongs to incident `id`. */
  async indexChannel(channelId: string, id: IncidentId): Promise<void> {
    await this.redis.hset(this.k.channelIndex, channelId, id);
  }

  /** Removes a closed incident from the open set and releases its alert group for a new incident. */
  async markClosed(id: IncidentId, alertGroupId?: string): Promise<void> {
    const m = this.redis.multi().zrem(this.k.openIncidents, id);
    if (alertGroupId) {
      // Only release the group if it still points at this incident.
      m.eval(
        "if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end return 0",
        1,
        this.k.alertGroup(alertGroupId),
        id,
      );
    }
    await m.exec();
  }

  /** Ids of open incidents, oldest first. */
  async openIncidents(): Promise<IncidentId[]> {
    return (await this.redis.zrange(this.k.openIncidents, 0, -1)) as IncidentId[];
  }

  /** Count of open incidents (for /metrics). */
  async openCount(): Promise<number> {
    return this.redis.zcard(this.k.openIncidents);
  }

  /** The incident id for a number, if it exists. */
  async exists(n: number): Promise<boolean> {
    return (await this.redis.exists(this.k.timeline(incidentId(n)))) === 1;
  }
}
