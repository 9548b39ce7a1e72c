import { z } from 'zod';
import { type Alert, type AlertBatch, AlertStatus, StringMap } from './alert.js';

/** What is recorded per alert of a group (by fingerprint), to tell changes from re-sends. */
export const AlertState = z.object({
  status: AlertStatus,
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime().optional(),
});
export type AlertState = z.infer<typeof AlertState>;

/** A group's recorded alert states, by fingerprint. */
export const AlertStates = z.record(z.string(), AlertState);
export type AlertStates = z.infer<typeof AlertStates>;

/** A change of one alert's state, in the shape of the `alert_fired`/`alert_resolved` timeline entries. */
export const AlertChange = z.discriminatedUnion('kind', [
  z.object({
    kind: z.literal('alert_fired'),
    fingerprint: z.string(),
    name: z.string(),
    labels: StringMap,
    annotations: StringMap,
    startsAt: z.iso.datetime(),
    generatorURL: z.string().optional(),
  }),
  z.object({
    kind: z.literal('alert_resolved'),
    fingerprint: z.string(),
    name: z.string(),
    labels: StringMap,
    endsAt: z.iso.datetime(),
  }),
]);
export type AlertChange = z.infer<typeof AlertChange>;

/** What one batch does to a group: the changes to record, the states to store, and whether all is resolved. */
export interface Correlation {
  /** Distinct state changes, in batch order; empty for a re-send. */
  changes: AlertChange[];
  /** The group's states after the batch (previous states plus this batch's). */
  next: AlertStates;
  /** True when the group has at least one known alert and every known alert is resolved. */
  fullyResolved: boolean;
}

function fired(a: Alert): AlertChange {
  const c: AlertChange = {
    kind: 'alert_fired',
    fingerprint: a.fingerprint,
    name: a.name,
    labels: a.labels,
    annotations: a.annotations,
    startsAt: a.startsAt,
  };
  if (a.generatorURL) c.generatorURL = a.generatorURL;
  return c;
}

function stateOf(a: Alert, receivedAt: string): AlertState {
  return a.status === 'resolved'
    ? { status: 'resolved', startsAt: a.startsAt, endsAt: a.endsAt ?? receivedAt }
    : { status: 'firing', startsAt: a.startsAt };
}

/**
 * Compares a batch with the group's recorded alert states (times ISO 8601 UTC). Rules, per alert:
 * new and firing → `alert_fired`; new and resolved → no change (we never saw it fire), but it is
 * recorded; firing → resolved → `alert_resolved`; resolved → firing with a later `startsAt` →
 * `alert_fired` (a new episode); same status again → nothing; an alert whose `startsAt` is earlier
 * than the recorded one is a late delivery of an older episode → nothing.
 */
export function correlate(batch: AlertBatch, previous: AlertStates): Correlation {
  const next: AlertStates = { ...previous };
  const changes: AlertChange[] = [];
  for (const a of batch.alerts) {
    const prev = Object.hasOwn(next, a.fingerprint) ? next[a.fingerprint] : undefined;
    if (prev === undefined) {
      if (a.status === 'firing') changes.push(fired(a));
      next[a.fingerprint] = stateOf(a, batch.receivedAt);
      continue;
    }
    if (Date.parse(a.startsAt) < Date.parse(prev.startsAt)) continue;
    if (prev.status === a.status) continue;
    if (a.status === 'resolved') {
      const state = stateOf(a, batch.receivedAt);
      changes.push({
        kind: 'alert_resolved',
        fingerprint: a.fingerprint,
        name: a.name,
        labels: a.labels,
        endsAt: state.endsAt ?? batch.receivedAt,
      });
      next[a.fingerprint] = state;
    } else if (Date.parse(a.startsAt) > Date.parse(prev.startsAt)) {
      changes.push(fired(a));
      next[a.fingerprint] = stateOf(a, batch.receivedAt);
    }
    // resolved → firing with the same startsAt: a retried delivery from before the resolve.
  }
  const states = Object.values(next);
  return { changes, next, fullyResolved: states.length > 0 && states.every((s) => s.status === 'resolved') };
}
