import type { Cluster, Redis } from 'ioredis';

/**
 * Every Lua script incident-bot runs, in this one module. Each declares every key it touches in
 * KEYS (one Redis Cluster slot per script: the keys share a hash tag, see keys.ts), so the same
 * scripts run on one Redis, Sentinel or Cluster. Optional keys are always passed (a key of the same
 * slot that the script does not touch when its flag in ARGV is 0), never built inside a script.
 * Run with EVALSHA through ioredis' defineCommand (loaded on first use, re-sent on NOSCRIPT).
 */
export interface Script {
  name: string;
  keys: number;
  lua: string;
}

/**
 * Reserves an incident number for a declaration, once per claim key and per alert group; with a
 * correlation key held by an open incident, binds the group to that incident instead (a join).
 * KEYS: 1 seq, 2 declare-claim, 3 open, 4 all, 5 alert-group, 6 alert-group-last, 7 declaring,
 *       8 correlation  (all {dir})
 * ARGV: 1 useClaim (0/1), 2 useGroup (0/1), 3 declared entry JSON, 4 score (declared at, ms), 5 claim TTL (s),
 *       6 useCorrelation (0/1), 7 correlation window (ms)
 * Returns {1, id, entry} when it reserved a new id (and took the correlation key); {0, id, entry-or-false}
 * when the claim or the group already had one (entry: its declared entry if its timeline is still to
 * be written); {2, id, entry-or-false} when the group joined the open incident holding the correlation key.
 */
export const DECLARE: Script = {
  name: 'ibDeclare',
  keys: 8,
  lua: `
if ARGV[1] == '1' then
  local existing = redis.call('GET', KEYS[2])
  if existing then return {0, existing, redis.call('HGET', KEYS[7], existing)} end
end
if ARGV[2] == '1' then
  local existing = redis.call('GET', KEYS[5])
  if existing then return {0, existing, redis.call('HGET', KEYS[7], existing)} end
end
if ARGV[6] == '1' then
  local target = redis.call('GET', KEYS[8])
  if target and redis.call('ZSCORE', KEYS[3], target) then
    if ARGV[2] == '1' then
      redis.call('SET', KEYS[5], target)
      redis.call('SET', KEYS[6], target)
    end
    redis.call('PEXPIRE', KEYS[8], ARGV[7])
    return {2, target, redis.call('HGET', KEYS[7], target)}
  end
end
local n = redis.call('INCR', KEYS[1])
local id = 'INC-' .. n
redis.call('ZADD', KEYS[3], ARGV[4], id)
redis.call('ZADD', KEYS[4], n, id)
redis.call('HSET', KEYS[7], id, ARGV[3])
if ARGV[1] == '1' then redis.call('SET', KEYS[2], id, 'EX', ARGV[5]) end
if ARGV[2] == '1' then
  redis.call('SET', KEYS[5], id)
  redis.call('SET', KEYS[6], id)
end
if ARGV[6] == '1' then redis.call('SET', KEYS[8], id, 'PX', ARGV[7]) end
return {1, id, ARGV[3]}`,
};

/**
 * Writes a reserved incident's declared entry, unless its timeline already has one.
 * KEYS: 1 timeline ({INC-n}); ARGV: 1 declared entry JSON. Returns the timeline's length.
 */
export const WRITE_DECLARED: Script = {
  name: 'ibWriteDeclared',
  keys: 1,
  lua: `
if redis.call('LLEN', KEYS[1]) == 0 then redis.call('RPUSH', KEYS[1], ARGV[1]) end
return redis.call('LLEN', KEYS[1])`,
};

/**
 * Appends entries only if the timeline still has the length the caller folded (optimistic
 * concurrency) and only once per claim key; sets meta fields in the same step (the close marks
 * the work it owes).
 * KEYS: 1 timeline, 2 claim, 3 meta  (all {INC-n})
 * ARGV: 1 expected length (-1 = any), 2 claim TTL (s), 3 useClaim (0/1), 4 number of meta pairs m,
 *       5 .. 4+2m field/value pairs, then the entries' JSON
 * Returns the new length; -1 on conflict, -2 on a duplicate claim, -3 when the incident does not exist.
 */
export const APPEND: Script = {
  name: 'ibAppend',
  keys: 3,
  lua: `
local len = redis.call('LLEN', KEYS[1])
if len == 0 then return -3 end
if tonumber(ARGV[1]) >= 0 and len ~= tonumber(ARGV[1]) then return -1 end
if ARGV[3] == '1' then
  if not redis.call('SET', KEYS[2], len, 'NX', 'EX', ARGV[2]) then return -2 end
end
local m = tonumber(ARGV[4])
for i = 0, m - 1 do redis.call('HSET', KEYS[3], ARGV[5 + 2 * i], ARGV[6 + 2 * i]) end
local first = 5 + 2 * m
for i = first, #ARGV do redis.call('RPUSH', KEYS[1], ARGV[i]) end
return len + #ARGV - first + 1`,
};

/**
 * Caches a fold only if it covers more entries than the cached one (two writers may race).
 * KEYS: 1 snapshot ({INC-n}); ARGV: 1 entry count, 2 state JSON.
 */
export const SNAPSHOT: Script = {
  name: 'ibSnapshot',
  keys: 1,
  lua: `
local cur = redis.call('HGET', KEYS[1], 'count')
if (not cur) or tonumber(cur) < tonumber(ARGV[1]) then
  redis.call('HSET', KEYS[1], 'count', ARGV[1], 'state', ARGV[2])
end
return 0`,
};

/**
 * Moves a closed incident from the open index to the closing index (its postmortem is owed) and
 * releases its alert group if the group still points at it; records it in the closed index.
 * KEYS: 1 open, 2 closing, 3 alert-group, 4 closed  (all {dir}); ARGV: 1 id, 2 score (ms), 3 useGroup (0/1),
 * 4 close time (ms).
 */
export const CLOSE_INDEXES: Script = {
  name: 'ibCloseIndexes',
  keys: 4,
  lua: `
if redis.call('ZSCORE', KEYS[1], ARGV[1]) then
  redis.call('ZREM', KEYS[1], ARGV[1])
  redis.call('ZADD', KEYS[2], ARGV[2], ARGV[1])
end
redis.call('ZADD', KEYS[4], 'NX', ARGV[4], ARGV[1])
if ARGV[3] == '1' and redis.call('GET', KEYS[3]) == ARGV[1] then redis.call('DEL', KEYS[3]) end
return 0`,
};

/**
 * Deletes a key only while it holds the caller's value: releases any lock held with a token, or
 * an alert-group binding that still points at the caller's incident.
 * KEYS: 1 the key; ARGV: 1 the value. Returns 1 when it deleted.
 */
export const RELEASE_IF_OWNER: Script = {
  name: 'ibReleaseIfOwner',
  keys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('DEL', KEYS[1]) end
return 0`,
};

/**
 * Extends a lock while the caller still holds it.
 * KEYS: 1 the lock; ARGV: 1 token, 2 TTL (ms). Returns 1 when extended.
 */
export const RENEW_IF_OWNER: Script = {
  name: 'ibRenewIfOwner',
  keys: 1,
  lua: `
if redis.call('GET', KEYS[1]) == ARGV[1] then return redis.call('PEXPIRE', KEYS[1], ARGV[2]) end
return 0`,
};

/**
 * Releases the checklist render lock only when no render was asked for since the holder read the
 * version (else the holder renders again).
 * KEYS: 1 lock, 2 meta  ({INC-n}); ARGV: 1 token, 2 version the holder rendered, 3 version field.
 * Returns 1 when the lock is no longer the caller's (released, or lost), 0 to render again.
 */
export const RELEASE_IF_UNCHANGED: Script = {
  name: 'ibReleaseIfUnchanged',
  keys: 2,
  lua: `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then return 1 end
if (redis.call('HGET', KEYS[2], ARGV[3]) or '') == ARGV[2] then redis.call('DEL', KEYS[1]) return 1 end
return 0`,
};

/**
 * Points the incident's nudge at a new job only while the nudges' generation (`nudge-sev`, the
 * severity change they were last rescheduled for; '' before any) is still ARGV[1].
 * KEYS: 1 meta ({INC-n}); ARGV: 1 generation, 2 job id, 3 basis.
 * Returns the job it replaced ('' for none), or nil when a severity change moved the generation on.
 */
export const SET_NUDGE_IF_GENERATION: Script = {
  name: 'ibSetNudgeIfGeneration',
  keys: 1,
  lua: `
local g = redis.call('HGET', KEYS[1], 'nudge-sev') or ''
if g ~= ARGV[1] then return nil end
local prev = redis.call('HGET', KEYS[1], 'nudge-job') or ''
redis.call('HSET', KEYS[1], 'nudge-job', ARGV[2], 'nudge-basis', ARGV[3])
return prev`,
};

/**
 * Moves a cursor held in a hash field forward, never back (issue 14: outgoing webhook cursors).
 * KEYS: 1 the hash; ARGV: 1 field, 2 seq. Returns 1 when it moved.
 */
export const ADVANCE_CURSOR: Script = {
  name: 'ibAdvanceCursor',
  keys: 1,
  lua: `
local cur = tonumber(redis.call('HGET', KEYS[1], ARGV[1]) or '0')
if tonumber(ARGV[2]) > cur then
  redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
  return 1
end
return 0`,
};

/**
 * Takes or extends a correlation key for an incident whose alert fired: set when free or held by an
 * incident no longer open, extended when the caller's, left alone when another open incident has it.
 * KEYS: 1 correlation, 2 open  ({dir}); ARGV: 1 incident id, 2 window (ms). Returns 1 when the caller holds it.
 */
export const CLAIM_CORRELATION: Script = {
  name: 'ibClaimCorrelation',
  keys: 2,
  lua: `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] and redis.call('ZSCORE', KEYS[2], cur) then return 0 end
redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
return 1`,
};

/**
 * Moves an alert group's binding from one incident to another (\`/incident merge\`): only while it
 * points at the old one or at none.
 * KEYS: 1 alert-group, 2 alert-group-last  ({dir}); ARGV: 1 from id, 2 to id. Returns 1 when it moved.
 */
export const MOVE_ALERT_GROUP: Script = {
  name: 'ibMoveAlertGroup',
  keys: 2,
  lua: `
local cur = redis.call('GET', KEYS[1])
if cur and cur ~= ARGV[1] and cur ~= ARGV[2] then return 0 end
redis.call('SET', KEYS[1], ARGV[2])
redis.call('SET', KEYS[2], ARGV[2])
return 1`,
};

/**
 * Forgets an incident in the directory (retention): out of every index and the channel index.
 * KEYS: 1 open, 2 closing, 3 all, 4 closed, 5 channels  ({dir}); ARGV: 1 id, 2 channel id ('' = none).
 */
export const FORGET_INDEXES: Script = {
  name: 'ibForgetIndexes',
  keys: 5,
  lua: `
for i = 1, 4 do redis.call('ZREM', KEYS[i], ARGV[1]) end
if ARGV[2] ~= '' and redis.call('HGET', KEYS[5], ARGV[2]) == ARGV[1] then redis.call('HDEL', KEYS[5], ARGV[2]) end
return 0`,
};

const ALL = [
  CLAIM_CORRELATION,
  MOVE_ALERT_GROUP,
  FORGET_INDEXES,
  DECLARE,
  WRITE_DECLARED,
  APPEND,
  SNAPSHOT,
  CLOSE_INDEXES,
  RELEASE_IF_OWNER,
  RENEW_IF_OWNER,
  RELEASE_IF_UNCHANGED,
  SET_NUDGE_IF_GENERATION,
  ADVANCE_CURSOR,
];

type Client = Redis | Cluster;
type Runner = (...args: (string | number)[]) => Promise<unknown>;
const defined = new WeakSet<Client>();

/** Runs `script` with its keys and args on `client` (EVALSHA, defined on the client on first use). */
export function runScript(
  client: Client,
  script: Script,
  keys: string[],
  args: (string | number)[],
): Promise<unknown> {
  if (keys.length !== script.keys)
    throw new Error(`${script.name} takes ${script.keys} keys, got ${keys.length}`);
  if (!defined.has(client)) {
    for (const s of ALL) client.defineCommand(s.name, { numberOfKeys: s.keys, lua: s.lua });
    defined.add(client);
  }
  const fn = (client as unknown as Record<string, Runner>)[script.name]!;
  return fn.call(client, ...keys, ...args);
}
