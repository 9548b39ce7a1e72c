import { z } from 'zod';
import { type Alert, type AlertBatch, type AlertSource, AlertStatus, StringMap, truncate } from './alert.js';
import { isMoreSevere, Severity } from './incident-model.js';

/** What is recorded per alert of a group (by fingerprint), to tell changes from re-sends. */
export const AlertState = z.object({
  status: AlertStatus,
  startsAt: z.iso.datetime(),
  endsAt: z.iso.datetime().optional(),
  /** While firing: the most severe severity this firing episode has asked for (absent: none known). */
  severity: Severity.optional(),
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

/**
 * A firing alert asking for a more severe severity than its firing episode asked for before (a new
 * alert or episode that asks at all counts): what may raise the incident's severity.
 */
export interface AlertAsk {
  fingerprint: string;
  name: string;
  /** Start of the firing episode (ISO 8601 UTC), as recorded for the group. */
  startsAt: string;
  severity: Severity;
  /** The field and word that asked (`severity=critical`). */
  because: string;
}

/** What one batch does to a group: the changes to record, the states to store, and whether all is resolved. */
export interface Correlation {
  /** Distinct state changes, in batch order; empty for a re-send. */
  changes: AlertChange[];
  /** New severity asks of firing alerts, in batch order; empty for a re-send or a less severe ask. */
  asks: AlertAsk[];
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
  if (a.status === 'resolved')
    return { status: 'resolved', startsAt: a.startsAt, endsAt: a.endsAt ?? receivedAt };
  return a.severityAsk
    ? { status: 'firing', startsAt: a.startsAt, severity: a.severityAsk.severity }
    : { status: 'firing', startsAt: a.startsAt };
}

function askOf(a: Alert, startsAt: string): AlertAsk | undefined {
  if (a.status !== 'firing' || !a.severityAsk) return undefined;
  return { fingerprint: a.fingerprint, name: a.name, startsAt, ...a.severityAsk };
}

/**
 * Compares a batch with the group's recorded alert states (times ISO 8601 UTC). Rules, per alert:
 * new and firing → `alert_fired`; new and resolved → no change (we never saw it fire), but it is
 * recorded; firing → resolved → `alert_resolved`; resolved → firing with a later `startsAt` →
 * `alert_fired` (a new episode); same status again → nothing; an alert whose `startsAt` is earlier
 * than the recorded one is a late delivery of an older episode → nothing.
 *
 * Severity: a firing alert (new, a new episode, or still firing) whose `severityAsk` is more severe
 * than its episode asked before becomes an ask, and the state keeps the most severe ask; resolved,
 * late and less severe alerts ask nothing. A `severityOnly` batch only does that, for alerts the
 * group has firing: it changes and records nothing else.
 */
export function correlate(batch: AlertBatch, previous: AlertStates): Correlation {
  const next: AlertStates = { ...previous };
  const changes: AlertChange[] = [];
  const asks: AlertAsk[] = [];
  const ask = (a: Alert, startsAt: string) => {
    const x = askOf(a, startsAt);
    if (x) asks.push(x);
  };
  for (const a of batch.alerts) {
    const prev = Object.hasOwn(next, a.fingerprint) ? next[a.fingerprint] : undefined;
    if (batch.severityOnly && prev?.status !== 'firing') continue;
    if (prev === undefined) {
      if (a.status === 'firing') changes.push(fired(a));
      next[a.fingerprint] = stateOf(a, batch.receivedAt);
      ask(a, a.startsAt);
      continue;
    }
    if (Date.parse(a.startsAt) < Date.parse(prev.startsAt)) continue;
    if (prev.status === a.status) {
      // Still firing (a re-send, a priority update, a generic alert sent again with a new word).
      const sev = a.status === 'firing' ? a.severityAsk?.severity : undefined;
      if (sev && (!prev.severity || isMoreSevere(sev, prev.severity))) {
        next[a.fingerprint] = { ...prev, severity: sev };
        ask(a, prev.startsAt);
      }
      continue;
    }
    if (batch.severityOnly) continue;
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
      ask(a, a.startsAt);
    }
    // resolved → firing with the same startsAt: a retried delivery from before the resolve.
  }
  const states = Object.values(next);
  return {
    changes,
    asks,
    next,
    fullyResolved: states.length > 0 && states.every((s) => s.status === 'resolved'),
  };
}

/** The most severe of the asks (the first of them on a tie); undefined for none. */
export function topAsk(asks: readonly AlertAsk[]): AlertAsk | undefined {
  let top: AlertAsk | undefined;
  for (const a of asks) if (!top || isMoreSevere(a.severity, top.severity)) top = a;
  return top;
}

/** The timeline reason of a raise: `raised by alert HighErrorRate (severity=critical) from alertmanager`. */
export function raiseReason(ask: AlertAsk, source: AlertSource): string {
  return `raised by alert ${truncate(ask.name, 150)} (${ask.because}) from ${source}`;
}

/**
 * The correlation key of an alert's labels on `by` (ALERT_CORRELATE_BY, label names in order):
 * `service=checkout` (several: `service=checkout,env=prod`). Undefined when `by` is empty
 * (correlation off) or the alert lacks one of the labels or has it empty: it correlates on nothing.
 */
export function correlationKey(
  labels: Readonly<Record<string, string>>,
  by: readonly string[],
): string | undefined {
  if (by.length === 0) return undefined;
  const parts: string[] = [];
  for (const name of by) {
    const v = Object.hasOwn(labels, name) ? labels[name] : undefined;
    if (v === undefined || v === '') return undefined;
    parts.push(`${name}=${v}`);
  }
  return parts.join(',');
}

/**
 * The correlation keys of a batch's newly firing alerts (`alert_fired` changes), distinct, in batch
 * order; empty when none carries every label of `by`.
 */
export function firingCorrelationKeys(changes: readonly AlertChange[], by: readonly string[]): string[] {
  const out: string[] = [];
  for (const c of changes) {
    if (c.kind !== 'alert_fired') continue;
    const k = correlationKey(c.labels, by);
    if (k && !out.includes(k)) out.push(k);
  }
  return out;
}

/** The reason a group joined an incident, as the timeline and the alert post say it: `joined INC-3: same service=checkout`. */
export function joinedReason(incidentId: string, key: string): string {
  return `joined ${incidentId}: same ${key}`;
}
