import type { IncomingMessage } from 'node:http';
import { OpenApiFixture } from './openapi.js';
import { type Answer, StandIn } from './standin-http.js';

// Jira Cloud stand-in for createIssue and the enhanced JQL search, shaped by Atlassian's OpenAPI
// description (test/fixtures/outbound/jira-issues.openapi.json, see SOURCE.md):
//   POST /rest/api/3/issue       https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issues/#api-rest-api-3-issue-post
//   POST|GET /rest/api/3/search/jql https://developer.atlassian.com/cloud/jira/platform/rest/v3/api-group-issue-search/#api-rest-api-3-search-jql-post
// Auth is basic (e-mail:API token, https://developer.atlassian.com/cloud/jira/platform/basic-auth-for-rest-apis/).
// Refusals as Jira answers them: 401 ErrorCollection for bad credentials; 400 with `errors.project`
// for an unknown project, `errors.issuetype` for an unknown issue type, `errors.assignee` for an
// account that cannot be assigned, `errors.description` when v3 gets a plain string instead of an
// Atlassian Document. The stand-in's JQL understands only what incident-bot sends
// (`project = "X" AND labels = "Y" [AND created >= "date"] [ORDER BY …]`) and answers 400 otherwise.

const CREATE = '/rest/api/3/issue';
const SEARCH = '/rest/api/3/search/jql';

/** One issue as the stand-in keeps it. */
export interface JiraIssue {
  id: string;
  key: string;
  summary: string;
  labels: string[];
  description: unknown;
  assignee?: string;
}

/** A loopback Jira Cloud site with projects, users and issues. */
export class JiraStandIn extends StandIn {
  readonly fixture = new OpenApiFixture('jira-issues.openapi.json');
  readonly issues: JiraIssue[] = [];
  private readonly projects = new Map<string, { issueTypes: string[] }>();
  private readonly credentials = new Set<string>();
  private readonly assignable = new Set<string>();

  addProject(key: string, issueTypes = ['Task', 'Bug']): void {
    this.projects.set(key, { issueTypes });
  }
  addUser(email: string, apiToken: string, accountId?: string): void {
    this.credentials.add(`${email}:${apiToken}`);
    if (accountId) this.assignable.add(accountId);
  }

  protected route(
    method: string,
    path: string,
    q: URLSearchParams,
    req: IncomingMessage,
    body: unknown,
  ): Answer {
    const basic = /^Basic\s+(\S+)$/i.exec(req.headers.authorization ?? '')?.[1];
    const cred = basic ? Buffer.from(basic, 'base64').toString('utf8') : '';
    if (!this.credentials.has(cred)) {
      return {
        status: 401,
        body: {
          errorMessages: ['You are not authenticated. Authentication required to perform this operation.'],
          errors: {},
        },
      };
    }
    if (path === CREATE && method === 'POST') return this.create(body);
    if (path === SEARCH && (method === 'POST' || method === 'GET')) {
      const params =
        method === 'POST' ? body : { jql: q.get('jql'), maxResults: Number(q.get('maxResults') ?? 50) };
      const invalid = method === 'POST' ? this.fixture.request(SEARCH, 'post', body) : null;
      if (invalid) return { status: 400, body: { errorMessages: [invalid], errors: {} } };
      return this.search(params as { jql?: string; maxResults?: number });
    }
    return { status: 404, body: { errorMessages: ['Not found'], errors: {} } };
  }

  private create(body: unknown): Answer {
    const invalid = this.fixture.request(CREATE, 'post', body);
    if (invalid) return { status: 400, body: { errorMessages: [invalid], errors: {} } };
    const f = ((body as { fields?: Record<string, unknown> }).fields ?? {}) as {
      project?: { key?: string };
      issuetype?: { name?: string };
      summary?: string;
      description?: unknown;
      labels?: string[];
      assignee?: { accountId?: string };
    };
    const errors: Record<string, string> = {};
    const project = this.projects.get(f.project?.key ?? '');
    if (!project) errors.project = 'valid project is required';
    else if (!project.issueTypes.includes(f.issuetype?.name ?? ''))
      errors.issuetype = 'Specify a valid issue type';
    if (!f.summary) errors.summary = 'You must specify a summary of the issue.';
    if (
      f.description !== undefined &&
      (typeof f.description !== 'object' || (f.description as { type?: string }).type !== 'doc')
    )
      errors.description =
        'Operation value must be an Atlassian Document (see the Atlassian Document Format)';
    if ((f.labels ?? []).some((l) => /\s/.test(l))) errors.labels = 'The label must not contain spaces.';
    if (f.assignee?.accountId && !this.assignable.has(f.assignee.accountId))
      errors.assignee = `User '${f.assignee.accountId}' cannot be assigned issues.`;
    if (Object.keys(errors).length > 0) return { status: 400, body: { errorMessages: [], errors } };
    const n = this.issues.filter((i) => i.key.startsWith(`${f.project!.key}-`)).length + 1;
    const issue: JiraIssue = {
      id: String(10000 + this.issues.length),
      key: `${f.project!.key}-${n}`,
      summary: f.summary!,
      labels: f.labels ?? [],
      description: f.description,
      assignee: f.assignee?.accountId,
    };
    this.issues.push(issue);
    return {
      status: 201,
      body: { id: issue.id, key: issue.key, self: `${this.url}/rest/api/3/issue/${issue.id}` },
    };
  }

  private search(p: { jql?: string; maxResults?: number }): Answer {
    const m =
      /^project\s*=\s*"?([A-Z][A-Z0-9_]*)"?\s+AND\s+labels\s*=\s*"([^"]+)"(?:\s+AND\s+created\s*>=\s*"[0-9-]+")?(?:\s+ORDER BY created (?:ASC|DESC))?$/i.exec(
        p.jql?.trim() ?? '',
      );
    if (!m) {
      return {
        status: 400,
        body: {
          errorMessages: [`Error in the JQL Query: unsupported by the stand-in: ${p.jql}`],
          errors: {},
        },
      };
    }
    if (!this.projects.has(m[1]!)) {
      return {
        status: 400,
        body: { errorMessages: [`The value '${m[1]}' does not exist for the field 'project'.`], errors: {} },
      };
    }
    const hits = this.issues
      .filter((i) => i.key.startsWith(`${m[1]}-`) && i.labels.includes(m[2]!))
      .slice(0, p.maxResults ?? 50);
    return {
      status: 200,
      body: {
        issues: hits.map((i) => ({
          id: i.id,
          key: i.key,
          self: `${this.url}/rest/api/3/issue/${i.id}`,
          fields: { summary: i.summary, labels: i.labels },
        })),
        isLast: true,
      },
    };
  }
}
