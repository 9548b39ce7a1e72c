/**
 * Every Redis key incident-bot uses, built in this one place under one prefix. Keys of one
 * incident share the `{INC-n}` hash tag so multi-key scripts stay on one Redis Cluster slot.
 */
export function keys(prefix: string) {
  const p = prefix;
  return {
    prefix: p,
    /** INCR counter for incident numbers. */
    incidentSeq: `${p}:incident-seq`,
    /** List of JSON timeline entries (without seq/incidentId; seq = index + 1). */
    timeline: (id: string) => `${p}:{${id}}:timeline`,
    /** Hash {count, state}: the incident folded over its first `count` entries (a cache; the timeline stays the truth). */
    // Versioned: a release that changes the fold starts from fresh snapshots.
    snapshot: (id: string) => `${p}:{${id}}:snapshot-v2`,
    /** Last timeline seq delivered to the channel (confirmations posted in order). */
    delivered: (id: string) => `${p}:{${id}}:delivered`,
    /** Hash: post key → time, for posts started and not yet known to have reached Slack (crash recovery). */
    posting: (id: string) => `${p}:{${id}}:posting`,
    /** Per-incident delivery lock, so one worker posts an incident's messages at a time, in order. */
    deliveryLock: (id: string) => `${p}:{${id}}:delivery-lock`,
    /** Hash: checklist message ts and other per-incident Slack bookkeeping. */
    slackMeta: (id: string) => `${p}:{${id}}:slack`,
    /** JSON of the latest postmortem draft to upload to the channel. */
    postmortem: (id: string) => `${p}:{${id}}:postmortem`,
    /** Hash: channel id → incident id. */
    channelIndex: `${p}:channels`,
    /** Sorted set of open incident ids, scored by declaration time (ms). */
    openIncidents: `${p}:open`,
    /** Sorted set of all incident ids, scored by number. */
    allIncidents: `${p}:all`,
    /** Idempotency claim for a request or delivery (Slack trigger id, event id, message). */
    claim: (key: string) => `${p}:claim:${key}`,
    /** Alert group → open incident id. */
    alertGroup: (groupId: string) => `${p}:alert-group:${groupId}`,
    /** Alert group → its last incident (open or closed), for linking a reopened group. */
    alertGroupLast: (groupId: string) => `${p}:alert-group-last:${groupId}`,
    /** Hash: fingerprint → JSON of last recorded alert state, per alert group. */
    alertStates: (groupId: string) => `${p}:alert-states:${groupId}`,
    /** Per-alert-group ingestion lock (issue 3): group states and timeline entries change together. */
    alertGroupLock: (groupId: string) => `${p}:alert-group-lock:${groupId}`,
    /** Raw webhook deliveries awaiting ingestion (id → JSON). */
    delivery: (id: string) => `${p}:delivery:${id}`,
    /** Diagnostics bookkeeping: last seen config hash per LB. */
    configHashes: `${p}:lb-config-hashes`,
    /** BullMQ's own prefix. */
    bull: `${p}:bull`,
  };
}
export type Keys = ReturnType<typeof keys>;
