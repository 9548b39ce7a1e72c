import { createHash } from 'node:crypto';
import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { z } from 'zod';
import { AlertBatch, AlertSource } from '../core/alert.js';
import {
  type AlertAsk,
  type AlertChange,
  type AlertStates,
  correlate,
  correlationKey,
  firingCorrelationKeys,
  joinedReason,
  raiseReason,
  topAsk,
} from '../core/correlation.js';
import { DomainError, RetryLater } from '../core/errors.js';
import { alertNoticeField } from '../core/incident-meta.js';
import { IncidentId, type Severity } from '../core/incident-model.js';
import type { NewEntry } from '../core/timeline.js';
import { allResolvedMessage } from '../slack/alert-render.js';
import { raiseSeverity } from './change-status.js';
import { declareIncident } from './declare.js';
import { type Deps, slackOf } from './deps.js';
import { enqueueDelivery } from './record.js';

/** A webhook delivery as the web process stores it for the worker (`keys.delivery(id)`), validated when read. */
export const AlertDelivery = z.object({ source: AlertSource, groupId: z.string().min(1), batch: AlertBatch });
export type AlertDelivery = z.infer<typeof AlertDelivery>;

/** How long a stored delivery waits for its job (s): longer than any worker outage we plan to survive. */
export const DELIVERY_TTL_S = 7 * 24 * 3600;
/** A group's recorded alert states expire this long (s) after their last change. */
const STATES_TTL_S = 30 * 24 * 3600;
/** The per-group lock: held for milliseconds; its TTL only matters when a worker dies holding it (the group waits that long). */
const LOCK_TTL_MS = 5_000;
const LOCK_WAIT_MS = 10_000;

const hash = (s: string, n = 16) => createHash('sha256').update(s, 'utf8').digest('hex').slice(0, n);

/**
 * The id of a delivery: `<groupId>-<sha256 of the raw body, 16 hex>`. Identical re-sends (Alertmanager
 * retries, duplicate sends, two web processes) get the same id and so the same job.
 */
export function alertDeliveryId(groupId: string, rawBody: Buffer): string {
  return `${groupId}-${createHash('sha256').update(rawBody).digest('hex').slice(0, 16)}`;
}

/** Thrown when another worker holds the group's lock for too long; the job is delayed and tried again. */
export class AlertGroupBusy extends RetryLater {
  override name = 'AlertGroupBusy';
}

/** What one ingestion did. */
export interface IngestResult {
  outcome: 'declared' | 'recorded' | 'no-change' | 'states-only' | 'expired';
  incidentId?: IncidentId;
  /** Set when the group joined an open incident by correlation in this ingestion: `service=checkout`. */
  joined?: string;
  changes: number;
  /** The severity an alert raised the incident to, when it did. */
  raisedTo?: Severity;
}

async function withGroupLock<T>(deps: Deps, groupId: string, fn: () => Promise<T>): Promise<T> {
  const lock = { kind: 'alert-group', groupId } as const;
  const deadline = performance.now() + LOCK_WAIT_MS;
  let token = await deps.store.acquireLock(lock, LOCK_TTL_MS);
  while (!token) {
    if (performance.now() > deadline) throw new AlertGroupBusy(`alert group ${groupId} is busy`, 1000);
    await sleep(10 + Math.random() * 30);
    token = await deps.store.acquireLock(lock, LOCK_TTL_MS);
  }
  try {
    return await fn();
  } finally {
    await deps.store.releaseLock(lock, token);
  }
}

/**
 * The open incident the group is bound to, or undefined. A binding to an incident that has closed
 * (a close cut short before it released the group) is released here: the group's next firing
 * must open a new incident, never land in a closed one's channel.
 */
async function openIncidentOf(deps: Deps, groupId: string): Promise<IncidentId | undefined> {
  const bound = await deps.store.boundIncident(groupId);
  if (!bound) return undefined;
  const inc = await deps.store.current(bound);
  if (inc && inc.status !== 'closed') return bound;
  // No timeline yet: a declaration of this group cut short after the directory step
  // (declare:reserved). Kept bound: declaring again returns it and writes its pending entry,
  // instead of opening a second incident for the group.
  if (!inc && (await deps.store.pendingDeclarations()).some((p) => p.id === bound)) return undefined;
  await deps.store.releaseAlertGroup(groupId, bound);
  return undefined;
}

/** Claim key of one alert state change: once per incident, group, fingerprint, state and time. */
function changeClaim(id: IncidentId, groupId: string, c: AlertChange): string {
  const time = c.kind === 'alert_fired' ? c.startsAt : c.endsAt;
  return `alert-${id}-${groupId}-${hash(c.fingerprint)}-${c.kind}-${Date.parse(time)}`;
}

/** Claim key of a severity raise: once per incident, group, alert episode and severity asked. */
function raiseClaim(id: IncidentId, groupId: string, a: AlertAsk): string {
  return `alert-sev-${id}-${groupId}-${hash(a.fingerprint)}-${Date.parse(a.startsAt)}-${a.severity}`;
}

/**
 * Raises the incident's severity for the batch's most severe new ask, through the `/incident sev`
 * path (entry, channel confirmation, summary update); only ever up. Returns the new severity, or
 * undefined when nothing changed (already as severe, a duplicate, or closed meanwhile).
 */
async function raiseForAsk(
  deps: Deps,
  id: IncidentId,
  groupId: string,
  source: AlertSource,
  ask: AlertAsk,
): Promise<Severity | undefined> {
  try {
    const rec = await raiseSeverity(deps, id, ask.severity, raiseReason(ask, source), {
      actor: { type: 'alert', source },
      source: 'alert',
      claimKey: raiseClaim(id, groupId, ask),
    });
    return rec.seqs.length > 0 ? ask.severity : undefined;
  } catch (err) {
    if (err instanceof DomainError && err.code === 'INCIDENT_CLOSED') return undefined;
    throw err;
  }
}

function toEntry(
  id: IncidentId,
  groupId: string,
  source: AlertSource,
  c: AlertChange,
  joined?: (c: Extract<AlertChange, { kind: 'alert_fired' }>) => string | undefined,
): NewEntry {
  const base = { incidentId: id, actor: { type: 'alert' as const, source }, source: 'alert' as const };
  if (c.kind === 'alert_fired') {
    // `at` is when the alert says it happened (the timeline is the incident's story, not our inbox).
    const why = joined?.(c);
    return { ...base, ...c, at: c.startsAt, alertGroupId: groupId, ...(why ? { joined: why } : {}) };
  }
  return { ...base, ...c, at: c.endsAt, alertGroupId: groupId };
}

/**
 * Worker step for one stored webhook delivery (`ingest-alert` job): under the group's lock,
 * correlates the batch with the group's recorded states; the first firing alert declares the
 * incident (linked to the group's previous, closed one); every distinct change is appended once
 * (claim per fingerprint+state+time); a firing alert asking for a more severe severity than the
 * open incident has raises it once (claim per alert episode+severity; never lowers); the states
 * are written last, so a crash anywhere before is redone by the retried job without doubling
 * anything. When every alert of the group has resolved, queues the "all resolved" post. Returns
 * what it did; an expired delivery is skipped.
 */
export async function ingestAlert(deps: Deps, deliveryId: string): Promise<IngestResult> {
  const raw = await deps.store.delivery(deliveryId);
  if (raw === undefined) {
    deps.log.warn({ deliveryId }, 'alert delivery expired before it was ingested');
    return { outcome: 'expired', changes: 0 };
  }
  const parsed = AlertDelivery.safeParse(raw);
  if (!parsed.success) throw new DomainError('BAD_INPUT', `stored alert delivery ${deliveryId} is invalid`);
  const { groupId, batch, source } = parsed.data;

  return withGroupLock(deps, groupId, async () => {
    let id = await openIncidentOf(deps, groupId);
    // States are kept per incident: a group whose incident closed starts from none, so an alert
    // still (or again) firing after the close opens a new incident instead of passing for a re-send.
    const previous = id ? await deps.store.alertStates(id, groupId) : {};
    const { changes, asks, next, fullyResolved } = correlate(batch, previous);
    let declared = false;
    const by = deps.config.ALERT_CORRELATE_BY;
    const windowMs = deps.config.ALERT_CORRELATE_WINDOW_MINUTES * 60_000;
    const corrKeys = firingCorrelationKeys(changes, by);
    if (!id && !batch.severityOnly && changes.some((c) => c.kind === 'alert_fired')) {
      const last = IncidentId.safeParse(await deps.store.lastIncident(groupId));
      const lead = batch.alerts.find((a) => a.status === 'firing') ?? batch.alerts[0];
      const key = corrKeys[0];
      // Bounded: each pass frees a key or binding held by an incident that closed meanwhile.
      for (let pass = 0; pass < 3 && !id; pass++) {
        const res = await declareIncident(deps, {
          title: batch.title,
          severity: batch.severity,
          summary: lead?.summary ?? lead?.description,
          actor: { type: 'alert', source },
          source: 'alert',
          alertGroupId: groupId,
          relatedIncidentId: last.success ? last.data : undefined,
          correlation: key ? { key, ttlMs: windowMs } : undefined,
        });
        if (res.joined && key) {
          const target = await deps.store.current(res.id);
          if (target?.status === 'closed') {
            // Closed after the key was last touched (its close still being finished): not a home for new alerts.
            await deps.store.releaseCorrelation(key, res.id);
            await deps.store.releaseAlertGroup(groupId, res.id);
            continue;
          }
        }
        id = res.id;
        declared = res.created;
      }
      deps.checkpoint('ingest:declared');
    }

    let joined: string | undefined;
    if (id && changes.length > 0) {
      const inc = await deps.store.current(id);
      // Bound to an incident another group declared, and not yet on its timeline: this group joined it
      // by correlation (now, or in an earlier try of this job that stopped before this entry).
      if (inc && !inc.alertGroupIds.includes(groupId)) {
        const key = corrKeys[0] ?? 'labels';
        await deps.store.append(
          id,
          [
            {
              kind: 'alert_group_joined',
              incidentId: id,
              at: deps.now().toISOString(),
              actor: { type: 'alert', source },
              source: 'alert',
              alertGroupId: groupId,
              via: 'correlation',
              correlation: key,
            },
          ],
          { claimKey: `group-joined-${hash(groupId)}` },
        );
        joined = key;
      }
      const declaringGroup = inc?.alertGroupId;
      const why = (c: Extract<AlertChange, { kind: 'alert_fired' }>) => {
        if (declaringGroup === groupId) return undefined;
        const k = correlationKey(c.labels, by);
        return k ? joinedReason(id!, k) : undefined;
      };
      for (const c of changes) {
        // One append per change: each has its own claim, so a retried job skips the ones already in.
        await deps.store.append(id, [toEntry(id, groupId, source, c, why)], {
          claimKey: changeClaim(id, groupId, c),
        });
      }
      deps.checkpoint('ingest:appended');
      // The window counts from the incident's last alert: every firing alert keeps its key on this incident.
      if (inc && inc.status !== 'closed')
        for (const k of corrKeys) await deps.store.claimCorrelation(k, id, windowMs);
      await enqueueDelivery(deps, id, await deps.store.timelineLength(id));
      const lastResolve = changes.findLast((c) => c.kind === 'alert_resolved');
      if (fullyResolved && lastResolve) {
        const key = `${hash(lastResolve.fingerprint)}-${Date.parse(lastResolve.endsAt)}`;
        await deps.jobs.enqueue(
          'alert-notice',
          { incidentId: id, alertGroupId: groupId, key },
          { jobId: `alert-notice-${id}-${key}` },
        );
      }
    }

    // The batch that declared set the severity from these very asks; later ones may raise it.
    const ask = topAsk(asks);
    const raisedTo = id && ask && !declared ? await raiseForAsk(deps, id, groupId, source, ask) : undefined;

    if (id) {
      const touched = batch.alerts.map((a) => a.fingerprint).filter((fp) => Object.hasOwn(next, fp));
      const states: AlertStates = {};
      for (const fp of new Set(touched)) states[fp] = next[fp]!;
      await deps.store.saveAlertStates(id, groupId, states, STATES_TTL_S);
    }

    deps.log.info(
      { deliveryId, groupId, incidentId: id, changes: changes.length, declared, raisedTo, joined },
      'alert ingested',
    );
    const outcome: IngestResult['outcome'] = declared
      ? 'declared'
      : changes.length === 0 && !raisedTo
        ? 'no-change'
        : id
          ? 'recorded'
          : 'states-only';
    const result: IngestResult = { outcome, incidentId: id, changes: changes.length };
    if (raisedTo) result.raisedTo = raisedTo;
    if (joined) result.joined = joined;
    return result;
  });
}

/** Payload of the `alert-notice` job. */
export interface AlertNotice {
  incidentId: IncidentId;
  alertGroupId: string;
  key: string;
}

/**
 * Posts "every alert resolved" with the Close button, once per resolve (`key`), after the resolves
 * themselves are in the channel (else retries: DeliveryBusy). Skips when the incident closed or an
 * alert fired again meanwhile; before the channel exists it is parked and re-queued when it is ready.
 */
export async function postAllResolved(
  deps: Deps,
  p: AlertNotice,
): Promise<'posted' | 'skipped' | 'waiting-for-channel'> {
  const loaded = await deps.store.load(p.incidentId);
  if (!loaded || loaded.incident.status === 'closed') return 'skipped';
  const { incident: inc, entries } = loaded;
  const alerts = inc.alerts.filter((a) => a.alertGroupId === p.alertGroupId);
  if (alerts.length === 0 || alerts.some((a) => a.status === 'firing')) return 'skipped';
  if (!inc.channelId || !inc.summaryTs) {
    await deps.store.setMeta(inc.id, { 'pending-alert-notice': JSON.stringify(p) });
    return 'waiting-for-channel';
  }
  const lastAlertSeq = Math.max(
    ...entries
      .filter(
        (e) => (e.kind === 'alert_fired' || e.kind === 'alert_resolved') && e.alertGroupId === p.alertGroupId,
      )
      .map((e) => e.seq),
  );
  const delivered = await deps.store.deliveredCursor(inc.id);
  if (delivered < lastAlertSeq) throw new RetryLater(`${inc.id}: resolves not yet delivered`, 1000);
  if ((await deps.store.meta(inc.id)).alertNotices[p.key]) return 'skipped';
  await slackOf(deps).post(inc.channelId, {
    ...allResolvedMessage(inc.id, alerts.length),
    threadTs: inc.threadTs,
  });
  // Set after posting: a crash in between posts twice rather than never.
  await deps.store.setMeta(inc.id, { [alertNoticeField(p.key)]: deps.now().toISOString() });
  return 'posted';
}

/** Called by setup-channel once the channel is ready: re-queues an "all resolved" notice that arrived before the channel existed. */
export async function resumeAlertNotice(deps: Deps, id: IncidentId): Promise<void> {
  const pending = (await deps.store.meta(id))['pending-alert-notice'];
  if (!pending) return;
  const p = JSON.parse(pending) as AlertNotice;
  await deps.jobs.enqueue('alert-notice', p, { jobId: `alert-notice-${id}-${p.key}-ready` });
  await deps.store.deleteMeta(id, 'pending-alert-notice');
}
