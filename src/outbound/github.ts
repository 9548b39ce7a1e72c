import { Octokit } from '@octokit/rest';
import { OutboundError } from '../core/outbound.js';
import type { TrackerIssue, TrackerPort } from '../flows/deps.js';
import { trackerAccount } from './owner-map.js';

/** Pages of recent issues scanned for a marker (100 each) before concluding no earlier try created one. */
const FIND_PAGES = 5;

/**
 * Follow-up issues in a GitHub repository through Octokit: `issues.create`
 * (https://docs.github.com/en/rest/issues/issues#create-an-issue) and, to find an issue an earlier
 * try created before it timed out, `issues.listForRepo` with `since`
 * (https://docs.github.com/en/rest/issues/issues#list-repository-issues) scanned for the marker.
 * Listing rather than the search API: search is eventually consistent and can miss an issue created
 * seconds ago, which is exactly the one looked for.
 */
export class GitHubTracker implements TrackerPort {
  readonly kind = 'github' as const;
  readonly where: string;
  private readonly octokit: Octokit;
  private readonly owner: string;
  private readonly repo: string;

  constructor(opts: { repo: string; token: string; baseUrl: string; timeoutMs: number; ownerMap?: string }) {
    [this.owner, this.repo] = opts.repo.split('/') as [string, string];
    this.where = opts.repo;
    this.timeoutMs = opts.timeoutMs;
    this.ownerMap = opts.ownerMap;
    // No retry or throttling plugins: BullMQ retries the whole job, which looks for the issue first.
    this.octokit = new Octokit({
      auth: opts.token,
      baseUrl: opts.baseUrl.replace(/\/$/, ''),
      userAgent: 'incident-bot',
      log: { debug() {}, info() {}, warn() {}, error() {} },
    });
  }

  private readonly timeoutMs: number;
  private readonly ownerMap?: string;

  accountFor(slackUser: string): Promise<{ account: string } | { why: string }> {
    return trackerAccount(this.ownerMap, 'github', slackUser);
  }

  /** Creates the issue; a 422 about the assignee (not assignable here) creates it unassigned and says so. */
  async create(issue: {
    title: string;
    body: string;
    marker: string;
    assignee?: string;
  }): Promise<TrackerIssue> {
    try {
      return await this.createOnce(issue, issue.assignee);
    } catch (err) {
      const e = toOutboundError(err);
      if (issue.assignee && e.status === 422 && /assignee/i.test(e.message)) {
        const created = await this.createOnce(issue, undefined);
        return { ...created, unassigned: `GitHub refused ${issue.assignee} as assignee on ${this.where}` };
      }
      throw e;
    }
  }

  private async createOnce(
    issue: { title: string; body: string },
    assignee: string | undefined,
  ): Promise<TrackerIssue> {
    try {
      const res = await this.octokit.rest.issues.create({
        owner: this.owner,
        repo: this.repo,
        title: issue.title,
        body: issue.body,
        ...(assignee ? { assignees: [assignee] } : {}),
        request: { signal: AbortSignal.timeout(this.timeoutMs) },
      });
      return { key: `${this.where}#${res.data.number}`, url: res.data.html_url };
    } catch (err) {
      throw toOutboundError(err);
    }
  }

  async findByMarker(marker: string, since: string): Promise<TrackerIssue | undefined> {
    try {
      for (let page = 1; page <= FIND_PAGES; page++) {
        const res = await this.octokit.rest.issues.listForRepo({
          owner: this.owner,
          repo: this.repo,
          state: 'all',
          since,
          sort: 'created',
          direction: 'desc',
          per_page: 100,
          page,
          request: { signal: AbortSignal.timeout(this.timeoutMs) },
        });
        const hit = res.data.find((i) => !i.pull_request && i.body?.includes(marker));
        if (hit) return { key: `${this.where}#${hit.number}`, url: hit.html_url };
        if (res.data.length < 100) return undefined;
      }
      return undefined;
    } catch (err) {
      throw toOutboundError(err);
    }
  }
}

/** Octokit's RequestError (status, headers, GitHub's `message`) as an OutboundError. */
export function toOutboundError(err: unknown): OutboundError {
  if (err instanceof OutboundError) return err;
  const e = err as {
    status?: number;
    message?: string;
    name?: string;
    cause?: { name?: string; message?: string };
    response?: { headers?: Record<string, string | undefined>; data?: unknown };
  };
  const cause = e.cause?.name ?? e.name;
  if (cause === 'TimeoutError' || cause === 'AbortError')
    return new OutboundError('github', 'timeout', 'no answer in time');
  if (!e.response) return new OutboundError('github', 'network', e.message ?? String(err));
  const status = e.status ?? 0;
  const data = e.response.data as
    | { message?: string; errors?: { field?: string; code?: string }[] }
    | undefined;
  const detail =
    [data?.message, ...(data?.errors ?? []).map((x) => [x.field, x.code].filter(Boolean).join(' '))]
      .filter(Boolean)
      .join('; ') || `HTTP ${status}`;
  const h = e.response.headers ?? {};
  const retryAfter = Number(h['retry-after']);
  const resetIn = Number(h['x-ratelimit-reset']) - Math.floor(Date.now() / 1000);
  // Secondary rate limits answer 403 or 429 with Retry-After; the primary one 403/429 with
  // x-ratelimit-remaining: 0 and a reset time (docs.github.com/en/rest/using-the-rest-api/rate-limits-for-the-rest-api).
  // A secondary limit may come without either header: GitHub then asks to wait at least a minute.
  const limited =
    status === 403 && (h['retry-after'] || h['x-ratelimit-remaining'] === '0' || /rate limit/i.test(detail));
  if (status === 429 || limited) {
    const wait = Number.isFinite(retryAfter)
      ? retryAfter
      : Number.isFinite(resetIn)
        ? Math.max(1, resetIn)
        : 60;
    return new OutboundError('github', 'rate-limited', detail, status, wait);
  }
  if (status === 401) return new OutboundError('github', 'auth', detail, status);
  if (status === 403) return new OutboundError('github', 'forbidden', detail, status);
  if (status === 404 || status === 410) return new OutboundError('github', 'not-found', detail, status);
  if (status === 400 || status === 422) return new OutboundError('github', 'invalid', detail, status);
  return new OutboundError('github', 'unavailable', detail, status);
}
