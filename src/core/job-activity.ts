// Job names as the job queue spells them (src/jobs/queues.ts); core cannot import it, so a name
// missing here reads as itself rather than failing.
const ACTIVITY: Record<string, string> = {
  'setup-channel': 'opening the incident channel',
  deliver: 'posting the timeline to the channel',
  'record-message': 'adding a pinned message to the timeline',
  'ingest-alert': 'recording an alert webhook',
  'run-check': 'running a diagnostic check',
  'run-diagnostics': 'starting the diagnostics',
  'render-checklist': 'updating the diagnostics checklist',
  'draft-postmortem': 'drafting the postmortem',
  'alert-notice': 'posting the all-resolved notice',
  reminder: 'sending a reminder',
  'push-postmortem': 'pushing the postmortem draft to git',
  'outgoing-webhook': 'sending an outgoing webhook',
  'archive-channel': 'archiving the incident channel',
};

/** What a job was doing, for people: `drafting the postmortem` for `draft-postmortem`; an unknown name as `the <name> job`. */
export function jobActivity(job: string): string {
  return ACTIVITY[job] ?? `the ${job} job`;
}

/** `1 attempt`, `8 attempts`. */
export function attemptsText(n: number): string {
  return `${n} attempt${n === 1 ? '' : 's'}`;
}
