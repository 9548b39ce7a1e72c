import type { CheckResult } from '../core/check.js';
import { CHECK_IDS, isCheckId } from '../core/check-ids.js';
import { type Checklist, chooseChecklist, FALLBACK_CHECKLIST } from '../core/checklist.js';
import type { Incident } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import type { TimelineEntry } from '../core/timeline.js';
import { type DiagnosticsSetup, diagnosticsSetup } from '../diagnostics/setup.js';
import {
  type AutomatedItemView,
  type ChecklistView,
  type CheckRow,
  checklistMessage,
  type ManualItemView,
} from '../slack/checklist-render.js';
import { type Deps, slackOf } from './deps.js';
import { incidentOfChannel, mutate } from './record.js';

/** The key of a (check, target) pair in the pending marks and the latest-result map: `pool-health/lb1`. */
export const refKey = (r: { checkId: string; target: string }) => `${r.checkId}/${r.target}`;

/** The incident's checklist: the one it was given first (kept in its meta), else chosen now and kept. */
export async function checklistOf(
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
  const chosen = chooseChecklist(setup.checklists, inc);
  // The first choice sticks: a label that changes later must not swap the checklist under people's ticks.
  await deps.store.setMetaIfAbsent(id, 'checklist-name', chosen.name);
  const again = (await deps.store.meta(id))['checklist-name'];
  return setup.checklists.find((c) => c.name === again) ?? chosen;
}

/** Why an automated item has no target, and what to configure. */
function skippedBecause(setup: DiagnosticsSetup, checkId: string): string {
  if (!setup.configPath)
    return 'DIAGNOSTICS_CONFIG is not set: point it at a targets YAML file (load balancers, probes) and restart; see README, "Diagnostics"';
  if (!isCheckId(checkId))
    return `unknown check "${checkId}" in the checklist template (known: ${CHECK_IDS.join(', ')})`;
  const file = setup.configPath;
  switch (checkId) {
    case 'database':
      return `no \`probes.database\` in ${file} (postgres url or tcp host/port)`;
    case 'endpoints':
      return `no \`probes.endpoints\` in ${file}`;
    case 'traffic-volume':
      return `no load balancer in ${file} has an access log (\`log:\` / \`accessLog:\`)`;
    case 'routing':
      return `no HAProxy or nginx load balancer in ${file} (Envoy /clusters and ELB target health carry no routes)`;
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
