import { Version3Client } from 'jira.js';
import { OutboundError } from '../core/outbound.js';
import type { TrackerIssue, TrackerPort } from '../flows/deps.js';
import { trackerAccount } from './owner-map.js';

/**
 * Follow-up issues in a Jira Cloud project through jira.js: `createIssue`
 * (POST /rest/api/3/issue, https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post)
 * with the marker as a label and in the description, and the enhanced JQL search
 * (POST /rest/api/3/search/jql, https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post)
 * by that label to find an issue an earlier, timed-out try created. Basic auth is the account's
 * e-mail and an API token (https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/).
 */
export class JiraTracker implements TrackerPort {
  readonly kind = 'jira' as const;
  readonly where: string;
  private readonly client: Version3Client;

  constructor(
    private readonly opts: {
      url: string;
      project: string;
      issueType: string;
      email: string;
      apiToken: string;
      timeoutMs: number;
      ownerMap?: string;
    },
  ) {
    this.where = `${opts.project} on ${opts.url}`;
    this.client = new Version3Client({
      host: opts.url.replace(/\/$/, ''),
      authentication: { basic: { email: opts.email, apiToken: opts.apiToken } },
      baseRequestConfig: { timeout: opts.timeoutMs },
    });
  }

  async create(issue: {
    title: string;
    body: string;
    marker: string;
    assignee?: string;
  }): Promise<TrackerIssue> {
    const fields = {
      project: { key: this.opts.project },
      issuetype: { name: this.opts.issueType },
      summary: issue.title.slice(0, 255),
      description: adf(issue.body),
      labels: ['incident-bot', issue.marker],
    };
    try {
      const created = await this.client.issues.createIssue({
        fields: { ...fields, ...(issue.assignee ? { assignee: { accountId: issue.assignee } } : {}) },
      });
      return this.issue(created.key);
    } catch (err) {
      const e = toOutboundError(err);
      // Jira answers 400 {"errors":{"assignee":"…"}} for an account that cannot be assigned here.
      if (issue.assignee && e.status === 400 && /assignee/i.test(e.message)) {
        try {
          const created = await this.client.issues.createIssue({ fields });
          return { ...this.issue(created.key), unassigned: `Jira refused ${issue.assignee} as assignee` };
        } catch (again) {
          throw toOutboundError(again);
        }
      }
      throw e;
    }
  }

  async findByMarker(marker: string, since: string): Promise<TrackerIssue | undefined> {
    // JQL dates are minutes in the site's zone: widen the window by a day, the label is exact anyway.
    const day = new Date(Date.parse(since) - 86_400_000).toISOString().slice(0, 10);
    try {
      const res = await this.client.issueSearch.searchForIssuesUsingJqlEnhancedSearchPost({
        jql: `project = "${this.opts.project}" AND labels = "${marker}" AND created >= "${day}" ORDER BY created ASC`,
        fields: ['summary', 'labels'],
        maxResults: 5,
      });
      const hit = res.issues?.[0];
      return hit?.key ? this.issue(hit.key) : undefined;
    } catch (err) {
      throw toOutboundError(err);
    }
  }

  accountFor(slackUser: string): Promise<{ account: string } | { why: string }> {
    return trackerAccount(this.opts.ownerMap, 'jira', slackUser);
  }

  private issue(key: string): TrackerIssue {
    return { key, url: `${this.opts.url.replace(/\/$/, '')}/browse/${key}` };
  }
}

/** Plain text as an Atlassian Document Format document, one paragraph per line (https://developer.atlassian.com/cloud/jira/platform/apis/document/structure/). */
function adf(text: string) {
  return {
    type: 'doc' as const,
    version: 1 as const,
    content: text
      .split('\n')
      .filter((line) => line.trim() !== '')
      .map((line) => ({ type: 'paragraph' as const, content: [{ type: 'text' as const, text: line }] })),
  };
}

/** jira.js's HttpException (status, Jira's ErrorCollection, the axios error as `cause`) as an OutboundError. */
export function toOutboundError(err: unknown): OutboundError {
  if (err instanceof OutboundError) return err;
  const e = err as {
    status?: number;
    code?: string;
    message?: string;
    response?: unknown;
    cause?: {
      code?: string;
      response?: { status?: number; headers?: Record<string, unknown>; data?: unknown };
    };
  };
  const axiosLike = e.cause?.response ? e.cause : (e as typeof e.cause);
  const res = axiosLike?.response;
  const code = e.code ?? e.cause?.code;
  if (!res) {
    if (code === 'ECONNABORTED' || code === 'ETIMEDOUT')
      return new OutboundError('jira', 'timeout', 'no answer in time');
    return new OutboundError('jira', 'network', e.message ?? String(err));
  }
  const status = res.status ?? 0;
  const data = res.data as { errorMessages?: string[]; errors?: Record<string, string> } | undefined;
  const detail =
    [
      ...(data?.errorMessages ?? []),
      ...Object.entries(data?.errors ?? {}).map(([k, v]) => `${k}: ${v}`),
    ].join('; ') || `HTTP ${status}`;
  if (status === 429) {
    // https://developer.atlassian.com/cloud/jira/platform/rate-limiting/: Retry-After in seconds.
    const wait = Number(res.headers?.['retry-after']);
    return new OutboundError('jira', 'rate-limited', detail, status, Number.isFinite(wait) ? wait : 60);
  }
  if (status === 401) return new OutboundError('jira', 'auth', detail, status);
  if (status === 403) return new OutboundError('jira', 'forbidden', detail, status);
  if (status === 404) return new OutboundError('jira', 'not-found', detail, status);
  // An unknown project key is a 400 about `project`: say "no such project", not "invalid".
  if (status === 400 && data?.errors?.project) return new OutboundError('jira', 'not-found', detail, status);
  if (status === 400 || status === 422) return new OutboundError('jira', 'invalid', detail, status);
  return new OutboundError('jira', 'unavailable', detail, status);
}
