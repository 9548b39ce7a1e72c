import { Cluster, type Redis } from 'ioredis';
import type { Logger } from 'pino';
import { keys } from './keys.js';
import { RELEASE_IF_OWNER, runScript } from './scripts.js';

/** Marks the key layout a prefix is on; absent on layouts before the hash-tagged one. */
const LAYOUT = '2';

/**
 * Moves a prefix's keys from the layout before Redis Cluster support (directory keys without a
 * hash tag, alert states per alert group) to the hash-tagged one, once, on one Redis or Sentinel
 * (the old layout never ran on a Cluster). Nothing is dropped: a key whose new name is taken is
 * merged into it. Open incidents are marked `reschedule-reminders`, since their pending reminder
 * jobs stay behind under BullMQ's old prefix; the sweeper schedules them again. Returns what it
 * moved; safe to run from every process (a lock lets one do it, the layout mark makes it once).
 */
export async function migrateLegacyLayout(
  client: Redis | Cluster,
  prefix: string,
  log: Logger,
): Promise<{ moved: number } | undefined> {
  if (client instanceof Cluster) return undefined; // the old layout never ran on a Cluster
  const r = client;
  const k = keys(prefix);
  const mark = `${prefix}:{dir}:layout`;
  if ((await r.get(mark)) === LAYOUT) return undefined;
  const lock = `${prefix}:migrate-lock`;
  const token = crypto.randomUUID();
  if ((await r.set(lock, token, 'PX', 120_000, 'NX')) !== 'OK') return undefined;
  let moved = 0;
  try {
    const old = (name: string) => `${prefix}:${name}`;
    // Sorted sets and hashes merge into a new key that already exists (a process of the new
    // release ran before this one migrated); the counter keeps the larger number.
    for (const [name, to] of [
      ['open', k.openIncidents],
      ['all', k.allIncidents],
    ] as const) {
      if (!(await r.exists(old(name)))) continue;
      await r.zunionstore(to, 2, to, old(name), 'AGGREGATE', 'MIN');
      await r.del(old(name));
      moved++;
    }
    if (await r.exists(old('channels'))) {
      const pairs = await r.hgetall(old('channels'));
      for (const [ch, id] of Object.entries(pairs)) await r.hsetnx(k.channelIndex, ch, id);
      await r.del(old('channels'));
      moved++;
    }
    const seq = await r.get(old('incident-seq'));
    if (seq !== null) {
      const now = Number((await r.get(k.incidentSeq)) ?? 0);
      await r.set(k.incidentSeq, String(Math.max(now, Number(seq))));
      await r.del(old('incident-seq'));
      moved++;
    }
    for (const [pattern, to] of [
      ['alert-group:', k.alertGroup],
      ['alert-group-last:', k.alertGroupLast],
    ] as const) {
      for (const key of await scanAll(r, `${old(pattern)}*`)) {
        const group = key.slice(old(pattern).length);
        const id = await r.get(key);
        if (id !== null) await r.set(to(group), id, 'NX');
        await r.del(key);
        moved++;
      }
    }
    // Alert states belonged to a group; they now belong to the group's incident.
    for (const key of await scanAll(r, `${old('alert-states:')}*`)) {
      const group = key.slice(old('alert-states:').length);
      const id = (await r.get(k.alertGroup(group))) ?? (await r.get(k.alertGroupLast(group)));
      if (id && !(await r.exists(k.alertStates(id, group)))) await r.rename(key, k.alertStates(id, group));
      else await r.del(key);
      moved++;
    }
    // Pending reminders sit in the old BullMQ prefix: forget their pointers, let the sweeper reschedule.
    const now = new Date().toISOString();
    for (const id of await r.zrange(k.openIncidents, 0, '-1')) {
      await r.hdel(k.meta(id), 'nudge-job', 'nudge-basis', 'escalate-job');
      await r.hset(k.meta(id), 'reschedule-reminders', now);
    }
    await r.set(mark, LAYOUT);
    if (moved > 0) log.info({ moved }, 'moved Redis keys to the hash-tagged layout');
    return { moved };
  } finally {
    await runScript(r, RELEASE_IF_OWNER, [lock], [token]);
  }
}

async function scanAll(r: Redis, match: string): Promise<string[]> {
  const out: string[] = [];
  let cursor = '0';
  do {
    const [next, batch] = await r.scan(cursor, 'MATCH', match, 'COUNT', 1000);
    cursor = next;
    out.push(...batch);
  } while (cursor !== '0');
  return out;
}
