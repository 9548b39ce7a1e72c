import { readFileSync } from 'node:fs';
import type { TranscriptEntry } from '../../src/sandbox/index.js';

/** One Web API method as the published spec (or the table of newer methods) describes it. */
export interface MethodSpec {
  /** Argument name → required. */
  args: Record<string, boolean>;
  /** Scopes the spec lists (classic names, e.g. `channels:write`, `chat:write:bot`). */
  scopes: string[];
  /** Where it comes from: the spec, or a doc page. */
  source: string;
}

const SPEC_PATH = new URL(
  '../fixtures/slack/slack-api-specs/slack_web_openapi_v2_without_examples.json',
  import.meta.url,
);

interface OpenApiParam {
  name: string;
  in: string;
  required?: boolean;
}
interface OpenApiOp {
  parameters?: OpenApiParam[];
  security?: Array<{ slackAuth?: string[] }>;
}

/**
 * Methods newer than the spec (2021), checked against their doc pages instead. Arguments marked
 * true are required.
 */
export const NEWER_METHODS: Readonly<Record<string, MethodSpec>> = {
  'files.getUploadURLExternal': {
    args: { filename: true, length: true, alt_txt: false, snippet_type: false },
    scopes: ['files:write'],
    source: 'https://docs.slack.dev/reference/methods/files.getUploadURLExternal',
  },
  'files.completeUploadExternal': {
    args: {
      files: true,
      channel_id: false,
      channels: false,
      initial_comment: false,
      thread_ts: false,
      blocks: false,
    },
    scopes: ['files:write'],
    source: 'https://docs.slack.dev/reference/methods/files.completeUploadExternal',
  },
  // Socket Mode: called with the app-level token (xapp-), no arguments.
  'apps.connections.open': {
    args: {},
    scopes: ['connections:write'],
    source: 'https://docs.slack.dev/reference/methods/apps.connections.open',
  },
};

/**
 * Arguments newer than the spec on methods it has, each from the method's doc page: message
 * metadata (https://docs.slack.dev/messaging/message-metadata) on chat.postMessage / chat.update and
 * `include_all_metadata` on conversations.history; `force` on conversations.invite.
 */
export const NEWER_ARGS: Readonly<Record<string, Record<string, { required: boolean; source: string }>>> = {
  'chat.postMessage': {
    metadata: { required: false, source: 'https://docs.slack.dev/reference/methods/chat.postMessage' },
  },
  'chat.update': {
    metadata: { required: false, source: 'https://docs.slack.dev/reference/methods/chat.update' },
  },
  'conversations.history': {
    include_all_metadata: {
      required: false,
      source: 'https://docs.slack.dev/reference/methods/conversations.history',
    },
  },
  'conversations.invite': {
    force: { required: false, source: 'https://docs.slack.dev/reference/methods/conversations.invite' },
  },
};

/**
 * Where the doc page says an argument is required and the spec leaves `required` out (the spec
 * "doesn't always tell the whole truth"; the doc page wins).
 */
export const REQUIRED_BY_DOCS: Readonly<Record<string, string[]>> = {
  'conversations.create': ['name'],
  'conversations.invite': ['channel', 'users'],
  'conversations.history': ['channel'],
  'conversations.replies': ['channel', 'ts'],
  'conversations.setTopic': ['channel', 'topic'],
  'conversations.archive': ['channel'],
  'pins.add': ['timestamp'],
  'users.info': ['user'],
};

let cache: Record<string, MethodSpec> | undefined;

/** Every method of the published spec plus NEWER_METHODS, with its arguments and scopes. */
export function webApiSpec(): Record<string, MethodSpec> {
  if (cache) return cache;
  const doc = JSON.parse(readFileSync(SPEC_PATH, 'utf8')) as {
    paths: Record<string, Record<string, OpenApiOp>>;
  };
  const out: Record<string, MethodSpec> = {};
  for (const [path, verbs] of Object.entries(doc.paths)) {
    const method = path.replace(/^\//, '');
    const args: Record<string, boolean> = {};
    const scopes = new Set<string>();
    for (const op of Object.values(verbs)) {
      for (const p of op.parameters ?? []) {
        if (p.in === 'header' || p.name === 'token') continue;
        args[p.name] = (args[p.name] ?? false) || p.required === true;
      }
      for (const s of op.security ?? [])
        for (const sc of s.slackAuth ?? []) if (sc !== 'none') scopes.add(sc);
    }
    for (const name of REQUIRED_BY_DOCS[method] ?? []) args[name] = true;
    for (const [name, a] of Object.entries(NEWER_ARGS[method] ?? {})) args[name] = a.required;
    out[method] = { args, scopes: [...scopes], source: `slack-api-specs ${path}` };
  }
  Object.assign(out, NEWER_METHODS);
  cache = out;
  return out;
}

/**
 * Arguments the official SDK adds to every call: `team_id`, which @slack/web-api's WebClient sends
 * with each call when created with `teamId` (as Bolt does for a request from a workspace), for
 * org-wide apps (https://docs.slack.dev/tools/node-slack-sdk/reference/web-api/interfaces/WebClientOptions).
 */
export const SDK_ARGS: ReadonlySet<string> = new Set(['team_id']);

/** Transcript entries that are not Web API methods: respond() to a response_url and the upload_url POST. */
const NOT_METHODS = new Set(['response_url', 'upload_url']);

/**
 * Checks Web API calls against the spec: the method exists, its required arguments are present, and
 * no argument is unknown. Returns one line per problem (`chat.postMessage #12: unknown argument foo`).
 */
export function conformanceProblems(calls: readonly TranscriptEntry[]): string[] {
  const spec = webApiSpec();
  const problems: string[] = [];
  for (const call of calls) {
    if (NOT_METHODS.has(call.method)) continue;
    const m = spec[call.method];
    if (!m) {
      problems.push(
        `${call.method} #${call.seq}: no such method in the Web API spec or the table of newer methods`,
      );
      continue;
    }
    for (const [name, required] of Object.entries(m.args)) {
      if (required && (call.args[name] === undefined || call.args[name] === '')) {
        problems.push(`${call.method} #${call.seq}: required argument ${name} is missing`);
      }
    }
    for (const name of Object.keys(call.args)) {
      if (!(name in m.args) && !SDK_ARGS.has(name))
        problems.push(`${call.method} #${call.seq}: unknown argument ${name}`);
    }
  }
  return problems;
}

/** Throws listing every problem when a transcript does not conform (used by the harness on close). */
export function assertConforms(calls: readonly TranscriptEntry[], what: string): void {
  const problems = conformanceProblems(calls);
  if (problems.length > 0) {
    throw new Error(
      `${what}: Web API calls that do not match Slack's published spec:\n  ${problems.join('\n  ')}`,
    );
  }
}
