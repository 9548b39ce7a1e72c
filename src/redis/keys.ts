/**
 * Every Redis key incident-bot uses, built in this one place under one prefix; private to
 * src/redis/. Keys carry Redis Cluster hash tags so each script's keys share one slot:
 * - `{INC-n}`: everything of one incident (timeline, snapshot, meta, claims, alert states, locks);
 * - `{dir}`: the directory (incident numbers, open/closing/all indexes, channel index, alert-group
 *   bindings, declaration claims, declarations whose timeline is not written yet);
 * - `{bull}`: BullMQ's prefix, as BullMQ's Cluster guide requires (https://docs.bullmq.io/guide/redis-cluster);
 * - keys used alone (webhook deliveries, group locks, global claims) need no tag.
 * A transition that touches an incident and the directory runs one script per slot, the
 * incident's first, which records what is owed in the directory (see store.ts).
 */
export function keys(prefix: string) {
  const p = prefix;
  const inc = (id: string) => `${p}:{${id}}`;
  const dir = `${p}:{dir}`;
  return {
    prefix: p,
    /** INCR counter for incident numbers. */
    incidentSeq: `${dir}:incident-seq`,
    /** Sorted set of open incident ids (not yet closed, or closed with follow-up work owed), scored by declaration time (ms). */
    openIncidents: `${dir}:open`,
    /** Sorted set of closed incidents whose postmortem draft is still owed, scored by close time (ms). */
    closingIncidents: `${dir}:closing`,
    /** Sorted set of all incident ids, scored by number. */
    allIncidents: `${dir}:all`,
    /** Hash: channel id → incident id. */
    channelIndex: `${dir}:channels`,
    /** Hash: incident id → JSON of its declared entry, while its timeline is not written yet (crash recovery). */
    declaring: `${dir}:declaring`,
    /** Declaration claim (a Slack trigger id or view id) → incident id. */
    declareClaim: (key: string) => `${dir}:declare-claim:${key}`,
    /** Alert group → its open incident id. */
    alertGroup: (groupId: string) => `${dir}:alert-group:${groupId}`,
    /** Alert group → its last incident (open or closed), for linking the next one. */
    alertGroupLast: (groupId: string) => `${dir}:alert-group-last:${groupId}`,

    /** Sorted set of closed incident ids, scored by close time (ms): list --all, reports, retention. */
    closedIncidents: `${dir}:closed`,
    /** Correlation claim (sha256 of `service=checkout`) → the open incident alerts with those labels join; PX = the window. */
    correlation: (hash: string) => `${dir}:correlate:${hash}`,
    /** Sorted set: users who opened the App Home tab, scored by when (ms); refreshed when an incident changes. */
    homeViewers: `${p}:home-viewers`,
    /** Digest of the App Home view last published to a user (one views.publish per change). */
    homePublished: (userId: string) => `${p}:home-published:${userId}`,
    /** Per-user App Home publish lock (one views.publish at a time per user). */
    homeLock: (userId: string) => `${p}:home-lock:${userId}`,

    /** List of JSON timeline entries (without seq/incidentId; seq = index + 1). */
    timeline: (id: string) => `${inc(id)}:timeline`,
    /** Hash {count, state}: the incident folded over its first `count` entries (a cache; the timeline stays the truth). */
    // Versioned: a release that changes the fold starts from fresh snapshots.
    snapshot: (id: string) => `${inc(id)}:snapshot-v3`,
    /** Last timeline seq delivered to the channel (confirmations posted in order). */
    delivered: (id: string) => `${inc(id)}:delivered`,
    /** Hash: post key → time, for posts started and not yet known to have reached Slack (crash recovery). */
    posting: (id: string) => `${inc(id)}:posting`,
    /** Hash: the incident's meta fields (src/core/incident-meta.ts). */
    meta: (id: string) => `${inc(id)}:slack`,
    /** JSON of the latest postmortem draft to upload to the channel. */
    postmortem: (id: string) => `${inc(id)}:postmortem`,
    /** Idempotency claim of a change to one incident (a Slack action, an alert change, a job step). */
    claim: (id: string, key: string) => `${inc(id)}:claim:${key}`,
    /** Hash: fingerprint → JSON of the alert's last recorded state, per incident and alert group. */
    alertStates: (id: string, groupId: string) => `${inc(id)}:alert-states:${groupId}`,
    /** Per-incident locks (delivery, checklist render). */
    lock: (id: string, name: string) => `${inc(id)}:lock:${name}`,

    /** Idempotency claim not tied to one incident. */
    globalClaim: (key: string) => `${p}:claim:${key}`,
    /** Per-alert-group ingestion lock: group states and timeline entries change together. */
    alertGroupLock: (groupId: string) => `${p}:alert-group-lock:${groupId}`,
    /** Raw webhook deliveries awaiting ingestion (id → JSON). */
    delivery: (id: string) => `${p}:delivery:${id}`,
    /** Diagnostics bookkeeping: last seen config hash (and lines) per load balancer. */
    configHashes: `${p}:lb-config-hashes`,
    /** JSON of the latest postmortem draft and its view, kept as long as the incident (no TTL). */
    postmortemDraft: (id: string) => `${inc(id)}:postmortem-draft`,
    /** Hash: outgoing webhook receiver id → last timeline seq sent to it. */
    webhookCursors: (id: string) => `${inc(id)}:webhooks`,
    /** BullMQ's own prefix (hash-tagged: all of BullMQ's keys of every queue in one slot). */
    bull: `${p}:{bull}`,
  };
}
export type Keys = ReturnType<typeof keys>;
