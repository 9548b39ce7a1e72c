import { DomainError, RecordedButIncomplete } from '../core/errors.js';
import { applyEntry, type Incident, isOpen } from '../core/incident.js';
import type { IncidentId } from '../core/incident-model.js';
import type { NewEntry, TimelineEntry } from '../core/timeline.js';
import type { Deps } from './deps.js';
import { enqueueWebhooks } from './enqueue-webhooks.js';

/** Result of a recorded change: the incident after it, and the new entries' seqs (empty when a duplicate was ignored). */
export interface Recorded {
  incident: Incident;
  seqs: number[];
  duplicate: boolean;
}

const MAX_ATTEMPTS = 8;

/**
 * Reads the incident, lets `decide` turn its state into new entries (or throw a DomainError), and
 * appends them only if nobody changed the timeline meanwhile (retrying on conflict). With
 * `claimKey` the change happens at most once (Slack retries, double clicks). Then enqueues
 * delivery of the confirmations to the channel.
 */
export async function mutate(
  deps: Deps,
  id: IncidentId,
  decide: (inc: Incident) => NewEntry[],
  opts: { claimKey?: string; allowClosed?: boolean; transition?: 'close'; postmortem?: boolean } = {},
): Promise<Recorded> {
  for (let attempt = 1; attempt <= MAX_ATTEMPTS; attempt++) {
    // The cached fold plus the entries after it: O(new entries), not O(timeline), per command.
    const incident = await deps.store.current(id);
    if (!incident)
      throw new DomainError('INCIDENT_NOT_FOUND', `${id} does not exist`, 'Check the incident id.');
    if (!isOpen(incident) && !opts.allowClosed) {
      throw new DomainError(
        'INCIDENT_CLOSED',
        `${id} is closed`,
        'Start a new incident with `/incident start <title>`, or use `/incident postmortem` to re-render its draft.',
      );
    }
    const fresh = decide(structuredClone(incident));
    const guard = { expectedLength: incident.entryCount, claimKey: opts.claimKey };
    const closing = opts.transition === 'close' && fresh.length === 1 && fresh[0]!.kind === 'closed';
    const res = closing
      ? await deps.store.close(id, fresh[0] as Extract<NewEntry, { kind: 'closed' }>, {
          ...guard,
          postmortem: opts.postmortem,
        })
      : await deps.store.append(id, fresh, guard);
    if (res.ok) {
      const after = structuredClone(incident);
      fresh.forEach((e, i) => {
        applyEntry(after, { ...e, seq: res.seqs[i]! } as TimelineEntry);
      });
      if (fresh.length > 0) {
        // Recorded: from here on a failure must not be reported as "nothing was recorded".
        try {
          await deps.store.saveSnapshot(id, after);
          await enqueueDelivery(deps, id, res.seqs.at(-1)!);
        } catch (err) {
          throw new RecordedButIncomplete(id, res.seqs, err);
        }
      }
      return { incident: after, seqs: res.seqs, duplicate: false };
    }
    if (res.reason === 'duplicate') return { incident, seqs: [], duplicate: true };
    if (res.reason === 'not-found') throw new DomainError('INCIDENT_NOT_FOUND', `${id} does not exist`);
    deps.log.debug({ id, attempt }, 'timeline changed meanwhile; retrying');
  }
  throw new Error(`${id}: too much concurrent change, gave up after ${MAX_ATTEMPTS} attempts`);
}

/** Enqueues posting of the incident's undelivered entries; one job per new seq, so retries of the same append collapse. */
export async function enqueueDelivery(deps: Deps, id: IncidentId, seq: number): Promise<void> {
  await deps.jobs.enqueue('deliver', { incidentId: id }, { jobId: `deliver-${id}-${seq}` });
  // Issue 14: the same new entries go to each outgoing webhook, on a job chain of its own.
  await enqueueWebhooks(deps, id, seq);
}

/** Finds the incident of a channel, or throws NOT_AN_INCIDENT_CHANNEL with what to do instead. */
export async function incidentOfChannel(deps: Deps, channelId: string): Promise<IncidentId> {
  const id = await deps.store.incidentByChannel(channelId);
  if (!id) {
    throw new DomainError(
      'NOT_AN_INCIDENT_CHANNEL',
      'This channel is not an incident channel.',
      'Run this in the incident’s channel, or start one with `/incident start <title>`.',
    );
  }
  return id;
}
