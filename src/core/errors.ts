/** Codes for domain errors; each becomes one user-facing reply at the boundary. */
export type DomainErrorCode =
  | 'INVALID_TRANSITION'
  | 'INCIDENT_CLOSED'
  | 'INCIDENT_NOT_FOUND'
  | 'NOT_AN_INCIDENT_CHANNEL'
  | 'HYPOTHESIS_NOT_FOUND'
  | 'NO_CHANGE'
  | 'BAD_INPUT'
  /** GitHub, Jira or PagerDuty refused a request for good (issue 14); the channel was told what to fix. */
  | 'OUTBOUND_REFUSED'
  | 'NOT_ALLOWED';

/** A domain error with a code, the id involved, and a hint that says what to do next. */
export class DomainError extends Error {
  constructor(
    readonly code: DomainErrorCode,
    message: string,
    readonly hint?: string,
  ) {
    super(message);
    this.name = 'DomainError';
  }
}

/**
 * Thrown by a job step that cannot run yet (another worker holds the incident's delivery lock, an
 * alert group is busy, what it follows is not posted yet): the worker puts the job back as delayed
 * for `delayMs` without spending one of its attempts.
 */
export class RetryLater extends Error {
  constructor(
    message: string,
    readonly delayMs = 1000,
  ) {
    super(message);
    this.name = 'RetryLater';
  }
}

/**
 * A change that was recorded on the timeline, but whose follow-up (queueing the channel post,
 * the close's follow-up work) failed: the reply must say it was recorded, and the rest is
 * finished by a retry or the sweeper.
 */
export class RecordedButIncomplete extends Error {
  constructor(
    readonly incidentId: string,
    readonly seqs: number[],
    override readonly cause: unknown,
  ) {
    super(
      `${incidentId}: recorded as #${seqs.join(', #')}, but its follow-up failed: ${(cause as Error)?.message ?? cause}`,
    );
    this.name = 'RecordedButIncomplete';
  }
}

/**
 * Slack refused a call for good (an archived or missing channel, a guest, a workspace rule): retrying
 * gives the same answer. `code` is Slack's `error`, `method` the Web API method. Flows record it,
 * tell the people it affects, and go on.
 */
export class SlackRefused extends Error {
  constructor(
    readonly method: string,
    readonly code: string,
  ) {
    super(`Slack refused ${method}: ${code}`);
    this.name = 'SlackRefused';
  }
}
