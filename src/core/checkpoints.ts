/**
 * Step boundaries of the multi-step transitions (declare, close, alert ingestion), named so a
 * fault-injection test can kill the process at exactly one of them (FAULT_CRASH_AT) instead of
 * guessing with sleeps. Production code calls the checkpoint hook at each; it does nothing unless
 * the setting names it.
 */
export const CHECKPOINTS = [
  /** The directory reserved INC-n (indexes, claim, group binding); its timeline is not written yet. */
  'declare:reserved',
  /** The declared entry is on the timeline; the pending note in the directory is not dropped yet. */
  'declare:written',
  /** The incident exists; its channel setup is not queued yet. */
  'declare:recorded',
  /** The `closed` entry and the owed marks are written; nothing of the follow-up has run. */
  'close:recorded',
  /** Reminders are cancelled; the postmortem job is not queued yet. */
  'close:reminders-cancelled',
  /** The postmortem draft is queued; the incident is still in the open index. */
  'close:postmortem-queued',
  /** The incident left the open index and its alert group is released; `close-owed` is not cleared yet. */
  'close:indexes-left',
  /** An alert delivery declared its incident; the alert changes are not appended yet. */
  'ingest:declared',
  /** The alert changes are appended; the group's alert states are not saved yet. */
  'ingest:appended',
] as const;
export type Checkpoint = (typeof CHECKPOINTS)[number];
