import { createHash } from 'node:crypto';
import { join } from 'node:path';
import type { Config } from '../config.js';
import type { CheckResult, HypothesisCategory } from '../core/check.js';
import { type Checklist, selectChecklist } from '../core/checklist.js';
import { DomainError } from '../core/errors.js';
import { nudgeFor } from '../core/hypothesis.js';
import type { Incident } from '../core/incident.js';
import { checkQueuedField, type IncidentMetaField } from '../core/incident-meta.js';
import type { IncidentId } from '../core/incident-model.js';
import type { NewEntry, TimelineEntry } from '../core/timeline.js';
import { loadChecklists } from '../diagnostics/checklists.js';
import { type DiagnosticsConfig, loadDiagnosticsConfig } from '../diagnostics/config.js';
import { CHECK_IDS, type CheckId, type CheckRef, listChecks, runCheck } from '../diagnostics/run.js';
import { CHECK_BUDGET_MS } from '../diagnostics/thresholds.js';
import { defaultTemplatesDir } from '../postmortem/render.js';
import {
  type AutomatedItemView,
  type ChecklistView,
  type CheckRow,
  checklistMessage,
  type ManualItemView,
} from '../slack/checklist-render.js';
import { type Deps, slackOf } from './deps.js';
import { incidentOfChannel, mutate } from './record.js';

/** How far before the incident (or its first alert) the checks look: the CLI's default window. */
export const LOOKBACK_MS = 15 * 60_000;
/**
 * Budget of one check job; a hung source ends as an `error` result naming the timeout. The targets file's
 * `statsSampleMs` is validated against it (see src/diagnostics/thresholds.ts).
 */
export const CHECK_TIMEOUT_MS = CHECK_BUDGET_MS;

/** The targets file and checklist templates, loaded once per process (per Config object). */
export interface DiagnosticsSetup {
  /** DIAGNOSTICS_CONFIG, when set. */
  configPath?: string;
  /** The valid part of the targets file; undefined when DIAGNOSTICS_CONFIG is not set. */
  config?: DiagnosticsConfig;
  /** Every (check, target) the config can run, in checklist order. */
  refs: CheckRef[];
  checklists: Checklist[];
  /** What is wrong with the targets file or a checklist template, each naming the file, line and field. */
  problems: string[];
}

const setups = new WeakMap<Config, Promise<DiagnosticsSetup>>();

/**
 * Loads DIAGNOSTICS_CONFIG and the checklist templates once for this process (keyed by its Config) and logs
 * each problem. Never rejects: a broken or missing file becomes problems, and the valid rest is kept.
 */
export function diagnosticsSetup(deps: Pick<Deps, 'config' | 'log'>): Promise<DiagnosticsSetup> {
  let p = setups.get(deps.config);
  if (!p) {
    p = loadSetup(deps);
    setups.set(deps.config, p);
  }
  return p;
}

async function loadSetup(deps: Pick<Deps, 'config' | 'log'>): Promise<DiagnosticsSetup> {
  const problems: string[] = [];
  const dir = join(deps.config.TEMPLATES_DIR ?? defaultTemplatesDir(), 'checklists');
  let checklists: Checklist[] = [];
  try {
    const loaded = await loadChecklists(dir);
    checklists = loaded.checklists;
    problems.push(...loaded.problems.map((p) => `checklist template ${p}`));
  } catch (err) {
    problems.push(`${dir}: cannot read checklist templates (${(err as NodeJS.ErrnoException).code ?? err})`);
  }
  const configPath = deps.config.DIAGNOSTICS_CONFIG;
  let config: DiagnosticsConfig | undefined;
  if (configPath) {
    const loaded = await loadDiagnosticsConfig(configPath);
    config = loaded.config;
    problems.push(...loaded.problems);
  }
  for (const p of problems) deps.log.warn({ problem: p }, 'diagnostics configuration problem');
  if (!configPath) deps.log.info('DIAGNOSTICS_CONFIG is not set: checklist checks will show as skipped');
  return { configPath, config, refs: config ? listChecks(config) : [], checklists, problems };
}

/** Used when no template loads: every check, load balancer first. */
export const FALLBACK_CHECKLIST: Checklist = {
  name: 'built-in',
  description: 'Load balancer first, then the usual red herrings (no checklist template could be loaded).',
  default: true,
  match: [],
  items: CHECK_IDS.map((c) => ({ id: c, label: c, check: c })),
};

/** The checklist for an incident: the most specific match among its alerts' labels, else the default. */
export function chooseChecklist(setup: DiagnosticsSetup, inc: Incident): Checklist {
  const alerts = [...inc.alerts].sort(
    (a, b) => Number(b.status === 'firing') - Number(a.status === 'firing'),
  );
  for (const a of alerts) {
    const c = selectChecklist(setup.checklists, a.labels);
    if (c && !c.default) return c;
  }
  return selectChecklist(setup.checklists, {}) ?? setup.checklists[0] ?? FALLBACK_CHECKLIST;
}

const refKey = (r: { checkId: string; target: string }) => `${r.checkId}/${r.target}`;

/** A BullMQ-safe job id (no `:`, not all digits) for a check of a run; a hash keeps odd target names distinct. */
function checkJobId(id: IncidentId, ref: { checkId: string; target: string }, run: number): string {
  const h = createHash('sha1').update(ref.target).digest('hex').slice(0, 8);
  const safe = ref.target.replace(/[^A-Za-z0-9_-]/g, '-').slice(0, 40);
  return `check-${id}-${ref.checkId}-${safe}-${h}-${run}`;
}

function selected(ref: CheckRef, only: string[] | undefined): boolean {
  return (
    !only || only.some((o) => o === ref.checkId || o === `${ref.checkId}:${ref.target}` || o === ref.target)
  );
}

/** The configured (check, target) pairs that `only` (check ids, `check:target` refs or targets) selects. */
export function matchingRefs(setup: DiagnosticsSetup, only: string[]): CheckRef[] {
  return setup.refs.filter((r) => selected(r, only));
}

/** The (check, target) pairs a run covers: the checklist's automated items (or `only`, which may name any check). */
function refsForRun(setup: DiagnosticsSetup, checklist: Checklist, only?: string[]): CheckRef[] {
  const onList = new Set(checklist.items.flatMap((i) => (i.check ? [i.check] : [])));
  return setup.refs.filter((r) => (only ? selected(r, only) : onList.has(r.checkId)));
}

async function checklistOf(
  deps: Deps,
  id: IncidentId,
  setup: DiagnosticsSetup,
  inc: Incident,
): Promise<Checklist> {
  const name = (await deps.store.meta(id))['checklist-name'];
  const found = name
    ? (setup.checklists.find((c) => c.name === name) ??
      (name === FALLBACK_CHECKLIST.name ? FALLBACK_CHECKLIST : undefined))
    : undefined;
  if (found) return found;
  const chosen = chooseChecklist(setup, inc);
  // The first choice sticks: a label that changes later must not swap the checklist under people's ticks.
  await deps.store.setMetaIfAbsent(id, 'checklist-name', chosen.name);
  const again = (await deps.store.meta(id))['checklist-name'];
  return setup.checklists.find((c) => c.name === again) ?? chosen;
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

/** The longest window a check reads: an alert that started days ago must not make every check scan days of log. */
export const MAX_WINDOW_MS = 6 * 3600_000;

/**
 * The window a check looks at, ending now. Run 1 (on open) reaches back LOOKBACK_MS before the incident or
 * its first alert, so it sees how the trouble started; a re-run looks at the last LOOKBACK_MS, so a fix shows
 * up instead of being averaged with the hours before it. Never longer than MAX_WINDOW_MS.
 */
export function incidentWindow(inc: Incident, now: Date, run = 1): { from: Date; to: Date } {
  const starts = [inc.declaredAt, ...inc.alerts.map((a) => a.startsAt)].map((t) => new Date(t).getTime());
  const recent = now.getTime() - LOOKBACK_MS;
  const from = run <= 1 ? Math.min(recent, Math.min(...starts) - LOOKBACK_MS) : recent;
  return { from: new Date(Math.max(from, now.getTime() - MAX_WINDOW_MS)), to: now };
}

const RED_HERRINGS = new Set<HypothesisCategory>(['database', 'traffic-surge', 'network']);
const LB_CHECKS = new Set(['pool-health', 'traffic-distribution', 'routing', 'recent-change']);

/** True when a result is evidence on an open red-herring hypothesis: a failing LB check, or a check that rules its category out. */
export function bearsOnSuspicion(r: CheckResult, category: HypothesisCategory): boolean {
  const lbFailing =
    LB_CHECKS.has(r.checkId) &&
    (r.verdict === 'fail' || r.verdict === 'warn') &&
    r.bears.some((b) => b.hypothesis === 'load-balancer' && b.effect === 'supports');
  const against =
    r.verdict === 'pass' && r.bears.some((b) => b.hypothesis === category && b.effect === 'rules-out');
  return lbFailing || against;
}

/** The bot notes a new result earns: one per open database/DDoS/network hypothesis it bears on, from `nudgeFor`. */
export function nudgesFor(inc: Incident, r: CheckResult, at: string): NewEntry[] {
  const out: NewEntry[] = [];
  for (const h of inc.hypotheses) {
    if (h.state !== 'suspected' || !RED_HERRINGS.has(h.category) || !bearsOnSuspicion(r, h.category))
      continue;
    const text = nudgeFor({ ...inc, checks: [r] }, h.category);
    if (text)
      out.push({
        kind: 'note',
        incidentId: inc.id,
        at,
        actor: { type: 'bot' },
        source: 'bot',
        text: `${text} (re ${h.id}: ${h.text})`,
      });
  }
  return out;
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
  if (!(CHECK_IDS as readonly string[]).includes(p.checkId)) return { dropped: `unknown check ${p.checkId}` };
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
    { checkId: p.checkId as CheckId, target: p.target },
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

/** Why an automated item has no target, and what to configure. */
function skippedBecause(setup: DiagnosticsSetup, checkId: string): string {
  if (!setup.configPath)
    return 'DIAGNOSTICS_CONFIG is not set: point it at a targets YAML file (load balancers, probes) and restart; see README, "Diagnostics"';
  if (!(CHECK_IDS as readonly string[]).includes(checkId))
    return `unknown check "${checkId}" in the checklist template (known: ${CHECK_IDS.join(', ')})`;
  const file = setup.configPath;
  switch (checkId) {
    case 'database':
      return `no \`probes.database\` in ${file} (postgres url or tcp host/port)`;
    case 'endpoints':
      return `no \`probes.endpoints\` in ${file}`;
    case 'traffic-volume':
      return `no load balancer in ${file} has an access log (\`log:\` / \`accessLog:\`)`;
    case 'recent-change':
      return `no load balancer in ${file} has a \`config:\` file`;
    default:
      return `no usable load balancer in ${file}${setup.problems.length ? ' (see the problems above)' : ''}`;
  }
}

/** Builds the checklist view from the timeline (latest result per check and target, ticks) and the pending marks. */
export async function checklistView(
  deps: Deps,
  id: IncidentId,
  setup: DiagnosticsSetup,
  checklist: Checklist,
): Promise<ChecklistView> {
  const [entries, meta] = await Promise.all([deps.store.entries(id), deps.store.meta(id)]);
  const latest = new Map<string, { result: CheckResult; seq: number }>();
  const ticks = new Map<string, Extract<TimelineEntry, { kind: 'checklist_item' }>>();
  for (const e of entries) {
    if (e.kind === 'check_result') latest.set(refKey(e.result), { result: e.result, seq: e.seq });
    if (e.kind === 'checklist_item') ticks.set(e.itemId, e);
  }
  const row = (ref: { checkId: string; target: string }): CheckRow => {
    const key = refKey(ref);
    const last = latest.get(key);
    const q = meta.checksQueued[key];
    const queuedAt = q ? Number(q.split(':')[1]) : undefined;
    const pending = queuedAt !== undefined && (!last || last.seq <= queuedAt);
    return {
      target: ref.target,
      state: pending ? 'pending' : (last?.result.verdict ?? 'skipped'),
      result: last?.result,
    };
  };
  const covered = new Set<string>();
  const items = checklist.items.map((item): AutomatedItemView | ManualItemView => {
    if (!item.check) {
      const t = ticks.get(item.id);
      return {
        kind: 'manual',
        id: item.id,
        label: item.label,
        hint: item.hint,
        checked: t?.checked ?? false,
        by: t?.checked && t.actor.type === 'user' ? t.actor.id : undefined,
        at: t?.at,
      };
    }
    covered.add(item.check);
    // Configured targets first, then any other target with a result on the timeline (shown, not hidden).
    const targets = new Set(setup.refs.filter((r) => r.checkId === item.check).map((r) => r.target));
    for (const l of latest.values()) if (l.result.checkId === item.check) targets.add(l.result.target);
    return {
      kind: 'automated',
      id: item.id,
      label: item.label,
      checkId: item.check,
      rows: [...targets].map((target) => row({ checkId: item.check!, target })),
      skippedBecause: targets.size === 0 ? skippedBecause(setup, item.check) : undefined,
    };
  });
  const extra = [...latest.values()].filter((l) => !covered.has(l.result.checkId)).map((l) => row(l.result));
  const last = [...latest.values()].sort((a, b) => b.seq - a.seq)[0]?.result.window;
  return {
    incidentId: id,
    name: checklist.name,
    description: checklist.description,
    items,
    extra,
    problems: setup.problems,
    run: Number(meta['checklist-run'] ?? 1),
    window: last,
  };
}

const RENDER_LOCK_MS = 60_000;

/**
 * Updates the checklist message in place from the folded timeline. Serialized per incident: a caller bumps
 * the version and either takes the lock or leaves the work to the holder, who re-renders until the version
 * it rendered is still the latest; so two results arriving together never overwrite each other's render.
 */
export async function renderChecklist(deps: Deps, id: IncidentId): Promise<void> {
  const slack = slackOf(deps);
  const lock = { kind: 'checklist-render', incidentId: id } as const;
  await deps.store.incrementMeta(id, 'checklist-version');
  const token = await deps.store.acquireLock(lock, RENDER_LOCK_MS);
  if (!token) return;
  let released = false;
  try {
    while (!released) {
      const meta = await deps.store.meta(id);
      const version = meta['checklist-version'] ?? '';
      const ts = meta['checklist-ts'];
      const channel = meta['checklist-channel'];
      const loaded = await deps.store.load(id);
      if (ts && channel && loaded) {
        const setup = await diagnosticsSetup(deps);
        const checklist = await checklistOf(deps, id, setup, loaded.incident);
        await slack.update(channel, ts, checklistMessage(await checklistView(deps, id, setup, checklist)));
      }
      released = await deps.store.releaseRenderLockIfUnchanged(id, token, version);
    }
  } finally {
    if (!released) await deps.store.releaseLock(lock, token);
  }
}

/**
 * Records a tick or untick of a manual checklist item (`checklist_item` entry, once per Slack action and only
 * when it changes the state), then queues a re-render. Throws DomainError for a channel that is no incident's.
 */
export async function recordChecklistTick(
  deps: Deps,
  a: { channelId: string; itemId: string; checked: boolean; userId: string; actionTs: string },
): Promise<boolean> {
  const id = await incidentOfChannel(deps, a.channelId);
  const setup = await diagnosticsSetup(deps);
  const name = (await deps.store.meta(id))['checklist-name'];
  const checklist = setup.checklists.find((c) => c.name === name);
  const item = checklist?.items.find((i) => i.id === a.itemId && !i.check);
  if (!item) {
    deps.log.warn({ id, itemId: a.itemId }, 'checkbox for an item not on the incident’s checklist');
    return false;
  }
  const rec = await mutate(
    deps,
    id,
    (inc) =>
      (inc.checklist[item.id] ?? false) === a.checked
        ? []
        : [
            {
              kind: 'checklist_item',
              incidentId: id,
              at: deps.now().toISOString(),
              actor: { type: 'user', id: a.userId },
              source: 'button',
              itemId: item.id,
              label: item.label,
              checked: a.checked,
            },
          ],
    { claimKey: `tick-${id}-${item.id}-${a.actionTs}` },
  );
  const seq = rec.seqs.at(-1);
  if (seq === undefined) return false;
  await deps.jobs.enqueue('render-checklist', { incidentId: id }, { jobId: `checklist-${id}-${seq}` });
  return true;
}
