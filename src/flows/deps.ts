import type { Logger } from 'pino';
import type { Config } from '../config.js';
import type { Checkpoint } from '../core/checkpoints.js';
import type { AlertStates } from '../core/correlation.js';
import type { Incident } from '../core/incident.js';
import type { IncidentMeta, IncidentMetaField } from '../core/incident-meta.js';
import type { IncidentId } from '../core/incident-model.js';
import type { PostmortemView } from '../core/postmortem/index.js';
import type { NewEntry, TimelineEntry } from '../core/timeline.js';
import type { JobName, JobPayload } from '../jobs/queues.js';

/** The job queue as flows see it. */
export interface JobQueuePort {
  enqueue<N extends JobName>(
    name: N,
    payload: JobPayload<N>,
    opts?: {
      jobId?: string;
      delay?: number;
      priority?: number;
      /** Overrides the queue's tries (8) and retry backoff (exponential from 500 ms) for this job. */
      attempts?: number;
      backoff?: { type: 'exponential' | 'fixed'; delay: number };
    },
  ): Promise<void>;
  /** Removes a waiting or delayed job (no-op when it already ran). */
  remove(name: JobName, jobId: string): Promise<void>;
  /** True while the queue holds the job: waiting, delayed, running, or kept after completing or failing. */
  exists(name: JobName, jobId: string): Promise<boolean>;
}

/** A Block Kit message as flows hand it to Slack: fallback text plus optional blocks. */
export interface SlackMessage {
  text: string;
  blocks?: unknown[];
  /** Post as a reply in this thread (an incident worked in INCIDENT_FALLBACK_CHANNEL lives in one thread). */
  threadTs?: string;
}

/** One invite Slack refused for the person (a guest, deactivated, external user): `error` is Slack's code. */
export interface InviteRefusal {
  user: string;
  error: string;
}

/**
 * Message metadata the bot attaches to what it posts, so a retried job can tell whether its post
 * already reached Slack (https://docs.slack.dev/messaging/message-metadata).
 */
export interface PostMark {
  event_type: 'incident_bot_post';
  event_payload: { incident_id: string; key: string };
}

/** The Slack Web API calls flows make (implemented by src/slack/notifier.ts over @slack/web-api). */
export interface SlackPort {
  /** Creates a public channel (private with `isPrivate`); `name_taken` is reported, not thrown. */
  createChannel(
    name: string,
    opts?: { isPrivate?: boolean },
  ): Promise<{ ok: true; id: string; name: string } | { ok: false; error: 'name_taken' }>;
  /** Finds a channel the bot itself created, by exact name (recovers a channel created just before a crash). */
  findChannel(name: string): Promise<string | undefined>;
  /**
   * Invites people one at a time; returns those Slack refused for who they are (guest, deactivated,
   * external, over their channel limit). A refusal about the channel throws SlackRefused.
   */
  invite(channelId: string, userIds: string[]): Promise<InviteRefusal[]>;
  /** Posts a message (with `mark` as its metadata); returns its ts. A refusal (archived, missing channel) throws SlackRefused. */
  post(channelId: string, msg: SlackMessage, mark?: PostMark): Promise<string>;
  /** The ts of a recent bot message in the channel carrying `mark`, if any (reads the last 100 messages). */
  findPosted(channelId: string, mark: PostMark): Promise<string | undefined>;
  update(channelId: string, ts: string, msg: SlackMessage): Promise<void>;
  pin(channelId: string, ts: string): Promise<void>;
  setTopic(channelId: string, topic: string): Promise<void>;
  uploadFile(
    channelId: string,
    file: { filename: string; title: string; content: string; comment: string; threadTs?: string },
  ): Promise<void>;
  /** A person's display name (falls back to the id when Slack does not know it). */
  userName(userId: string): Promise<string>;
  /** Text and author of one message (for reactions and shortcuts). */
  message(channelId: string, ts: string): Promise<{ user: string; text: string } | undefined>;
  /**
   * Archives a channel (https://docs.slack.dev/reference/methods/conversations.archive); a channel
   * already archived answers `already_archived` instead of throwing.
   */
  archiveChannel(channelId: string): Promise<'archived' | 'already_archived'>;
  /** Publishes a user's Home tab view (https://docs.slack.dev/reference/methods/views.publish). */
  publishHome(userId: string, view: { type: 'home'; blocks: unknown[] }): Promise<void>;
}

/** Outcome of an append: the new entries' seqs, or why nothing was appended. */
export type AppendResult =
  | { ok: true; seqs: number[] }
  | { ok: false; reason: 'conflict' | 'duplicate' | 'not-found' };

/** The declared entry of a new incident, as flows hand it to the store. */
export type DeclaredEntry = Omit<Extract<NewEntry, { kind: 'declared' }>, 'incidentId'>;

/** A lock the store hands out with a token: one holder at a time, expiring after its TTL if the holder dies. */
export type LockName =
  | { kind: 'delivery'; incidentId: IncidentId }
  | { kind: 'checklist-render'; incidentId: IncidentId }
  | { kind: 'alert-group'; groupId: string }
  /** One follow-up issue creation at a time per incident (issue 14). */
  | { kind: 'followup-issue'; incidentId: IncidentId }
  /** Issue 14: one sender at a time per incident and outgoing webhook receiver, so its events go in order. */
  | { kind: 'webhook'; incidentId: IncidentId; receiver: string }
  | { kind: 'home'; userId: string };

/**
 * The store as flows see it: named domain operations over incidents, their timelines and the
 * bookkeeping around them. Implemented on Redis (one node, Sentinel or Cluster) by
 * src/redis/store.ts and in memory by test/flows/memory-store.ts; one contract suite
 * (test/flows/store-contract.ts) runs against both. Every operation is atomic on its own;
 * transitions that span an incident and the directory say what they leave owed.
 */
export interface StorePort {
  // ── Incidents and timelines ────────────────────────────────────────────────────────────
  /**
   * Creates an incident from its declared entry, in the open index; with `claimKey` or
   * `alertGroupId` a second call with the same key returns the first incident (`created: false`)
   * and writes its declared entry if a crash left it unwritten. Binds the alert group to it.
   */
  declare(
    entry: DeclaredEntry,
    opts?: { claimKey?: string; alertGroupId?: string; correlation?: CorrelationClaim },
  ): Promise<{ id: IncidentId; created: boolean; joined?: boolean }>;
  /** Declarations whose timeline a crash left unwritten (id and declared entry), for the sweeper. */
  pendingDeclarations(): Promise<{ id: IncidentId; entry: DeclaredEntry }[]>;
  /** Writes a pending declaration's timeline (if still empty) and forgets it; idempotent. */
  completeDeclaration(id: IncidentId, entry: DeclaredEntry): Promise<void>;
  /**
   * Appends entries atomically; `expectedLength` guards against a concurrent change, `claimKey`
   * makes the append happen once per incident and key (claims live 7 days).
   */
  append(
    id: IncidentId,
    entries: NewEntry[],
    opts?: { expectedLength?: number; claimKey?: string },
  ): Promise<AppendResult>;
  /**
   * The close transition's first, atomic step: appends the `closed` entry (same guards as append)
   * and marks the incident's close follow-up and its postmortem draft as owed
   * (`close-owed`, `postmortem-owed`), so no crash can record the close without what it owes.
   */
  close(
    id: IncidentId,
    entry: Extract<NewEntry, { kind: 'closed' }>,
    opts?: { expectedLength?: number; claimKey?: string; postmortem?: boolean },
  ): Promise<AppendResult>;
  /** The timeline (validated; a malformed stored entry throws), optionally from seq `from` (1-based). */
  entries(id: IncidentId, from?: number): Promise<TimelineEntry[]>;
  /** Number of entries on the timeline (0: no such incident). */
  timelineLength(id: IncidentId): Promise<number>;
  /** The incident as the fold of its whole timeline, with the entries; undefined when it does not exist. */
  load(id: IncidentId): Promise<{ incident: Incident; entries: TimelineEntry[] } | undefined>;
  /** The incident's current state from the cached fold plus newer entries; undefined when it does not exist. */
  current(id: IncidentId): Promise<Incident | undefined>;
  /** Caches a fold of the first `inc.entryCount` entries, unless a fold of more entries is cached. */
  saveSnapshot(id: IncidentId, inc: Incident): Promise<void>;
  /** True when incident number `n` exists. */
  exists(n: number): Promise<boolean>;

  // ── Directory ───────────────────────────────────────────────────────────────────────────
  /** The incident whose channel this is, if any. */
  incidentByChannel(channelId: string): Promise<IncidentId | undefined>;
  /** Records that `channelId` belongs to incident `id`. */
  indexChannel(channelId: string, id: IncidentId): Promise<void>;
  /** Every incident id, in number order. */
  allIncidents(): Promise<IncidentId[]>;
  /** Incidents in the open index (not closed, or closed with close follow-up still owed), oldest first. */
  openIncidents(): Promise<IncidentId[]>;
  /** Size of the open index (for /metrics). */
  openCount(): Promise<number>;
  /** Closed incidents whose postmortem draft is still owed, oldest close first. */
  closingIncidents(): Promise<IncidentId[]>;
  /**
   * Close follow-up in the directory, one atomic step: moves `id` from the open index to the closing
   * index and releases `alertGroupId` if it still points at `id`. Idempotent.
   */
  leaveOpenIndex(id: IncidentId, alertGroupId: string | undefined, at: Date): Promise<void>;
  /** Removes `id` from the closing index (its postmortem is drafted). Idempotent. */
  leaveClosingIndex(id: IncidentId): Promise<void>;
  /**
   * Closed incidents by close time (ms since the epoch, from `fromMs` to `toMs` inclusive), oldest
   * close first; `last`: only the latest n of them. Recorded by `leaveOpenIndex`.
   */
  closedIncidents(range?: { fromMs?: number; toMs?: number; last?: number }): Promise<IncidentId[]>;
  /**
   * Retention: deletes everything of incident `id` (timeline, snapshot, meta, cursors, the alert
   * states of `alertGroupIds`) and then takes it out of every index and the channel index. Idempotent.
   */
  forgetIncident(id: IncidentId, opts: { channelId?: string; alertGroupIds: string[] }): Promise<void>;

  // ── Alert groups and webhook deliveries ────────────────────────────────────────────────
  /** The incident the alert group is bound to, if any (it may have closed since: check). */
  boundIncident(groupId: string): Promise<IncidentId | undefined>;
  /** The last incident the group was bound to (open or closed). */
  lastIncident(groupId: string): Promise<IncidentId | undefined>;
  /** Unbinds the group if it still points at `id`; true when it did. */
  releaseAlertGroup(groupId: string, id: IncidentId): Promise<boolean>;
  /** Binds the group to `to` if it points at `from` or at nothing (`/incident merge`); true when it did. */
  moveAlertGroup(groupId: string, from: IncidentId, to: IncidentId): Promise<boolean>;
  /**
   * Takes or extends correlation key `key` (`service=checkout`) for incident `id` for `ttlMs` (the
   * window, counted from the incident's last alert): when free, already `id`'s, or held by an
   * incident no longer in the open index. False when another open incident holds it.
   */
  claimCorrelation(key: string, id: IncidentId, ttlMs: number): Promise<boolean>;
  /** Frees correlation key `key` if `id` holds it. */
  releaseCorrelation(key: string, id: IncidentId): Promise<void>;
  /** The alert states recorded for one group on one incident (fingerprint → state). */
  alertStates(id: IncidentId, groupId: string): Promise<AlertStates>;
  /**
   * Records alert states for one group on one incident, merged by fingerprint (`replace`: instead of
   * what is there), kept `ttlS` after the last change.
   */
  saveAlertStates(
    id: IncidentId,
    groupId: string,
    states: AlertStates,
    ttlS: number,
    opts?: { replace?: boolean },
  ): Promise<void>;
  /** Stores a webhook delivery for its ingestion job unless one with this id is stored (`ttlS`). */
  saveDelivery(deliveryId: string, delivery: unknown, ttlS: number): Promise<void>;
  /** A stored webhook delivery (parsed JSON), or undefined once it expired. */
  delivery(deliveryId: string): Promise<unknown>;
  /** Drops a stored webhook delivery (a re-send stores it anew). */
  forgetDelivery(deliveryId: string): Promise<void>;

  // ── Claims and locks ────────────────────────────────────────────────────────────────────
  /** Claims `key` for `ttlS` (within incident `id` when given); true for the first caller only. */
  claim(key: string, ttlS: number, id?: IncidentId): Promise<boolean>;
  /** Takes a lock for `ttlMs`; returns its token, or undefined while someone else holds it. */
  acquireLock(lock: LockName, ttlMs: number): Promise<string | undefined>;
  /** Extends a held lock; false when it is no longer the caller's. */
  renewLock(lock: LockName, token: string, ttlMs: number): Promise<boolean>;
  /** Releases a lock if the caller still holds it. */
  releaseLock(lock: LockName, token: string): Promise<void>;
  /**
   * Releases the checklist render lock unless a render was asked for (the `checklist-version`
   * meta field moved) since the holder read `version`; true when the caller no longer holds it.
   */
  releaseRenderLockIfUnchanged(id: IncidentId, token: string, version: string): Promise<boolean>;

  // ── Delivery to the channel ─────────────────────────────────────────────────────────────
  /** Last timeline seq posted to the channel (0 before any). */
  deliveredCursor(id: IncidentId): Promise<number>;
  /** Moves the delivery cursor to `seq`. */
  setDeliveredCursor(id: IncidentId, seq: number): Promise<void>;
  /** True while a post with this key was started and not known to have reached Slack. */
  isPosting(id: IncidentId, key: string): Promise<boolean>;
  /** Notes that a post with this key is about to be sent (`at`: ISO time). */
  markPosting(id: IncidentId, key: string, at: string): Promise<void>;
  /** Forgets a post's note once Slack has answered. */
  clearPosting(id: IncidentId, key: string): Promise<void>;
  /** Keeps the latest postmortem draft for the channel upload (`ttlS`). */
  savePostmortemUpload(id: IncidentId, upload: PostmortemUploadData, ttlS: number): Promise<void>;
  /** The latest postmortem draft for the channel upload, if kept. */
  postmortemUpload(id: IncidentId): Promise<PostmortemUploadData | undefined>;

  // ── Incident meta (src/core/incident-meta.ts) ───────────────────────────────────────────
  /** All meta fields of the incident, validated. */
  meta(id: IncidentId): Promise<IncidentMeta>;
  /** Sets meta fields (values validated against the schema). */
  setMeta(id: IncidentId, fields: Partial<Record<IncidentMetaField, string>>): Promise<void>;
  /** Sets one meta field unless it is set; true when this call set it. */
  setMetaIfAbsent(id: IncidentId, field: IncidentMetaField, value: string): Promise<boolean>;
  /** Deletes meta fields. */
  deleteMeta(id: IncidentId, ...fields: IncidentMetaField[]): Promise<void>;
  /** Adds 1 to a counter field (`checklist-run`, `checklist-version`); returns the new value. */
  incrementMeta(id: IncidentId, field: 'checklist-run' | 'checklist-version'): Promise<number>;
  /**
   * Points the nudge at `jobId` (from `basis`) only while the nudge generation is `generation`;
   * returns the job it replaced ('' for none), or null when a severity change moved the generation on.
   */
  setNudgeIfGeneration(
    id: IncidentId,
    generation: string,
    jobId: string,
    basis: string,
  ): Promise<string | null>;

  // ── Diagnostics ─────────────────────────────────────────────────────────────────────────
  /** Last seen config hash per load balancer (`<target>`) and its lines (`lines:<target>`, JSON). */
  lbConfigState(): Promise<Record<string, string>>;
  /** Records config hash and lines of load balancers. */
  saveLbConfigState(fields: Record<string, string>): Promise<void>;

  // ── App Home ────────────────────────────────────────────────────────────────────────────
  /** Records that `userId` opened the Home tab at `atMs`. */
  addHomeViewer(userId: string, atMs: number): Promise<void>;
  /** Users who opened the Home tab at or after `sinceMs`. */
  homeViewers(sinceMs: number): Promise<string[]>;
  /** Digest of the Home view last published to `userId`, if any. */
  homeDigest(userId: string): Promise<string | undefined>;
  /** Records the digest of the Home view just published to `userId` (kept `ttlS`). */
  setHomeDigest(userId: string, digest: string, ttlS: number): Promise<void>;

  /** Resolves when the datastore answers (for /healthz); rejects otherwise. */
  ping(): Promise<void>;

  // ── Postmortem drafts and outbound delivery (issue 14) ──────────────────────────────────
  /** Keeps the incident's latest postmortem draft with it, durably (no expiry), replacing the previous one. */
  savePostmortemDraft(id: IncidentId, draft: StoredPostmortemDraft): Promise<void>;
  /** The incident's latest stored postmortem draft (validated), if one was drafted. */
  postmortemDraft(id: IncidentId): Promise<StoredPostmortemDraft | undefined>;
  /** Last timeline seq sent to (or given up on for) outgoing webhook `receiver` (0 before any). */
  webhookCursor(id: IncidentId, receiver: string): Promise<number>;
  /** Moves that cursor forward to `seq`, never back (atomic); true when it moved. */
  advanceWebhookCursor(id: IncidentId, receiver: string, seq: number): Promise<boolean>;
}

/**
 * A postmortem draft as stored with its incident: the Markdown, the view it was rendered from, and the
 * display names it used, so it can be read or re-rendered without Slack or the worker's disk.
 */
export interface StoredPostmortemDraft {
  /** `INC-<n>-<slug>.md`. */
  fileName: string;
  markdown: string;
  view: PostmortemView;
  /** Slack user id → display name, as resolved when the draft was rendered. */
  people: Record<string, string>;
  /** ISO 8601 time of the render. */
  renderedAt: string;
  /** Hex SHA-256 of `markdown`: the same content twice is the same version. */
  sha256: string;
}

/** A correlation key to claim or join at declaration: `key` like `service=checkout`, held `ttlMs` (the window). */
export interface CorrelationClaim {
  key: string;
  ttlMs: number;
}

/** The postmortem draft as kept for the channel upload. */
export interface PostmortemUploadData {
  filename: string;
  title: string;
  content: string;
  comment: string;
}

/** An issue in the follow-up tracker: `acme/shop#12` or `OPS-7`, and its web URL. */
export interface TrackerIssue {
  key: string;
  url: string;
  /** Set when the issue was created without the requested assignee, and why. */
  unassigned?: string;
}

/**
 * The follow-up tracker (GitHub issues or Jira Cloud; src/outbound/). Every method throws
 * OutboundError (src/core/outbound.ts) for a refusal or failure.
 */
export interface TrackerPort {
  readonly kind: 'github' | 'jira';
  /** Where issues go, for messages: `acme/shop`, `OPS on https://acme.atlassian.net`. */
  readonly where: string;
  /** Creates one issue carrying `marker` (in its body; a label too on Jira); `assignee` is a tracker account. */
  create(issue: { title: string; body: string; marker: string; assignee?: string }): Promise<TrackerIssue>;
  /** The issue carrying `marker` created at or after `since` (ISO), if any: used before creating again after a timeout. */
  findByMarker(marker: string, since: string): Promise<TrackerIssue | undefined>;
  /** The tracker account of a Slack user from FOLLOWUP_OWNER_MAP, or why there is none (never throws). */
  accountFor(slackUser: string): Promise<{ account: string } | { why: string }>;
}

/** One PagerDuty Events API v2 event (https://developer.pagerduty.com/docs/events-api-v2/trigger-events). */
export interface PagerEvent {
  routingKey: string;
  action: 'trigger' | 'resolve';
  dedupKey: string;
  /** For triggers: summary, source, severity, and links back to the channel. */
  payload?: { summary: string; source: string; severity: 'critical' | 'error' | 'warning' | 'info' };
  links?: { href: string; text: string }[];
}

/** PagerDuty's Events API v2; throws OutboundError for a refusal or failure. */
export interface PagerPort {
  send(event: PagerEvent): Promise<void>;
}

/** Everything a flow may touch. Worker-only ports are optional so the web process cannot call Slack by mistake. */
export interface Deps {
  config: Config;
  store: StorePort;
  jobs: JobQueuePort;
  log: Logger;
  /** Current time; flows never call Date.now() themselves so tests can pin it. */
  now: () => Date;
  /** Called at each step boundary of a multi-step transition; a no-op unless FAULT_CRASH_AT names it (tests). */
  checkpoint: (step: Checkpoint) => void;
  slack?: SlackPort;
  /** Renders a postmortem view to Markdown with the user's template (loaded and checked at start-up). */
  renderPostmortem?: (view: PostmortemView) => string;
  /** Issue 14 (worker only): the follow-up tracker, when one is configured. */
  tracker?: TrackerPort;
  /** Issue 14 (worker only): PagerDuty, when PAGERDUTY_ROUTING_KEYS is set. */
  pager?: PagerPort;
  /** Members of Slack user groups (INCIDENT_ADMINS may name one); both processes have it. */
  groups?: GroupDirectory;
}

/** Slack user groups as flows see them (src/slack/group-directory.ts, over usergroups.users.list). */
export interface GroupDirectory {
  /** User ids in the group `S…`; throws when Slack cannot say (the caller refuses, naming the group). */
  members(groupId: string): Promise<readonly string[]>;
}

/** Returns the Slack port or throws: only worker-side flows call Slack. */
export function slackOf(deps: Deps): SlackPort {
  if (!deps.slack) throw new Error('this flow talks to Slack and must run in the worker');
  return deps.slack;
}
