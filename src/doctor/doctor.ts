import { open, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { type Logger, LogLevel, WebClient } from '@slack/web-api';
import { Config, ConfigError, loadConfig } from '../config.js';
import { loadChecklists } from '../diagnostics/checklists.js';
import { type LoadBalancerTarget, loadDiagnosticsConfig } from '../diagnostics/config.js';
import { probeHttp, probePostgres, probeTcp } from '../diagnostics/probes.js';
import { fetchTargetHealth, readTargetHealthFile } from '../diagnostics/sources/aws-elbv2.js';
import { fetchEnvoyClusters, parseEnvoyClusters } from '../diagnostics/sources/envoy-clusters.js';
import { parseHaproxyConfig } from '../diagnostics/sources/haproxy-config.js';
import { parseHaproxyHttpLogLine } from '../diagnostics/sources/haproxy-log.js';
import { fetchHaproxyStats, parseHaproxyStatsCsv } from '../diagnostics/sources/haproxy-stats.js';
import { parseUtcOffset } from '../diagnostics/sources/lines.js';
import { loadNginxConfig } from '../diagnostics/sources/nginx-config.js';
import { compileNginxLogFormat, NGINX_COMBINED } from '../diagnostics/sources/nginx-log.js';
import { defaultTemplatesDir, loadPostmortemTemplate } from '../postmortem/render.js';
import { readRedisHealth } from '../redis/health.js';
import { defaultManifestPath, manifestBotScopes } from '../slack/manifest.js';

/** `ok`: fine; `problem`: wrong, with a fix (exit code 1); `skipped`: not configured or not checkable. */
export type DoctorStatus = 'ok' | 'problem' | 'skipped';

/** One line of the doctor's checklist. */
export interface DoctorItem {
  section: 'Settings' | 'Slack' | 'Channels' | 'People' | 'Redis' | 'Templates' | 'Diagnostics';
  name: string;
  status: DoctorStatus;
  detail: string;
  /** What to do about a problem. */
  fix?: string;
}

/** Options of {@link runDoctor}. */
export interface DoctorOptions {
  env?: NodeJS.ProcessEnv;
  /** The manifest whose bot scopes the token must have; default the repository's manifest.yml. */
  manifestPath?: string;
  /** Per network call, ms (default 3000). */
  timeoutMs?: number;
}

const MIN_REDIS = [6, 2];
/** Bytes read from the end of a log for the format sample. */
const LOG_SAMPLE_BYTES = 64 * 1024;
const LOG_SAMPLE_LINES = 200;

type Settings = Partial<Config>;

/** Each setting that parses on its own, so one bad variable does not hide the checks of the others. */
function lenientSettings(env: NodeJS.ProcessEnv): Settings {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const out: Record<string, unknown> = {};
  for (const [key, schema] of Object.entries(Config.shape)) {
    const r = (schema as { safeParse(v: unknown): { success: boolean; data?: unknown } }).safeParse(
      cleaned[key],
    );
    if (r.success && r.data !== undefined) out[key] = r.data;
  }
  return out as Settings;
}

function settingsItems(env: NodeJS.ProcessEnv): DoctorItem[] {
  try {
    loadConfig(env);
    return [{ section: 'Settings', name: 'environment', status: 'ok', detail: 'every setting is valid' }];
  } catch (err) {
    if (!(err instanceof ConfigError)) throw err;
    return err.message
      .split('\n')
      .slice(1)
      .map((line) => {
        const m = /^\s+([^:]+): (.*)$/.exec(line);
        const name = m?.[1] ?? 'environment';
        const message = m?.[2] ?? line.trim();
        return {
          section: 'Settings' as const,
          name,
          status: 'problem' as const,
          detail: message,
          fix: `change ${name} in the bot's environment as the line above says (README, "Settings", lists every variable)`,
        };
      });
  }
}

function slackErrorCode(err: unknown): string {
  const e = err as { data?: { error?: string }; code?: string; message?: string };
  return e?.data?.error ?? e?.message ?? String(err);
}

const TOKEN_FIX =
  'copy the Bot User OAuth Token (xoxb-…) again from OAuth & Permissions on https://api.slack.com/apps, or reinstall the app to the workspace, and set SLACK_BOT_TOKEN';

interface SlackFacts {
  client?: WebClient;
  scopes?: string[];
}

async function slackItems(s: Settings, opts: Required<DoctorOptions>): Promise<[DoctorItem[], SlackFacts]> {
  const items: DoctorItem[] = [];
  const push = (i: Omit<DoctorItem, 'section'>) => items.push({ section: 'Slack', ...i });
  if (s.SLACK_SIGNING_SECRET || s.SLACK_APP_TOKEN)
    push({
      name: 'request verification',
      status: 'ok',
      detail: s.SLACK_APP_TOKEN
        ? 'SLACK_APP_TOKEN is set: Socket Mode'
        : 'SLACK_SIGNING_SECRET is set: requests on /slack/events are verified',
    });
  else
    push({
      name: 'request verification',
      status: 'problem',
      detail: 'neither a valid SLACK_SIGNING_SECRET nor a valid SLACK_APP_TOKEN is set',
      fix: 'set SLACK_SIGNING_SECRET from Basic Information → Signing Secret, or SLACK_APP_TOKEN (xapp-…, connections:write) for Socket Mode',
    });
  if (!s.SLACK_BOT_TOKEN) {
    push({
      name: 'token',
      status: 'skipped',
      detail: 'no valid SLACK_BOT_TOKEN to test (see Settings); channels and people not checked',
    });
    return [items, {}];
  }
  const client = new WebClient(s.SLACK_BOT_TOKEN, {
    slackApiUrl: s.SLACK_API_URL ?? 'https://slack.com/api/',
    retryConfig: { retries: 0 },
    timeout: opts.timeoutMs,
    rejectRateLimitedCalls: true,
    logger: silentLogger(),
  });
  let auth: Awaited<ReturnType<WebClient['auth']['test']>>;
  try {
    // https://docs.slack.dev/reference/methods/auth.test
    auth = await client.auth.test();
  } catch (err) {
    const code = slackErrorCode(err);
    const unreachable = !(err as { data?: unknown }).data;
    push({
      name: 'token',
      status: 'problem',
      detail: `auth.test failed: ${code}`,
      fix: unreachable
        ? `make ${s.SLACK_API_URL ?? 'https://slack.com/api/'} reachable from this host (proxy, firewall) or fix SLACK_API_URL`
        : TOKEN_FIX,
    });
    return [items, {}];
  }
  push({
    name: 'token',
    status: 'ok',
    detail: `auth.test: bot @${auth.user} (${auth.user_id}) in ${auth.team} (${auth.team_id})`,
  });
  // Slack sends the token's scopes in the x-oauth-scopes header of every call; WebClient puts them here.
  const scopes = auth.response_metadata?.scopes;
  let wanted: string[];
  try {
    wanted = manifestBotScopes(opts.manifestPath);
  } catch (err) {
    push({
      name: 'scopes',
      status: 'skipped',
      detail: `cannot read the manifest: ${(err as Error).message}`,
    });
    return [items, { client, scopes }];
  }
  if (!scopes) {
    push({ name: 'scopes', status: 'skipped', detail: 'Slack sent no x-oauth-scopes header to compare' });
    return [items, { client }];
  }
  const missing = wanted.filter((w) => !scopes.includes(w));
  push(
    missing.length === 0
      ? {
          name: 'scopes',
          status: 'ok',
          detail: `the token has every scope manifest.yml asks for (${wanted.length})`,
        }
      : {
          name: 'scopes',
          status: 'problem',
          detail: `the token lacks ${missing.join(', ')}, which manifest.yml asks for`,
          fix: `add ${missing.join(', ')} under OAuth & Permissions → Bot Token Scopes (or update the app from manifest.yml), reinstall the app to the workspace and set the new SLACK_BOT_TOKEN`,
        },
  );
  return [items, { client, scopes }];
}

function silentLogger(): Logger {
  const noop = () => {};
  return {
    debug: noop,
    info: noop,
    warn: noop,
    error: noop,
    setLevel: noop,
    getLevel: () => LogLevel.ERROR,
    setName: noop,
  };
}

async function channelItems(env: NodeJS.ProcessEnv, slack: SlackFacts): Promise<DoctorItem[]> {
  const items: DoctorItem[] = [];
  // INCIDENT_FALLBACK_CHANNEL is checked when a deployment sets it; the announce channel is also
  // where the bot reports a channel it could not open.
  for (const name of ['INCIDENT_ANNOUNCE_CHANNEL', 'INCIDENT_FALLBACK_CHANNEL']) {
    const id = env[name]?.trim();
    if (!id) {
      if (name === 'INCIDENT_ANNOUNCE_CHANNEL')
        items.push({
          section: 'Channels',
          name,
          status: 'skipped',
          detail: 'not set: new incidents are announced nowhere and setup failures go to the declarer only',
        });
      continue;
    }
    if (!/^[CG][A-Z0-9]+$/.test(id) || !slack.client) continue; // reported under Settings / Slack
    try {
      // https://docs.slack.dev/reference/methods/conversations.info
      const res = await slack.client.conversations.info({ channel: id });
      const c = res.channel!;
      if (c.is_archived)
        items.push({
          section: 'Channels',
          name,
          status: 'problem',
          detail: `#${c.name} (${id}) is archived: posts to it are refused (is_archived)`,
          fix: `unarchive #${c.name}, or set ${name} to a channel in use`,
        });
      else if (c.is_member)
        items.push({
          section: 'Channels',
          name,
          status: 'ok',
          detail: `#${c.name} (${id}) exists, is not archived, and the bot is a member`,
        });
      else if (!c.is_private && slack.scopes?.includes('chat:write.public'))
        items.push({
          section: 'Channels',
          name,
          status: 'ok',
          detail: `#${c.name} (${id}) is public; the bot is not a member but can post with chat:write.public`,
        });
      else
        items.push({
          section: 'Channels',
          name,
          status: 'problem',
          detail: `#${c.name} (${id}): the bot is not a member and cannot post there`,
          fix: `type /invite @incident-bot in #${c.name}`,
        });
    } catch (err) {
      const code = slackErrorCode(err);
      items.push({
        section: 'Channels',
        name,
        status: 'problem',
        detail: `${id}: conversations.info answered ${code}`,
        fix:
          code === 'channel_not_found'
            ? `set ${name} to the id of an existing channel (channel name → About → Channel ID); for a private channel, invite the bot first`
            : code === 'missing_scope'
              ? 'give the token channels:read (see Slack, scopes)'
              : `check ${name} and the token`,
      });
    }
  }
  return items;
}

async function peopleItems(s: Settings, slack: SlackFacts): Promise<DoctorItem[]> {
  const items: DoctorItem[] = [];
  const lists: [string, string[]][] = [
    ['INCIDENT_RESPONDERS', s.INCIDENT_RESPONDERS ?? []],
    ['INCIDENT_ESCALATION_USERS', s.INCIDENT_ESCALATION_USERS ?? []],
  ];
  for (const [name, ids] of lists) {
    for (const id of ids) {
      const item = (status: DoctorStatus, detail: string, fix?: string) =>
        items.push({ section: 'People', name: `${name} ${id}`, status, detail, ...(fix ? { fix } : {}) });
      if (id.startsWith('S')) {
        item('skipped', 'a user group: mentioned as is, not checked');
        continue;
      }
      if (!slack.client) continue;
      try {
        // https://docs.slack.dev/reference/methods/users.info (user object: deleted, is_restricted, is_ultra_restricted)
        const u = (await slack.client.users.info({ user: id })).user!;
        if (u.deleted)
          item(
            'problem',
            `@${u.name} is deactivated`,
            `remove ${id} from ${name}, or reactivate the account (workspace admin → Manage members)`,
          );
        else if (u.is_restricted || u.is_ultra_restricted)
          item(
            'problem',
            `@${u.name} is a ${u.is_ultra_restricted ? 'single-channel' : 'multi-channel'} guest: guests cannot be invited to new incident channels`,
            `make @${u.name} a full member (workspace admin → Manage members → Change account type), or remove ${id} from ${name}`,
          );
        else if (u.is_bot) item('problem', `@${u.name} is a bot, not a person`, `remove ${id} from ${name}`);
        else item('ok', `@${u.name} exists and is an active full member`);
      } catch (err) {
        const code = slackErrorCode(err);
        item(
          'problem',
          `users.info answered ${code}`,
          code === 'user_not_found'
            ? `remove ${id} from ${name} or replace it with the right member id (profile → ⋮ → Copy member ID)`
            : code === 'missing_scope'
              ? 'give the token users:read'
              : `check ${name} and the token`,
        );
      }
    }
  }
  return items;
}

function versionAtLeast(version: string, min: number[]): boolean {
  const parts = version.split('.').map(Number);
  for (let i = 0; i < min.length; i++) {
    const a = parts[i] ?? 0;
    if (a !== min[i]) return a > min[i]!;
  }
  return true;
}

async function redisItems(s: Settings, timeoutMs: number): Promise<DoctorItem[]> {
  const url = s.REDIS_URL ?? 'redis://127.0.0.1:6379';
  const where = s.REDIS_CLUSTER_NODES
    ? 'the Redis Cluster'
    : s.REDIS_SENTINELS
      ? `the master "${s.REDIS_SENTINEL_NAME ?? 'mymaster'}" of the Sentinels`
      : new URL(url).host;
  const item = (name: string, status: DoctorStatus, detail: string, fix?: string): DoctorItem => ({
    section: 'Redis',
    name,
    status,
    detail,
    ...(fix ? { fix } : {}),
  });
  let h: Awaited<ReturnType<typeof readRedisHealth>>;
  try {
    h = await readRedisHealth({ ...s, REDIS_URL: url } as Parameters<typeof readRedisHealth>[0], timeoutMs);
  } catch (err) {
    return [
      item(
        'connection',
        'problem',
        `cannot reach ${where}: ${(err as Error).message}`,
        'start Redis or fix REDIS_URL (and REDIS_SENTINELS / REDIS_CLUSTER_NODES); the password goes in the URL: redis://:password@host:6379',
      ),
    ];
  }
  const items = [
    versionAtLeast(h.version, MIN_REDIS)
      ? item('version', 'ok', `${where} runs Redis ${h.version} (≥ 6.2)`)
      : item(
          'version',
          'problem',
          `${where} runs Redis ${h.version}; BullMQ and incident-bot need 6.2 or later`,
          'upgrade Redis to 6.2 or later (Debian 12 ships 7.0: apt-get install redis-server)',
        ),
  ];
  if (h.aof) items.push(item('persistence', 'ok', 'AOF is on (appendonly yes): timelines survive a restart'));
  else if (h.save)
    items.push(
      item(
        'persistence',
        'problem',
        `only RDB snapshots (save ${h.save}): a restart loses what changed since the last snapshot`,
        'turn AOF on: CONFIG SET appendonly yes, and appendonly yes in redis.conf',
      ),
    );
  else
    items.push(
      item(
        'persistence',
        'problem',
        h.save === undefined
          ? 'AOF is off and CONFIG GET save was refused, so snapshots cannot be confirmed'
          : 'persistence is off (appendonly no, no save points): a restart loses every timeline and job',
        'turn AOF on: CONFIG SET appendonly yes, and appendonly yes in redis.conf (on a managed Redis, enable its persistence option)',
      ),
    );
  items.push(
    h.maxmemoryPolicy === 'noeviction'
      ? item('eviction policy', 'ok', 'maxmemory-policy noeviction, as BullMQ requires')
      : item(
          'eviction policy',
          'problem',
          `maxmemory-policy is ${h.maxmemoryPolicy}: Redis may evict jobs and timelines when memory is full (BullMQ requires noeviction)`,
          'CONFIG SET maxmemory-policy noeviction, and maxmemory-policy noeviction in redis.conf (https://docs.bullmq.io/guide/going-to-production#max-memory-policy)',
        ),
  );
  return items;
}

async function templateItems(s: Settings): Promise<DoctorItem[]> {
  const dir = s.TEMPLATES_DIR ?? defaultTemplatesDir();
  const items: DoctorItem[] = [];
  try {
    const t = loadPostmortemTemplate(dir);
    items.push({ section: 'Templates', name: 'postmortem', status: 'ok', detail: `${t.file} compiles` });
  } catch (err) {
    items.push({
      section: 'Templates',
      name: 'postmortem',
      status: 'problem',
      detail: (err as Error).message,
      fix: `fix ${join(dir, 'postmortem.md')} where the message says, or unset TEMPLATES_DIR to use the built-in templates`,
    });
  }
  const cdir = join(dir, 'checklists');
  try {
    const { checklists, problems } = await loadChecklists(cdir);
    for (const p of problems)
      items.push({
        section: 'Templates',
        name: 'checklists',
        status: 'problem',
        detail: `${cdir}/${p}`,
        fix: 'fix that file (README, "Checklist templates"); until then it is not used',
      });
    if (!checklists.some((c) => c.default))
      items.push({
        section: 'Templates',
        name: 'checklists',
        status: 'problem',
        detail: `no checklist in ${cdir} is marked default: true, so an incident whose alerts match none gets no checklist`,
        fix: 'mark one checklist default: true',
      });
    else if (problems.length === 0)
      items.push({
        section: 'Templates',
        name: 'checklists',
        status: 'ok',
        detail: `${checklists.length} checklist${checklists.length === 1 ? '' : 's'}: ${checklists.map((c) => c.name).join(', ')}`,
      });
  } catch (err) {
    items.push({
      section: 'Templates',
      name: 'checklists',
      status: 'problem',
      detail: `cannot read ${cdir}: ${(err as Error).message}`,
      fix: 'copy templates/checklists into TEMPLATES_DIR, or unset TEMPLATES_DIR',
    });
  }
  return items;
}

/** The last complete lines of a file (up to LOG_SAMPLE_LINES from its last 64 KiB). */
async function tailLines(path: string): Promise<string[]> {
  const size = (await stat(path)).size;
  const fh = await open(path, 'r');
  try {
    const len = Math.min(size, LOG_SAMPLE_BYTES);
    const buf = Buffer.alloc(len);
    await fh.read(buf, 0, len, size - len);
    const lines = buf.toString('utf8').split('\n');
    if (size > len) lines.shift(); // the first one is cut
    return lines.filter((l) => l.trim() !== '').slice(-LOG_SAMPLE_LINES);
  } finally {
    await fh.close();
  }
}

async function logSampleItem(
  lb: LoadBalancerTarget,
  path: string,
  parses: (line: string) => boolean,
  formatFix: string,
): Promise<DoctorItem> {
  const name = `${lb.name} log`;
  let lines: string[];
  try {
    lines = await tailLines(path);
  } catch (err) {
    return {
      section: 'Diagnostics',
      name,
      status: 'problem',
      detail: `cannot read ${path}: ${(err as Error).message}`,
      fix: `point the log of ${lb.name} in the targets file at the file ${lb.kind} writes, readable by the bot's user`,
    };
  }
  if (lines.length === 0)
    return {
      section: 'Diagnostics',
      name,
      status: 'problem',
      detail: `${path} is empty: the traffic checks have nothing to read`,
      fix: `check that ${lb.kind} logs requests to ${path}`,
    };
  const good = lines.filter(parses).length;
  return good * 2 >= lines.length
    ? {
        section: 'Diagnostics',
        name,
        status: 'ok',
        detail: `${good} of the last ${lines.length} lines of ${path} match the format`,
      }
    : {
        section: 'Diagnostics',
        name,
        status: 'problem',
        detail: `only ${good} of the last ${lines.length} lines of ${path} match the format, e.g.: ${lines.find((l) => !parses(l))!.slice(0, 160)}`,
        fix: formatFix,
      };
}

async function lbItems(lb: LoadBalancerTarget, timeoutMs: number): Promise<DoctorItem[]> {
  const items: DoctorItem[] = [];
  const add = (name: string, status: DoctorStatus, detail: string, fix?: string) =>
    items.push({
      section: 'Diagnostics',
      name: `${lb.name} ${name}`,
      status,
      detail,
      ...(fix ? { fix } : {}),
    });
  if (lb.kind === 'haproxy') {
    if (lb.stats) {
      try {
        const snap = parseHaproxyStatsCsv(await fetchHaproxyStats(lb.stats, { timeoutMs }));
        const servers = snap.rows.filter((r) => r.svname !== 'FRONTEND' && r.svname !== 'BACKEND');
        if (servers.length === 0)
          add(
            'stats',
            'problem',
            `${lb.stats} answered, but with no server rows (is it HAProxy "show stat" CSV?)`,
            'use the CSV stats: a stats URL ending in ;csv, or unix:/path/to/admin.sock',
          );
        else add('stats', 'ok', `${lb.stats}: ${servers.length} servers`);
      } catch (err) {
        add(
          'stats',
          'problem',
          (err as Error).message,
          `make the stats reachable from the bot's host: \`stats uri /stats\` on a listener (URL ending in ;csv) or \`stats socket /run/haproxy/admin.sock\`, and fix "stats:" of ${lb.name} in the targets file`,
        );
      }
    }
    if (lb.config) {
      try {
        const cfg = parseHaproxyConfig(await readFile(lb.config, 'utf8'));
        const servers = cfg.proxies.reduce((n, p) => n + p.servers.length, 0);
        if (servers === 0)
          add(
            'config',
            'problem',
            `${lb.config} declares no servers`,
            'point "config:" at the haproxy.cfg HAProxy loads',
          );
        else
          add(
            'config',
            'ok',
            `${lb.config}: ${cfg.proxies.length} sections, ${servers} servers${cfg.problems.length ? `; notes: ${cfg.problems.join('; ')}` : ''}`,
          );
      } catch (err) {
        add(
          'config',
          'problem',
          `cannot read ${lb.config}: ${(err as Error).message}`,
          'point "config:" at the haproxy.cfg HAProxy loads, readable by the bot',
        );
      }
    }
    if (lb.log) {
      const offset = parseUtcOffset(lb.logUtcOffset);
      items.push(
        await logSampleItem(
          lb,
          lb.log,
          (l) => parseHaproxyHttpLogLine(l, offset) !== undefined,
          'log with `option httplog` (the default HTTP format) in the frontend, or point "log:" at the file of HTTP requests',
        ),
      );
    }
  } else if (lb.kind === 'envoy') {
    try {
      const clusters = parseEnvoyClusters(await fetchEnvoyClusters(lb.clusters, { timeoutMs }));
      const hosts = clusters.reduce((n, c) => n + c.hosts.length, 0);
      add('clusters', 'ok', `${lb.clusters}: ${clusters.length} clusters, ${hosts} hosts`);
    } catch (err) {
      add(
        'clusters',
        'problem',
        `cannot read ${lb.clusters}: ${(err as Error).message}`,
        'point "clusters:" at the Envoy admin /clusters?format=json the bot can reach, or a file of its output',
      );
    }
  } else if (lb.kind === 'aws-elbv2') {
    const where = lb.targetHealth ?? lb.targetGroupArn ?? '';
    try {
      const targets = lb.targetHealth
        ? await readTargetHealthFile(lb.targetHealth)
        : await fetchTargetHealth(
            { targetGroupArn: lb.targetGroupArn!, region: lb.region!, endpoint: lb.endpoint },
            { timeoutMs },
          );
      add('target health', 'ok', `${where}: ${targets.length} targets`);
    } catch (err) {
      add(
        'target health',
        'problem',
        `cannot read ${where}: ${(err as Error).message}`,
        lb.targetHealth
          ? 'point "targetHealth:" at the JSON of `aws elbv2 describe-target-health`'
          : 'check the AWS credentials (the standard chain) may call elasticloadbalancing:DescribeTargetHealth on that target group, and the region',
      );
    }
  } else {
    if (lb.config) {
      try {
        const cfg = await loadNginxConfig(lb.config);
        const servers = cfg.upstreams.reduce((n, u) => n + u.servers.length, 0);
        add(
          'config',
          cfg.problems.length ? 'problem' : 'ok',
          `${lb.config}: ${cfg.upstreams.length} upstreams, ${servers} servers${cfg.problems.length ? `; ${cfg.problems.join('; ')}` : ''}`,
          cfg.problems.length ? 'fix the includes named above' : undefined,
        );
      } catch (err) {
        add(
          'config',
          'problem',
          `cannot read ${lb.config}: ${(err as Error).message}`,
          'point "config:" at the nginx.conf nginx loads',
        );
      }
    }
    if (lb.accessLog) {
      let parse: ((l: string) => boolean) | undefined;
      try {
        const p = compileNginxLogFormat(lb.logFormat ?? NGINX_COMBINED);
        parse = (l) => p.parse(l) !== undefined;
      } catch (err) {
        add(
          'log format',
          'problem',
          (err as Error).message,
          'copy the log_format string from nginx.conf into "logFormat:"',
        );
      }
      if (parse)
        items.push(
          await logSampleItem(
            lb,
            lb.accessLog,
            parse,
            `set "logFormat:" of ${lb.name} to the log_format the access_log uses (nginx's combined when none is named), with $upstream_addr for per-server checks`,
          ),
        );
    }
  }
  if (items.length === 0)
    add(
      'sources',
      'problem',
      'names no stats, log or config',
      'give it at least a log (or stats, for HAProxy) and its config',
    );
  return items;
}

async function diagnosticsItems(s: Settings, timeoutMs: number): Promise<DoctorItem[]> {
  if (!s.DIAGNOSTICS_CONFIG)
    return [
      {
        section: 'Diagnostics',
        name: 'targets',
        status: 'skipped',
        detail: 'DIAGNOSTICS_CONFIG is not set: every automated checklist item will be skipped',
      },
    ];
  const file = s.DIAGNOSTICS_CONFIG;
  let loaded: Awaited<ReturnType<typeof loadDiagnosticsConfig>>;
  try {
    loaded = await loadDiagnosticsConfig(file);
  } catch (err) {
    return [
      {
        section: 'Diagnostics',
        name: 'targets',
        status: 'problem',
        detail: `cannot read ${file}: ${(err as Error).message}`,
        fix: 'set DIAGNOSTICS_CONFIG to the path of your targets file (README, "The targets file")',
      },
    ];
  }
  const items: DoctorItem[] = loaded.problems.map((p) => ({
    section: 'Diagnostics' as const,
    name: 'targets',
    status: 'problem' as const,
    detail: p,
    fix: 'fix the targets file at that line; the entry is ignored until then',
  }));
  const { config } = loaded;
  if (items.length === 0)
    items.push({
      section: 'Diagnostics',
      name: 'targets',
      status: 'ok',
      detail: `${file}: ${config.loadBalancers.length} load balancers${config.probes.database ? ', a database probe' : ''}${config.probes.endpoints.length ? `, ${config.probes.endpoints.length} endpoints` : ''}`,
    });
  for (const items2 of await Promise.all(config.loadBalancers.map((lb) => lbItems(lb, timeoutMs))))
    items.push(...items2);
  const db = config.probes.database;
  if (db) {
    const r =
      db.kind === 'postgres'
        ? await probePostgres(db.url, timeoutMs)
        : await probeTcp(db.host, db.port, timeoutMs);
    items.push(
      r.ok
        ? {
            section: 'Diagnostics',
            name: 'database probe',
            status: 'ok',
            detail: `answers in ${Math.round(r.ms)} ms`,
          }
        : {
            section: 'Diagnostics',
            name: 'database probe',
            status: 'problem',
            detail: `unreachable: ${r.error}`,
            fix: "fix probes.database in the targets file, or let the bot's host reach the database",
          },
    );
  }
  for (const url of config.probes.endpoints) {
    const r = await probeHttp(url, timeoutMs);
    items.push(
      r.ok
        ? {
            section: 'Diagnostics',
            name: `endpoint ${url}`,
            status: 'ok',
            detail: `answers in ${Math.round(r.ms)} ms`,
          }
        : {
            section: 'Diagnostics',
            name: `endpoint ${url}`,
            status: 'problem',
            detail: `unreachable: ${r.error}`,
            fix: "fix the URL in probes.endpoints, or let the bot's host reach it",
          },
    );
  }
  return items;
}

/**
 * Checks a real setup: every setting, the Slack token and its scopes against the manifest, the
 * announce channel, each responder and escalation user, Redis (version, persistence, eviction
 * policy), the templates and each diagnostics target. Never throws for what it finds: each finding
 * is an item, with a fix for each problem.
 */
export async function runDoctor(options: DoctorOptions = {}): Promise<DoctorItem[]> {
  const opts: Required<DoctorOptions> = {
    env: options.env ?? process.env,
    manifestPath: options.manifestPath ?? defaultManifestPath(),
    timeoutMs: options.timeoutMs ?? 3000,
  };
  const s = lenientSettings(opts.env);
  const [slack, facts] = await slackItems(s, opts);
  const [channels, people, redis, templates, diagnostics] = await Promise.all([
    channelItems(opts.env, facts),
    peopleItems(s, facts),
    redisItems(s, opts.timeoutMs),
    templateItems(s),
    diagnosticsItems(s, opts.timeoutMs),
  ]);
  return [
    ...settingsItems(opts.env),
    ...slack,
    ...channels,
    ...people,
    ...redis,
    ...templates,
    ...diagnostics,
  ];
}

const MARK: Record<DoctorStatus, string> = { ok: '✔', problem: '✘', skipped: '–' };

/** The checklist as text: sections in order, one line per item, its fix indented below a problem, and a total. */
export function formatDoctor(items: DoctorItem[]): string {
  const out: string[] = ['incident-bot doctor'];
  let section = '';
  for (const i of items) {
    if (i.section !== section) {
      section = i.section;
      out.push('', section);
    }
    out.push(`  ${MARK[i.status]} ${i.name}: ${i.detail}`);
    if (i.status === 'problem' && i.fix) out.push(`      fix: ${i.fix}`);
  }
  const problems = items.filter((i) => i.status === 'problem').length;
  out.push(
    '',
    problems === 0
      ? 'Nothing is wrong.'
      : `${problems} problem${problems === 1 ? '' : 's'}; fix ${problems === 1 ? 'it' : 'them'} and run incident-bot doctor again.`,
  );
  return `${out.join('\n')}\n`;
}
