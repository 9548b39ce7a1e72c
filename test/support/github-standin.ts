import type { IncomingMessage } from 'node:http';
import { OpenApiFixture } from './openapi.js';
import { type Answer, StandIn } from './standin-http.js';

// GitHub REST stand-in for the two operations incident-bot calls, shaped by GitHub's OpenAPI
// description (test/fixtures/outbound/github-issues.openapi.json, see SOURCE.md):
//   issues/create         https://docs.github.com/en/rest/issues/issues#create-an-issue
//   issues/list-for-repo  https://docs.github.com/en/rest/issues/issues#list-repository-issues
// Refusals follow GitHub's docs: 401 "Bad credentials" for an unknown token, 404 "Not Found" for a
// repository the token cannot see (GitHub hides private repos as 404), 403 for a read-only token,
// 422 for a body the schema refuses or an assignee that cannot be assigned
// (https://docs.github.com/en/rest/using-the-rest-api/troubleshooting-the-rest-api).

const ISSUES = '/repos/{owner}/{repo}/issues';
const DOCS = 'https://docs.github.com/rest/issues/issues#create-an-issue';

/** One issue as the stand-in keeps it. */
export interface StoredIssue {
  number: number;
  title: string;
  body: string;
  assignees: string[];
  created_at: string;
}

/** Per repository: issues, and which tokens may write (read-only tokens get 403 on create). */
interface Repo {
  issues: StoredIssue[];
  writers: Set<string>;
  readers: Set<string>;
  assignable: Set<string>;
}

/** A loopback GitHub REST API for follow-up issues; `fixture` validates every request and response. */
export class GitHubStandIn extends StandIn {
  readonly fixture = new OpenApiFixture('github-issues.openapi.json');
  private readonly repos = new Map<string, Repo>();
  private readonly tokens = new Set<string>();

  /** Adds a repository `owner/name` writable by `token` (and readable by `readOnly` tokens), with assignable logins. */
  addRepo(fullName: string, o: { token: string; readOnly?: string[]; assignable?: string[] }): void {
    this.tokens.add(o.token);
    for (const t of o.readOnly ?? []) this.tokens.add(t);
    this.repos.set(fullName.toLowerCase(), {
      issues: [],
      writers: new Set([o.token]),
      readers: new Set([o.token, ...(o.readOnly ?? [])]),
      assignable: new Set(o.assignable ?? []),
    });
  }

  /** The issues of a repository, oldest first. */
  issues(fullName: string): StoredIssue[] {
    return this.repos.get(fullName.toLowerCase())?.issues ?? [];
  }

  protected route(
    method: string,
    path: string,
    query: URLSearchParams,
    req: IncomingMessage,
    body: unknown,
  ): Answer {
    const m = /^\/repos\/([^/]+)\/([^/]+)\/issues$/.exec(path);
    if (!m)
      return {
        status: 404,
        body: { message: 'Not Found', documentation_url: 'https://docs.github.com/rest' },
      };
    const token = /^(?:token|bearer)\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    if (!token || !this.tokens.has(token)) {
      return {
        status: 401,
        body: {
          message: 'Bad credentials',
          documentation_url: 'https://docs.github.com/rest',
          status: '401',
        },
      };
    }
    const full = `${m[1]}/${m[2]}`;
    const repo = this.repos.get(full.toLowerCase());
    if (!repo?.readers.has(token)) {
      return { status: 404, body: { message: 'Not Found', documentation_url: DOCS, status: '404' } };
    }
    if (method === 'GET') return this.list(full, repo, query);
    if (method !== 'POST') return { status: 404, body: { message: 'Not Found', documentation_url: DOCS } };
    if (!repo.writers.has(token)) {
      return {
        status: 403,
        body: {
          message: 'Resource not accessible by personal access token',
          documentation_url: DOCS,
          status: '403',
        },
      };
    }
    const invalid = this.fixture.request(ISSUES, 'post', body);
    if (invalid) {
      return {
        status: 422,
        body: { message: `Invalid request.\n\n${invalid}`, documentation_url: DOCS, status: '422' },
      };
    }
    const b = body as { title: string | number; body?: string; assignees?: string[] };
    const bad = (b.assignees ?? []).find((a) => !repo.assignable.has(a));
    if (bad) {
      return {
        status: 422,
        body: {
          message: 'Validation Failed',
          errors: [{ value: bad, resource: 'Issue', field: 'assignees', code: 'invalid' }],
          documentation_url: DOCS,
          status: '422',
        },
      };
    }
    const issue: StoredIssue = {
      number: repo.issues.length + 1,
      title: String(b.title),
      body: b.body ?? '',
      assignees: b.assignees ?? [],
      created_at: new Date().toISOString().replace(/\.\d+Z$/, 'Z'),
    };
    repo.issues.push(issue);
    return {
      status: 201,
      body: this.render(full, issue),
      headers: { location: `${this.url}/repos/${full}/issues/${issue.number}` },
    };
  }

  private list(full: string, repo: Repo, q: URLSearchParams): Answer {
    const since = q.get('since');
    const state = q.get('state') ?? 'open';
    if (!['open', 'closed', 'all'].includes(state)) {
      return { status: 422, body: { message: 'Validation Failed', documentation_url: DOCS, status: '422' } };
    }
    const perPage = Math.min(100, Number(q.get('per_page') ?? 30));
    const page = Number(q.get('page') ?? 1);
    let list = repo.issues.filter((i) => !since || Date.parse(i.created_at) >= Date.parse(since) - 1000);
    list = q.get('direction') === 'asc' ? list : [...list].reverse();
    const slice = list.slice((page - 1) * perPage, page * perPage);
    return { status: 200, body: slice.map((i) => this.render(full, i)) };
  }

  /** An issue as GitHub returns it: the description's own example with this issue's fields. */
  render(full: string, i: StoredIssue): unknown {
    const ex = this.fixture.example('issue') as Record<string, unknown>;
    const user = ex.user as Record<string, unknown>;
    return {
      ...ex,
      id: 1000 + i.number,
      number: i.number,
      title: i.title,
      body: i.body,
      state: 'open',
      url: `${this.url}/repos/${full}/issues/${i.number}`,
      html_url: `https://github.com/${full}/issues/${i.number}`,
      repository_url: `${this.url}/repos/${full}`,
      assignee: i.assignees[0] ? { ...user, login: i.assignees[0] } : null,
      assignees: i.assignees.map((login) => ({ ...user, login })),
      labels: [],
      milestone: null,
      pull_request: undefined,
      comments: 0,
      closed_at: null,
      closed_by: null,
      created_at: i.created_at,
      updated_at: i.created_at,
    };
  }
}
