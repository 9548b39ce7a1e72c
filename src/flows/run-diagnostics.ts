import { createHash } from 'node:crypto';
import type { CheckResult } from '../core/check.js';
import { isCheckId } from '../core/check-ids.js';
import type { Checklist } from '../core/checklist.js';
import { DomainError } from '../core/errors.js';
import type { Incident } from '../core/incident.js';
import { checkQueuedField, type IncidentMetaField } from '../core/incident-meta.js';
import type { IncidentId } from '../core/incident-model.js';
import { incidentWindow } from '../core/incident-window.js';
import { nudgesFor } from '../core/suspicion.js';
import { type CheckRef, runCheck, selectedBy } from '../diagnostics/run.js';
import { type DiagnosticsSetup, diagnosticsSetup } from '../diagnostics/setup.js';
import { CHECK_BUDGET_MS } from '../diagnostics/thresholds.js';
import { checklistMessage } from '../slack/checklist-render.js';
import { checklistOf, checklistView, refKey, renderChecklist } from './checklist.js';
import { type Deps, slackOf } from './deps.js';
import { mutate } from './record.js';

/**
 * Budget of one check job; a hung source ends as an `error` result naming the timeout. The targets file's
 * `statsSampleMs` is validated against it (see src/diagnostics/thresholds.ts).
 */
export const CHECK_TIMEOUT_MS = CHECK_BUDGET_MS;

/** A BullMQ-safe job id (no `:`, not all digits) for a check of a run; a hash keeps odd target names distinct. */
function checkJobId(id: IncidentId, ref: { checkId: string; target: string }, run: number): string {
  const h = createHash('sha1').update(ref.target).digest('hex').slice(0, 8);
  const safe = ref.target.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `check-${id}-${ref.checkId}-${safe}-${h}-${run}`;
}

/** The (check, target) pairs a run covers: the checklist's automated items (or `only`, which may name any check). */
function refsForRun(setup: DiagnosticsSetup, checklist: Checklist, only?: string[]): CheckRef[] {
  const onList = new Set(checklist.items.flatMap((i) => (i.check ? [i.check] : [])));
  return setup.refs.filter((r) => (only ? selectedBy(r, only) : onList.has(r.checkId)));
}

/**
 * Marks the run's checks pending (remembering the timeline length, so a result counts as this run's only when
 * it comes after), calls `beforeQueue` (the pending render, so it cannot come after a fast result), and
 * enqueues one `run-check` job per check and target. A retried call changes nothing.
 */
async function queueRun(
  deps: Deps,
  id: IncidentId,
  refs: CheckRef[],
  run: number,
  requestedBy?: string,
  beforeQueue: () => Promise<void> = async () => {},
) {
  const seq = await deps.store.timelineLength(id);
  const queued = (await deps.store.meta(id)).checksQueued;
  const marks: Partial<Record<IncidentMetaField, string>> = {};
  for (const ref of refs) {
    if (!queued[refKey(ref)]?.startsWith(`${run}:`)) marks[checkQueuedField(refKey(ref))] = `${run}:${seq}`;
  }
  await deps.store.setMeta(id, marks);
  await beforeQueue();
  const { CHECK_JOB_ATTEMPTS: attempts, CHECK_JOB_BACKOFF_MS: backoff } = deps.config;
  for (const ref of refs) {
    await deps.jobs.enqueue(
      'run-check',
      { incidentId: id, checkId: ref.checkId, target: ref.target, run, requestedBy },
      {
        jobId: checkJobId(id, ref, run),
        ...(attempts !== undefined ? { attempts } : {}),
        ...(backoff !== undefined ? { backoff: { type: 'exponential', delay: backoff } } : {}),
      },
    );
  }
}

/**
 * Channel-ready step: chooses the checklist, posts it once (its ts kept in the incident's Slack hash) with
 * every automated check pending, then queues run 1. Safe to repeat: a retried setup job posts nothing twice.
 */
export async function postChecklist(deps: Deps, id: IncidentId): Promise<void> {
  const slack = slackOf(deps);
  const setup = await diagnosticsSetup(deps);
  const loaded = await deps.store.load(id);
  if (!loaded?.incident.channelId) return;
  const inc = loaded.incident;
  const checklist = await checklistOf(deps, id, setup, inc);
  await deps.store.setMetaIfAbsent(id, 'checklist-run', '1');
  const refs = refsForRun(setup, checklist);
  const seq = await deps.store.timelineLength(id);
  for (const ref of refs) await deps.store.setMetaIfAbsent(id, checkQueuedField(refKey(ref)), `1:${seq}`);
  if (!(await deps.store.meta(id))['checklist-ts']) {
    const view = await checklistView(deps, id, setup, checklist);
    const ts = await slack.post(inc.channelId!, { ...checklistMessage(view), threadTs: inc.threadTs });
    await deps.store.setMeta(id, { 'checklist-ts': ts, 'checklist-channel': inc.channelId! });
  }
  await queueRun(deps, id, refs, 1);
}

/** Allocates the next run number of an incident's diagnostics (run 1 is the one on open). */
export async function nextRun(deps: Deps, id: IncidentId): Promise<number> {
  await deps.store.setMetaIfAbsent(id, 'checklist-run', '1');
  return deps.store.incrementMeta(id, 'checklist-run');
}

/** `run-diagnostics` job: re-runs the checklist's checks (or `only` those) as run `run`, showing them pending meanwhile. */
export async function runDiagnosticsJob(
  deps: Deps,
  p: { incidentId: IncidentId; only?: string[]; requestedBy?: string; run?: number },
): Promise<{ queued: number }> {
  const setup = await diagnosticsSetup(deps);
  const loaded = await deps.store.load(p.incidentId);
  if (!loaded) throw new DomainError('INCIDENT_NOT_FOUND', `${p.incidentId} does not exist`);
  const checklist = await checklistOf(deps, p.incidentId, setup, loaded.incident);
  const run = p.run ?? (await nextRun(deps, p.incidentId));
  const refs = refsForRun(setup, checklist, p.only);
  await queueRun(deps, p.incidentId, refs, run, p.requestedBy, () => renderChecklist(deps, p.incidentId));
  return { queued: refs.length };
}

/**
 * `run-check` job: runs one check against one target within CHECK_TIMEOUT_MS (a hung or unreachable source
 * becomes an `error` result, never a failed job), appends it as a `check_result` entry once per run, with a
 * nudge for each open red-herring hypothesis it bears on, and re-renders the checklist.
 */
export async function runCheckJob(
  deps: Deps,
  p: { incidentId: IncidentId; checkId: string; target: string; run?: number },
): Promise<{ verdict: string } | { dropped: string }> {
  const id = p.incidentId;
  const setup = await diagnosticsSetup(deps);
  if (!setup.config) return { dropped: 'DIAGNOSTICS_CONFIG is not set' };
  if (!isCheckId(p.checkId)) return { dropped: `unknown check ${p.checkId}` };
  const loaded = await deps.store.load(id);
  if (!loaded) return { dropped: `${id} does not exist` };
  const { from, to } = incidentWindow(loaded.incident, deps.now(), p.run);
  const stored = await deps.store.lbConfigState();
  const previous = {
    configHashes: {} as Record<string, string>,
    configLines: {} as Record<string, string[]>,
  };
  for (const [f, v] of Object.entries(stored)) {
    if (f.startsWith('lines:')) previous.configLines[f.slice(6)] = JSON.parse(v) as string[];
    else previous.configHashes[f] = v;
  }
  const state = { configHashes: { ...previous.configHashes }, configLines: { ...previous.configLines } };
  const result = await runCheck(
    setup.config,
    { checkId: p.checkId, target: p.target },
    { from, to, now: to, previous, checkTimeoutMs: CHECK_TIMEOUT_MS },
    state,
  );
  const hash = state.configHashes[p.target];
  if (hash && hash !== previous.configHashes[p.target]) {
    await deps.store.saveLbConfigState({
      [p.target]: hash,
      [`lines:${p.target}`]: JSON.stringify(state.configLines[p.target] ?? []),
    });
  }
  return recordCheckResult(deps, p, result);
}

/**
 * Appends a check's result as a `check_result` entry (with its nudges) at most once per check, target and run
 * (one claim key, whoever records it: the job, or a final-failure handler). Resolves with why it was dropped
 * (the incident is closed), else undefined; the caller re-renders the checklist.
 */
async function appendCheckResult(
  deps: Deps,
  p: { incidentId: IncidentId; checkId: string; target: string; run?: number },
  result: CheckResult,
): Promise<{ dropped: string } | undefined> {
  const id = p.incidentId;
  const at = deps.now().toISOString();
  try {
    await mutate(
      deps,
      id,
      (inc) => [
        { kind: 'check_result', incidentId: id, at, actor: { type: 'bot' }, source: 'bot', result },
        ...nudgesFor(inc, result, at),
      ],
      { claimKey: `check-${id}-${p.checkId}-${p.target}-${p.run ?? 0}` },
    );
  } catch (err) {
    // A result that arrives after the close is not news to anyone.
    if (err instanceof DomainError && err.code === 'INCIDENT_CLOSED') return { dropped: err.message };
    throw err;
  }
  return undefined;
}

/** Appends a check's result once per check, target and run (see {@link appendCheckResult}), then re-renders the checklist. */
async function recordCheckResult(
  deps: Deps,
  p: { incidentId: IncidentId; checkId: string; target: string; run?: number },
  result: CheckResult,
): Promise<{ verdict: string } | { dropped: string }> {
  const dropped = await appendCheckResult(deps, p, result);
  if (dropped) return dropped;
  await renderChecklist(deps, p.incidentId);
  return { verdict: result.verdict };
}

/** Longest job error shown in a checklist row; the full one is in the worker's log. */
const FAILURE_MESSAGE_MAX = 500;

/** How a job failed for good, as its final-failure handler gets it (src/jobs/processors.ts). */
interface JobFailure {
  message: string;
  attemptsMade: number;
  retryable: boolean;
}

/** An `error` result for a check whose job (or whose run's job) failed for good: "<what> failed after 8 attempts: …". */
function jobFailureResult(
  inc: Incident,
  now: Date,
  p: { checkId: string; target: string; run?: number },
  what: string,
  failure: JobFailure,
): CheckResult {
  const { from, to } = incidentWindow(inc, now, p.run);
  const n = failure.attemptsMade;
  const message =
    failure.message.length > FAILURE_MESSAGE_MAX
      ? `${failure.message.slice(0, FAILURE_MESSAGE_MAX - 1)}…`
      : failure.message;
  return {
    checkId: p.checkId,
    target: p.target,
    verdict: 'error',
    summary: `${what} failed after ${n} attempt${n === 1 ? '' : 's'}${failure.retryable ? '' : ' (not retryable)'}: ${message}`,
    evidence: [],
    servers: [],
    bears: [],
    notes: [],
    window: { from: from.toISOString(), to: to.toISOString() },
  };
}

/**
 * Final failure of a `run-check` job (attempts used up, or not retryable): records an `error` result for its
 * check and target ("check job failed after 8 attempts: …") the way a check that could not run is recorded,
 * so the item stops showing pending. Idempotent: the result's claim key is the job's own, so a repeated call,
 * or a job that recorded its result before failing (e.g. on the Slack update), appends nothing.
 */
export async function recordCheckJobFailure(
  deps: Deps,
  p: { incidentId: IncidentId; checkId: string; target: string; run?: number },
  failure: JobFailure,
): Promise<{ verdict: string } | { dropped: string }> {
  const loaded = await deps.store.load(p.incidentId);
  if (!loaded) return { dropped: `${p.incidentId} does not exist` };
  return recordCheckResult(deps, p, jobFailureResult(loaded.incident, deps.now(), p, 'check job', failure));
}

/**
 * Final failure of a `run-diagnostics` job. The job marks its run's checks pending before it queues their
 * `run-check` jobs, so failing in between (Redis refusing the enqueue, say) would leave those items pending
 * for ever. For each check still marked pending for this run that has no result since, and no `run-check`
 * job of this run in the queue (a queued or finished job records its own result, or its own failure), this
 * records an `error` result ("diagnostics run failed after 8 attempts: …") under the claim key that check's
 * result would use, so a check that did report is never doubled; then re-renders the checklist. A run that
 * failed before marking anything (its incident gone, say) is logged and nothing is recorded.
 */
export async function recordDiagnosticsRunFailure(
  deps: Deps,
  p: { incidentId: IncidentId; run?: number },
  failure: JobFailure,
): Promise<{ recorded: number } | { dropped: string }> {
  const id = p.incidentId;
  const run = p.run;
  const context = { id, run, failure: failure.message, attempts: failure.attemptsMade };
  if (run === undefined) {
    // Every enqueuer allocates the run (the `diagnose` command); without it there is no telling which marks are its.
    deps.log.warn(
      context,
      'diagnostics run without a run number failed for good; cannot tell which checks it marked',
    );
    return { dropped: 'no run number' };
  }
  const queued = (await deps.store.meta(id)).checksQueued;
  const marked = Object.entries(queued).flatMap(([key, value]) => {
    const [markRun, seq] = value.split(':');
    if (markRun !== String(run)) return [];
    const slash = key.indexOf('/');
    return [{ checkId: key.slice(0, slash), target: key.slice(slash + 1), queuedAt: Number(seq) }];
  });
  if (marked.length === 0) {
    deps.log.warn(
      context,
      'diagnostics run failed for good before marking any check pending; nothing to record',
    );
    return { recorded: 0 };
  }
  const loaded = await deps.store.load(id);
  if (!loaded) return { dropped: `${id} does not exist` };
  const answered = new Map<string, number>();
  for (const e of await deps.store.entries(id))
    if (e.kind === 'check_result') answered.set(refKey(e.result), e.seq);
  let recorded = 0;
  for (const ref of marked) {
    if ((answered.get(refKey(ref)) ?? -1) > ref.queuedAt) continue;
    if (await deps.jobs.exists('run-check', checkJobId(id, ref, run))) continue;
    const result = jobFailureResult(loaded.incident, deps.now(), { ...ref, run }, 'diagnostics run', failure);
    const dropped = await appendCheckResult(deps, { incidentId: id, ...ref, run }, result);
    if (dropped) return dropped;
    recorded++;
  }
  deps.log.warn(
    { ...context, marked: marked.length, recorded },
    'diagnostics run failed for good; its checks that never got queued show the failure',
  );
  await renderChecklist(deps, id);
  return { recorded };
}
