import type { Incident } from './incident.js';

/** The services incident-bot sends to (issue 14): issue trackers and PagerDuty. */
export type OutboundService = 'github' | 'jira' | 'pagerduty';

/**
 * What went wrong with a request to GitHub, Jira or PagerDuty, in the terms people fix it by: a bad
 * credential (`auth`), missing permission (`forbidden`), a repository/project that does not exist or
 * cannot be seen (`not-found`), a request the vendor refuses (`invalid`), a rate limit
 * (`rate-limited`, with Retry-After seconds), or a failure worth retrying (`unavailable` for 5xx,
 * `timeout`, `network`).
 */
export type OutboundProblem =
  | 'auth'
  | 'forbidden'
  | 'not-found'
  | 'invalid'
  | 'rate-limited'
  | 'unavailable'
  | 'timeout'
  | 'network';

/** A refused or failed request to an outside service; `status` is the HTTP status when there was one. */
export class OutboundError extends Error {
  constructor(
    readonly service: OutboundService,
    readonly problem: OutboundProblem,
    message: string,
    readonly status?: number,
    /** Seconds the vendor asked to wait (Retry-After), for `rate-limited`. */
    readonly retryAfterS?: number,
  ) {
    super(message);
    this.name = 'OutboundError';
  }

  /** True when retrying the same request later can succeed (rate limits, 5xx, timeouts, network). */
  get retryable(): boolean {
    return ['rate-limited', 'unavailable', 'timeout', 'network'].includes(this.problem);
  }
}

/** How each service's settings are named, so a message can say which one to fix. */
const SETTINGS: Record<OutboundService, { auth: string; where: string }> = {
  github: { auth: 'GITHUB_TOKEN', where: 'FOLLOWUP_GITHUB_REPO' },
  jira: { auth: 'JIRA_EMAIL and JIRA_API_TOKEN', where: 'FOLLOWUP_JIRA_URL and FOLLOWUP_JIRA_PROJECT' },
  pagerduty: { auth: 'PAGERDUTY_ROUTING_KEYS', where: 'PAGERDUTY_ROUTING_KEYS' },
};

/**
 * The line people read in the channel for a failed request: what the service answered and what to
 * fix (`GitHub answered 401 (Bad credentials): GITHUB_TOKEN is wrong or expired; …`).
 */
export function whatToFix(err: OutboundError, where: string): string {
  const s = SETTINGS[err.service];
  const answered = `${err.status ? `answered ${err.status}` : 'failed'} (${err.message})`;
  switch (err.problem) {
    case 'auth':
      return `${answered}: ${s.auth} is wrong, expired or revoked; set a valid one and retry.`;
    case 'forbidden':
      return err.service === 'pagerduty'
        ? `${answered}: PagerDuty refused the integration key of ${where}; check PAGERDUTY_ROUTING_KEYS.`
        : `${answered}: the credentials in ${s.auth} may not do this on ${where}; give them write access to issues there and retry.`;
    case 'not-found':
      return `${answered}: ${where} does not exist or ${s.auth} cannot see it; check ${s.where}.`;
    case 'invalid':
      return err.service === 'pagerduty'
        ? `${answered}: the event was refused as invalid; check ${s.where} (an Events API v2 integration key is 32 characters).`
        : `${answered}: the request was refused as invalid; check ${s.where} and the follow-up text.`;
    case 'rate-limited':
      return `${answered}: rate limited${err.retryAfterS !== undefined ? `; retried after ${err.retryAfterS} s (Retry-After)` : ''}.`;
    case 'unavailable':
      return `${answered}: the service had an error; retried with backoff.`;
    case 'timeout':
      return `${answered}: no answer in time; retried (an issue it may have created is looked up first).`;
    case 'network':
      return `${answered}: could not reach it; retried with backoff.`;
  }
}

/**
 * The marker that identifies a follow-up's issue in the tracker (in the issue body, and as a Jira
 * label): after a timeout the bot looks for it before creating again.
 */
export function followupMarker(id: string, followupId: string): string {
  return `incident-bot-${id}-${followupId}`;
}

/** Title and Markdown body of a follow-up's issue; `channelUrl` links back to the incident channel. */
export function followupIssueText(
  inc: Pick<Incident, 'id' | 'title' | 'severity'>,
  f: { id: string; text: string },
  opts: { channelUrl?: string; ownerNote?: string },
): { title: string; body: string; marker: string } {
  const marker = followupMarker(inc.id, f.id);
  const title = f.text.length > 200 ? `${f.text.slice(0, 199)}…` : f.text;
  const body = [
    f.text,
    '',
    `Follow-up ${f.id} of ${inc.id} (${inc.severity}): ${inc.title}`,
    ...(opts.channelUrl ? [`Incident channel: ${opts.channelUrl}`] : []),
    ...(opts.ownerNote ? [opts.ownerNote] : []),
    '',
    `<!-- ${marker} -->`,
  ].join('\n');
  return { title, body, marker };
}

/** PagerDuty severity for an incident severity (https://developer.pagerduty.com/docs/events-api-v2/trigger-events). */
export function pagerSeverity(sev: Incident['severity']): 'critical' | 'error' | 'warning' | 'info' {
  return ({ SEV1: 'critical', SEV2: 'error', SEV3: 'warning', SEV4: 'info' } as const)[sev];
}

/** Parses `service=key,service2=key2` (PAGERDUTY_ROUTING_KEYS); returns an error text saying what to fix instead. */
export function parseRoutingKeys(value: string): Record<string, string> | string {
  const out: Record<string, string> = {};
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^([a-z0-9][a-z0-9_.-]*)=([A-Za-z0-9]+)$/i.exec(pair);
    if (!m)
      return `"${pair.replace(/=.*/, '=…')}" is not service=routing-key; write e.g. checkout=R0123…,payments=e93f…`;
    out[m[1]!.toLowerCase()] = m[2]!;
  }
  if (Object.keys(out).length === 0) return 'lists no service=routing-key pair';
  return out;
}

/** A link that opens a Slack channel (https://api.slack.com/reference/deep-linking#app_redirect). */
export function channelUrl(channelId: string): string {
  return `https://slack.com/app_redirect?channel=${encodeURIComponent(channelId)}`;
}
