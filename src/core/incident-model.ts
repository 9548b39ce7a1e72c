import { z } from 'zod';

/** Incident id as shown to people and used in keys: `INC-<n>`, n ≥ 1. */
export const IncidentId = z.string().regex(/^INC-\d+$/, 'expected an incident id like INC-42');
export type IncidentId = z.infer<typeof IncidentId>;

/** Severity, SEV1 (most severe) to SEV4. */
export const Severity = z.enum(['SEV1', 'SEV2', 'SEV3', 'SEV4']);
export type Severity = z.infer<typeof Severity>;

/** True when `a` is strictly more severe than `b` (SEV1 is the most severe). */
export function isMoreSevere(a: Severity, b: Severity): boolean {
  return Severity.options.indexOf(a) < Severity.options.indexOf(b);
}

/** Incident status; `closed` follows `resolved` once the team closes the incident. */
export const Status = z.enum(['investigating', 'identified', 'monitoring', 'resolved', 'closed']);
export type Status = z.infer<typeof Status>;

/** Roles a person can hold on an incident. */
export const Role = z.enum(['commander', 'comms']);
export type Role = z.infer<typeof Role>;

/** Who caused an entry: a Slack user, the bot itself, or an alert source. */
export const Actor = z.discriminatedUnion('type', [
  z.object({ type: z.literal('user'), id: z.string() }),
  z.object({ type: z.literal('bot') }),
  z.object({ type: z.literal('alert'), source: z.string() }),
]);
export type Actor = z.infer<typeof Actor>;

/** Where an entry came from. */
export const EntrySource = z.enum([
  'slash',
  'modal',
  'shortcut',
  'reaction',
  'button',
  'alert',
  'bot',
  'cli',
]);
export type EntrySource = z.infer<typeof EntrySource>;

/** Formats an incident number as its id (`7` → `INC-7`). */
export function incidentId(n: number): IncidentId {
  return `INC-${n}`;
}

/** Parses the number out of an incident id (`INC-7` → 7); throws on a malformed id. */
export function incidentNumber(id: IncidentId): number {
  return Number(IncidentId.parse(id).slice(4));
}
