import { z } from 'zod';
import { CHECKPOINTS, type Checkpoint } from './core/checkpoints.js';
import { parseRoutingKeys } from './core/outbound.js';

const csvIds = (what: string) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(/[,\s]+/)
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().regex(/^[UWS][A-Z0-9]+$/, `each entry must be a Slack ${what} id like U012ABCDEF`)),
    );

/** One `host:port` of a Sentinel or Cluster node (`[::1]:26379` for IPv6). */
export interface HostPort {
  host: string;
  port: number;
}

/** Parses `host:port`, `[v6]:port`; returns an error text saying what to fix instead when it is not one. */
export function parseHostPort(entry: string, example: string): HostPort | string {
  const m = /^(?:\[([0-9A-Fa-f:.]+)\]|([^\s:/[\]{}@,]+)):(\d+)$/.exec(entry);
  if (!m) {
    const why = entry.includes('://')
      ? 'has a scheme (write host:port only)'
      : /^[^:]+$/.test(entry)
        ? 'has no port'
        : 'is not host:port ([addr]:port for IPv6)';
    return `"${entry}" ${why}; write e.g. ${example}`;
  }
  const port = Number(m[3]);
  if (port < 1 || port > 65535) return `"${entry}": the port must be 1-65535`;
  return { host: (m[1] ?? m[2])!, port };
}

/** A comma-separated `host:port` list (Sentinels, Cluster seed nodes), unset or empty = not used. */
const hostPorts = (example: string) =>
  z
    .string()
    .transform((s, ctx) => {
      const out: HostPort[] = [];
      for (const entry of s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean)) {
        const hp = parseHostPort(entry, example);
        if (typeof hp === 'string') ctx.addIssue({ code: 'custom', message: hp });
        else out.push(hp);
      }
      if (out.length === 0 && !ctx.issues.length)
        ctx.addIssue({ code: 'custom', message: `lists no host:port; write e.g. ${example}` });
      return out;
    })
    .optional();

/** Every setting incident-bot reads from the environment; the README's settings table mirrors this schema. */
export const Config = z.object({
  SLACK_BOT_TOKEN: z
    .string({ error: 'is required: the Bot User OAuth Token (xoxb-…) from the Slack app page' })
    .regex(/^xox[bp]-/, 'must be a bot token starting with xoxb-'),
  // Required over HTTP only: in Socket Mode (SLACK_APP_TOKEN) requests arrive over the app's own
  // WebSocket and are not signed (checked in loadConfig).
  SLACK_SIGNING_SECRET: z.string().min(8, 'looks too short; copy the whole Signing Secret').optional(),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token starting with xapp- (or unset it to use HTTP)')
    .optional(),
  SLACK_API_URL: z.url('must be a URL such as https://slack.com/api/').default('https://slack.com/api/'),
  // Redis, one of three modes (src/redis/connection.ts): REDIS_URL alone = one Redis (the default);
  // REDIS_SENTINELS = Sentinel, the master named REDIS_SENTINEL_NAME; REDIS_CLUSTER_NODES = Cluster.
  // With Sentinel or Cluster, REDIS_URL's host and port are not used, but its user, password and
  // scheme still are: they are the Redis nodes' ACL user/password, and rediss:// turns TLS on for
  // the nodes (and the Sentinels). Its /db applies with Sentinel; Cluster has only db 0.
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .refine((s) => URL.canParse(s), 'is not a valid URL; write e.g. redis://:password@10.0.0.5:6379/0')
    .default('redis://127.0.0.1:6379'),
  REDIS_SENTINELS: hostPorts('10.0.0.5:26379,10.0.0.6:26379,10.0.0.7:26379'),
  REDIS_SENTINEL_NAME: z
    .string()
    .regex(/^[^\s]+$/, 'must be the master name of `sentinel monitor <name> …` (no spaces)')
    .default('mymaster'),
  /** Password of the Sentinels themselves (`requirepass` in sentinel.conf); the nodes' is REDIS_URL's. */
  REDIS_SENTINEL_PASSWORD: z.string().optional(),
  REDIS_CLUSTER_NODES: hostPorts('10.0.0.5:6379,10.0.0.6:6379,10.0.0.7:6379'),
  REDIS_PREFIX: z
    .string()
    // Checked first and alone: incident-bot puts hash tags after the prefix ({INC-42}, BullMQ's); a
    // brace in the prefix would change which part of every key Redis Cluster hashes.
    .regex(/^[^{}]*$/, {
      message: 'must not contain { or }: incident-bot adds the Redis Cluster hash tags itself',
      abort: true,
    })
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('incident-bot'),
  // ioredis 6 speaks RESP3 (HELLO 3) unless told otherwise; 2 keeps ioredis 5's RESP2, for a proxy or
  // Redis-compatible service that refuses HELLO with an error other than NOPROTO or unknown command.
  REDIS_PROTOCOL: z
    .enum(['2', '3'], { error: 'must be 2 (RESP2) or 3 (RESP3)' })
    .default('3')
    .transform((p) => (p === '2' ? 2 : 3)),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INCIDENT_RESPONDERS: csvIds('user'),
  INCIDENT_ANNOUNCE_CHANNEL: z
    .string()
    .regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C012ABCDEF (not a #name)')
    .optional(),
  INCIDENT_ESCALATION_USERS: csvIds('user or user group'),
  // Added for issue 11: where an incident is worked (a thread per incident) when Slack refuses to
  // create its channel (conversations.create: restricted_action). Unset: the declarer is told why.
  INCIDENT_FALLBACK_CHANNEL: z
    .string()
    .regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C012ABCDEF (not a #name)')
    .optional(),
  ALERT_WEBHOOK_TOKEN: z.string().min(16, 'use at least 16 random characters').optional(),
  PAGERDUTY_WEBHOOK_SECRET: z.string().optional(),
  ALERT_SEVERITY_MAP: z.string().optional(),
  DIAGNOSTICS_CONFIG: z.string().optional(),
  /** Issue 14: an optional extra copy of each draft on the worker's disk (the draft itself is kept in Redis). */
  POSTMORTEM_DIR: z.string().optional(),
  TEMPLATES_DIR: z.string().optional(),
  /** Status-update nudge cadence per severity, minutes: `SEV1=15,SEV2=30,SEV3=60,SEV4=0` (0 = none). */
  REMINDER_MINUTES: z.string().default('SEV1=15,SEV2=30,SEV3=60,SEV4=0'),
  /** Escalate when nobody takes command within this many minutes, per severity. */
  ESCALATION_MINUTES: z.string().default('SEV1=5,SEV2=15,SEV3=0,SEV4=0'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  // Added for issue 3 (alerts): channel setups allowed per window (Slack Tier 2: conversations.create
  // and pins.add ~20/min); an alert storm queues behind BullMQ's limiter instead of failing. Tests shrink the window.
  CHANNEL_SETUPS_PER_WINDOW: z.coerce.number().int().min(1).default(20),
  CHANNEL_SETUP_WINDOW_SECONDS: z.coerce.number().positive().default(60),
  // Added for issue 3: BullMQ job lock, seconds. A killed worker's job is retried once its lock
  // expires (up to about twice this); tests shorten it to exercise crash recovery quickly.
  JOB_LOCK_SECONDS: z.coerce.number().positive().default(30),
  // How often the sweeper finishes work a crash or a Redis error left owed (declarations, closes,
  // postmortem drafts, channel posts); tests shorten it to see recovery quickly.
  SWEEP_SECONDS: z.coerce.number().positive().default(60),
  // Fault injection for tests: comma-separated step boundaries (src/core/checkpoints.ts) at which the
  // process kills itself with SIGKILL, once per step name and process. Never set in production.
  FAULT_CRASH_AT: z
    .string()
    .optional()
    .transform((s, ctx) => {
      const steps = (s ?? '')
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean);
      const bad = steps.filter((x) => !(CHECKPOINTS as readonly string[]).includes(x));
      if (bad.length > 0) {
        ctx.addIssue({
          code: 'custom',
          message: `unknown step ${bad.join(', ')}; known: ${CHECKPOINTS.join(', ')}`,
        });
      }
      return steps as Checkpoint[];
    }),
  // Added for issue 4: tries of one diagnostics check job and the delay before its first retry (doubling
  // after that); unset, the queue defaults (8 tries from 500 ms). Tests shrink them to see a check fail for good.
  CHECK_JOB_ATTEMPTS: z.coerce.number().int().min(1).optional(),
  CHECK_JOB_BACKOFF_MS: z.coerce.number().int().nonnegative().optional(),
  // Issue 14: follow-ups become tracker issues (GitHub or Jira Cloud, one of them), and paging.
  FOLLOWUP_GITHUB_REPO: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+\/[A-Za-z0-9_.-]+$/, 'must be owner/name of a GitHub repository, e.g. acme/shop')
    .optional(),
  GITHUB_TOKEN: z.string().optional(),
  /** GitHub REST API base URL: GitHub Enterprise Server (https://ghe.example.com/api/v3) or a test stand-in. */
  GITHUB_API_URL: z.url('must be a URL such as https://api.github.com').default('https://api.github.com'),
  FOLLOWUP_JIRA_URL: z.url('must be your Jira Cloud site, e.g. https://acme.atlassian.net').optional(),
  FOLLOWUP_JIRA_PROJECT: z
    .string()
    .regex(/^[A-Z][A-Z0-9_]+$/, 'must be a Jira project key such as OPS (capital letters, digits, _)')
    .optional(),
  FOLLOWUP_JIRA_ISSUE_TYPE: z.string().min(1).default('Task'),
  JIRA_EMAIL: z.string().optional(),
  JIRA_API_TOKEN: z.string().optional(),
  /** YAML file mapping Slack user ids to GitHub logins / Jira account ids (README, "Follow-up issues"). */
  FOLLOWUP_OWNER_MAP: z.string().optional(),
  /** `service=routing-key,...`: the PagerDuty Events API v2 integrations `/incident page <service>` can page. */
  PAGERDUTY_ROUTING_KEYS: z.string().optional(),
  PAGERDUTY_EVENTS_URL: z
    .url('must be a URL such as https://events.pagerduty.com/v2/enqueue')
    .default('https://events.pagerduty.com/v2/enqueue'),
  /** A service of PAGERDUTY_ROUTING_KEYS that escalation pages as well as mentioning INCIDENT_ESCALATION_USERS. */
  ESCALATION_PAGE_SERVICE: z.string().optional(),
  /** Per-request timeout for GitHub, Jira and PagerDuty, ms. */
  OUTBOUND_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  /** Tries of a follow-up issue or page job (then the channel is told it gave up). */
  OUTBOUND_JOB_ATTEMPTS: z.coerce.number().int().min(1).default(8),
  // Added for issue 14: the git destination of postmortem drafts (a path or URL `git push` accepts).
  POSTMORTEM_GIT_REPO: z.string().min(1).optional(),
  POSTMORTEM_GIT_BRANCH: z
    .string()
    .regex(/^(?!-)[A-Za-z0-9._/-]+$/, 'must be a branch name like main or docs/postmortems')
    .default('main'),
  POSTMORTEM_GIT_DIR: z
    .string()
    .regex(
      /^(?!\/)(?!.*\.\.)[A-Za-z0-9._/-]*$/,
      'must be a relative folder inside the repository, like postmortems/',
    )
    .default('postmortems/'),
  /** Commit author of the drafts, `Name <email>`. */
  POSTMORTEM_GIT_AUTHOR: z
    .string()
    .regex(/^[^<>]+ <[^<>\s]+>$/, 'must be like incident-bot <incident-bot@example.com>')
    .default('incident-bot <incident-bot@users.noreply.github.com>'),
  /** Tries of one push job (exponential backoff from 500 ms) before the channel is told. */
  POSTMORTEM_GIT_ATTEMPTS: z.coerce.number().int().min(1).default(8),
  // Added for issue 14: outgoing webhooks (comma-separated http(s) URLs), their HMAC secret, and how
  // hard a receiver that is down is retried (exponential backoff from OUTGOING_WEBHOOK_BACKOFF_MS).
  OUTGOING_WEBHOOK_URLS: z
    .string()
    .optional()
    .transform((s, ctx) => {
      const urls = (s ?? '')
        .split(',')
        .map((u) => u.trim())
        .filter(Boolean);
      for (const u of urls)
        if (!URL.canParse(u) || !/^https?:$/.test(new URL(u).protocol))
          ctx.addIssue({
            code: 'custom',
            message: `"${u}" is not an http(s) URL; write e.g. https://status.example.com/hooks/incident`,
          });
      return urls;
    }),
  OUTGOING_WEBHOOK_SECRET: z.string().min(16, 'use at least 16 random characters').optional(),
  OUTGOING_WEBHOOK_ATTEMPTS: z.coerce.number().int().min(1).default(10),
  OUTGOING_WEBHOOK_BACKOFF_MS: z.coerce.number().int().nonnegative().default(1000),
  OUTGOING_WEBHOOK_TIMEOUT_MS: z.coerce.number().int().positive().default(10_000),
  // Added for issue 13: a firing alert joins the open incident whose alerts carry the same values of
  // these labels (all of them), seen within the window; empty (set to '') turns correlation off.
  ALERT_CORRELATE_BY: z
    .string()
    .default('service')
    .transform((s) =>
      s
        .split(',')
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().regex(/^[A-Za-z_][A-Za-z0-9_.-]*$/, 'each entry must be a label name like service')),
    ),
  ALERT_CORRELATE_WINDOW_MINUTES: z.coerce.number().positive().default(60),
  // Added for issue 13: archive incident channels this many days after close (0 = never).
  ARCHIVE_AFTER_DAYS: z.coerce.number().nonnegative().default(30),
  // Added for issue 13: delete closed incidents' data this many days after close (unset = keep forever).
  RETENTION_DAYS: z.coerce.number().positive().optional(),
  // Added for issue 11: who may close, lower the severity and hand over command (src/core/permissions.ts).
  // User ids and user-group ids (`S…`, members looked up with usergroups.users.list).
  INCIDENT_ADMINS: csvIds('user or user group'),
  INCIDENT_OPEN_PERMISSIONS: z
    .enum(['true', 'false'], { error: 'must be true or false' })
    .default('false')
    .transform((v) => v === 'true'),
  // Added for issue 11: the web server's limits. A client gets 408 when its headers (or its whole
  // request) take longer; connections beyond the cap are closed at once.
  HTTP_HEADERS_TIMEOUT_SECONDS: z.coerce.number().positive().default(10),
  HTTP_REQUEST_TIMEOUT_SECONDS: z.coerce.number().positive().default(30),
  HTTP_MAX_CONNECTIONS: z.coerce.number().int().min(1).default(1024),
  // Added for issue 11: what INCIDENT_ANNOUNCE_CHANNEL hears of a private incident.
  INCIDENT_PRIVATE_ANNOUNCE: z
    .enum(['minimal', 'none'], { error: 'must be minimal (say a private incident was declared) or none' })
    .default('minimal'),
  // Added for issue 12: a worker whose diagnostics read an HAProxy log runs the log scanner once over a small
  // synthetic log after start-up, so V8 has optimized it before the first diagnosis (0 = do not).
  LOG_SCAN_WARMUP: z
    .enum(['0', '1'], { error: 'must be 1 (warm the HAProxy log scanner at worker start-up) or 0' })
    .default('1')
    .transform((v) => v === '1'),
});
export type Config = z.infer<typeof Config>;

/** Thrown by loadConfig; its message names each bad variable and how to fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration once from `env` (default process.env); throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  // Empty means unset, except where empty is a value of its own (ALERT_CORRELATE_BY='' = correlation off).
  const cleaned = Object.fromEntries(
    Object.entries(env).filter(([k, v]) => v !== undefined && (v !== '' || k === 'ALERT_CORRELATE_BY')),
  );
  const parsed = Config.safeParse(cleaned);
  const lines = [
    ...slackModeProblems(cleaned),
    ...redisModeProblems(cleaned),
    ...outboundProblems(cleaned),
  ].map(([name, message]) => `  ${name}: ${message}`);
  if (parsed.success && lines.length === 0) return parsed.data;
  for (const i of parsed.error?.issues ?? []) {
    const name = String(i.path[0] ?? '?');
    const missing = i.code === 'invalid_type' && cleaned[name] === undefined;
    lines.push(
      `  ${name}: ${missing && !i.message.startsWith('is required') ? `is required (${i.message})` : i.message}`,
    );
  }
  throw new ConfigError(
    `incident-bot cannot start: fix these environment variables (see README, "Settings"):\n${lines.join('\n')}`,
  );
}

/** Issue 14's settings that only work together: a tracker needs its credentials, one tracker at a time, known services, signed webhooks. */
function outboundProblems(env: Record<string, string | undefined>): [string, string][] {
  const out: [string, string][] = [];
  if (env.FOLLOWUP_GITHUB_REPO && env.FOLLOWUP_JIRA_URL)
    out.push([
      'FOLLOWUP_GITHUB_REPO, FOLLOWUP_JIRA_URL',
      'both are set; follow-up issues go to one tracker: unset one of them',
    ]);
  if (env.FOLLOWUP_GITHUB_REPO && !env.GITHUB_TOKEN)
    out.push([
      'GITHUB_TOKEN',
      'is required with FOLLOWUP_GITHUB_REPO: a token that may create issues there (fine-grained: Issues read and write)',
    ]);
  if (env.FOLLOWUP_JIRA_URL) {
    for (const name of ['FOLLOWUP_JIRA_PROJECT', 'JIRA_EMAIL', 'JIRA_API_TOKEN'])
      if (!env[name]) out.push([name, 'is required with FOLLOWUP_JIRA_URL']);
  }
  if (env.PAGERDUTY_ROUTING_KEYS) {
    const keys = parseRoutingKeys(env.PAGERDUTY_ROUTING_KEYS);
    if (typeof keys === 'string') out.push(['PAGERDUTY_ROUTING_KEYS', keys]);
    else if (env.ESCALATION_PAGE_SERVICE && !keys[env.ESCALATION_PAGE_SERVICE.toLowerCase()])
      out.push([
        'ESCALATION_PAGE_SERVICE',
        `"${env.ESCALATION_PAGE_SERVICE}" is not a service of PAGERDUTY_ROUTING_KEYS (${Object.keys(keys).join(', ')})`,
      ]);
  } else if (env.ESCALATION_PAGE_SERVICE) {
    out.push(['ESCALATION_PAGE_SERVICE', 'needs PAGERDUTY_ROUTING_KEYS with that service']);
  }
  // Outgoing webhooks are always signed, so URLs without a secret are refused.
  if (env.OUTGOING_WEBHOOK_URLS?.trim() && !env.OUTGOING_WEBHOOK_SECRET)
    out.push([
      'OUTGOING_WEBHOOK_SECRET',
      'is required with OUTGOING_WEBHOOK_URLS (every event is signed); set it to at least 16 random characters, e.g. `openssl rand -hex 32`',
    ]);
  return out;
}

/** The Slack transport's requirement: a signing secret over HTTP, none needed in Socket Mode; [variable, message] pairs. */
function slackModeProblems(env: Record<string, string | undefined>): [string, string][] {
  if (env.SLACK_SIGNING_SECRET !== undefined || env.SLACK_APP_TOKEN !== undefined) return [];
  return [
    [
      'SLACK_SIGNING_SECRET',
      'is required: Basic Information → Signing Secret on the Slack app page (or set SLACK_APP_TOKEN, xapp-…, for Socket Mode, which needs none)',
    ],
  ];
}

/** Settings that contradict each other across Redis variables: [variable, message] pairs. */
function redisModeProblems(env: Record<string, string | undefined>): [string, string][] {
  const out: [string, string][] = [];
  const sentinel = env.REDIS_SENTINELS !== undefined;
  const cluster = env.REDIS_CLUSTER_NODES !== undefined;
  if (sentinel && cluster)
    out.push([
      'REDIS_SENTINELS, REDIS_CLUSTER_NODES',
      'both are set; set REDIS_SENTINELS for Redis Sentinel or REDIS_CLUSTER_NODES for Redis Cluster, not both',
    ]);
  for (const name of ['REDIS_SENTINEL_NAME', 'REDIS_SENTINEL_PASSWORD'])
    if (env[name] !== undefined && !sentinel)
      out.push([name, 'only applies with REDIS_SENTINELS; set REDIS_SENTINELS too, or unset it']);
  if (cluster && env.REDIS_URL && URL.canParse(env.REDIS_URL)) {
    const db = new URL(env.REDIS_URL).pathname.replace(/^\//, '');
    if (db !== '' && db !== '0')
      out.push(['REDIS_URL', `selects db ${db}, but Redis Cluster has only db 0; remove "/${db}" from it`]);
  }
  return out;
}

/** Parses `SEV1=15,SEV2=30` into minutes per severity; throws ConfigError naming `name` on a bad pair. */
export function parseSeverityMinutes(
  name: string,
  value: string,
): Record<'SEV1' | 'SEV2' | 'SEV3' | 'SEV4', number> {
  const out = { SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 };
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(SEV[1-4])=(\d+(?:\.\d+)?)$/i.exec(pair);
    if (!m) throw new ConfigError(`${name}: "${pair}" is not SEVn=<minutes>; write e.g. SEV1=15,SEV2=30`);
    out[m[1]!.toUpperCase() as keyof typeof out] = Number(m[2]);
  }
  return out;
}
