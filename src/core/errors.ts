/** Codes for domain errors; each becomes one user-facing reply at the boundary. */
export type DomainErrorCode =
  | 'INVALID_TRANSITION'
  | 'INCIDENT_CLOSED'
  | 'INCIDENT_NOT_FOUND'
  | 'NOT_AN_INCIDENT_CHANNEL'
  | 'HYPOTHESIS_NOT_FOUND'
  | 'NO_CHANGE'
  | 'BAD_INPUT';

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
