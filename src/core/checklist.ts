import { z } from 'zod';
import { CHECK_IDS } from './check-ids.js';
import type { Incident } from './incident.js';

/** One checklist item: automated (`check: <checkId>`, run by the bot) or manual (a person ticks it). */
export const ChecklistItem = z
  .object({
    id: z.string().regex(/^[a-z0-9-]+$/, 'lowercase letters, digits and -'),
    label: z.string().min(1),
    check: z.string().min(1).optional(),
    manual: z.boolean().optional(),
    /** What to do or look at, for manual items. */
    hint: z.string().optional(),
  })
  .refine((i) => (i.check !== undefined) !== (i.manual === true), {
    message: 'an item has either check: <checkId> or manual: true',
  });
export type ChecklistItem = z.infer<typeof ChecklistItem>;

/**
 * A checklist template (templates/checklists/*.yml). `match` is a list of alternatives; each maps alert label
 * names to an accepted value or list of values, and matches when every label in it does.
 */
export const Checklist = z.object({
  name: z.string().min(1),
  description: z.string().optional(),
  default: z.boolean().default(false),
  match: z.array(z.record(z.string(), z.union([z.string(), z.array(z.string())]))).default([]),
  items: z.array(ChecklistItem).min(1),
});
export type Checklist = z.infer<typeof Checklist>;

/**
 * Picks the checklist for an alert's labels: the one whose matching alternative names the most labels
 * (most specific), ties going to the earlier checklist; otherwise the one marked `default`, else undefined.
 */
export function selectChecklist(
  checklists: Checklist[],
  labels: Record<string, string>,
): Checklist | undefined {
  let best: { c: Checklist; score: number } | undefined;
  for (const c of checklists) {
    for (const alt of c.match) {
      const entries = Object.entries(alt);
      const ok = entries.every(
        ([k, v]) => labels[k] !== undefined && (Array.isArray(v) ? v.includes(labels[k]) : v === labels[k]),
      );
      if (ok && entries.length > 0 && (!best || entries.length > best.score))
        best = { c, score: entries.length };
    }
  }
  return best?.c ?? checklists.find((c) => c.default);
}

/** Used when no template loads: every check, load balancer first. */
export const FALLBACK_CHECKLIST: Checklist = {
  name: 'built-in',
  description: 'Load balancer first, then the usual red herrings (no checklist template could be loaded).',
  default: true,
  match: [],
  items: CHECK_IDS.map((c) => ({ id: c, label: c, check: c })),
};

/** The checklist for an incident: the most specific match among its alerts' labels (firing first), else the default. */
export function chooseChecklist(checklists: Checklist[], inc: Incident): Checklist {
  const alerts = [...inc.alerts].sort(
    (a, b) => Number(b.status === 'firing') - Number(a.status === 'firing'),
  );
  for (const a of alerts) {
    const c = selectChecklist(checklists, a.labels);
    if (c && !c.default) return c;
  }
  return selectChecklist(checklists, {}) ?? checklists[0] ?? FALLBACK_CHECKLIST;
}
