import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { Command } from 'commander';
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import type { CliIo } from '../../src/cli/diagnose.js';
import { registerDoctor } from '../../src/cli/doctor.js';
import { type DoctorItem, formatDoctor, runDoctor } from '../../src/doctor/doctor.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { manifestBotScopes } from '../../src/slack/manifest.js';
import { freePorts, type RedisServerProcess, spawnRedisServer } from '../support/redis.js';

// A real setup against the Slack sandbox, throwaway redis-servers on loopback (one as production
// wants it: AOF on, noeviction; one evicting) and a recording of a real HAProxy as the target.
const RECORDING = resolve(import.meta.dirname, '../fixtures/diagnostics/recordings/haproxy-healthy-even');
const work = mkdtempSync(join(tmpdir(), 'ib-doctor-'));
let healthyRedis: RedisServerProcess;
let evictingRedis: RedisServerProcess;
let closedPort: number;
const sandboxes: Sandbox[] = [];

beforeAll(async () => {
  const [a, b, c] = await freePorts(3);
  closedPort = c!;
  const common = ['--bind', '127.0.0.1', '--save', '', '--dir', work];
  [healthyRedis, evictingRedis] = await Promise.all([
    spawnRedisServer(a!, [
      '--port',
      String(a),
      ...common,
      '--appendonly',
      'yes',
      '--appendfilename',
      'a.aof',
    ]),
    spawnRedisServer(b!, [
      '--port',
      String(b),
      ...common,
      '--appendonly',
      'yes',
      '--maxmemory-policy',
      'allkeys-lru',
    ]),
  ]);
});
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});
afterAll(async () => {
  await Promise.all([healthyRedis?.kill(), evictingRedis?.kill()]);
  rmSync(work, { recursive: true, force: true });
});

function targets(lines: string[]): string {
  const file = join(work, `targets-${Math.random().toString(36).slice(2)}.yml`);
  writeFileSync(file, ['loadBalancers:', ...lines, ''].join('\n'));
  return file;
}

const healthyTargets = () =>
  targets([
    '  - name: edge',
    '    kind: haproxy',
    `    stats: ${join(RECORDING, 'stats-2.csv')}`,
    `    log: ${join(RECORDING, 'haproxy.log')}`,
    `    config: ${join(RECORDING, 'haproxy.cfg')}`,
  ]);

/** A healthy workspace: two responders, an escalation user, an announce channel the bot is in. */
async function setup() {
  const sandbox = await startSandbox();
  sandboxes.push(sandbox);
  const alice = sandbox.addUser({ name: 'alice' }).id;
  const bob = sandbox.addUser({ name: 'bob' }).id;
  const carol = sandbox.addUser({ name: 'carol' }).id;
  const announce = sandbox.addChannel({ name: 'incidents', members: [sandbox.botUserId, alice] }).id;
  const env: NodeJS.ProcessEnv = {
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: 'doctor-signing-secret-0123456789',
    SLACK_API_URL: sandbox.apiUrl,
    REDIS_URL: `redis://127.0.0.1:${healthyRedis.port}`,
    INCIDENT_RESPONDERS: `${alice},${bob}`,
    INCIDENT_ESCALATION_USERS: carol,
    INCIDENT_ANNOUNCE_CHANNEL: announce,
    DIAGNOSTICS_CONFIG: healthyTargets(),
  };
  return { sandbox, env, alice, bob, carol, announce };
}

const problems = (items: DoctorItem[]) => items.filter((i) => i.status === 'problem');
const problem = (items: DoctorItem[], name: string | RegExp) => {
  const hit = problems(items).find((i) => (typeof name === 'string' ? i.name === name : name.test(i.name)));
  if (!hit) throw new Error(`no problem named ${name}; the checklist:\n${formatDoctor(items)}`);
  return hit;
};

async function cli(
  env: NodeJS.ProcessEnv,
  args: string[] = [],
): Promise<{ out: string; code: number | undefined }> {
  let out = '';
  let code: number | undefined;
  const io: CliIo = {
    out: (t) => {
      out += t;
    },
    err: (t) => {
      out += t;
    },
    setExitCode: (c) => {
      code = c;
    },
    now: () => new Date(),
  };
  const program = new Command().exitOverride();
  registerDoctor(program, io, env);
  await program.parseAsync(['node', 'incident-bot', 'doctor', ...args]);
  return { out, code };
}

describe('incident-bot doctor', () => {
  it('passes a healthy setup with exit code 0 and checks every part', async () => {
    const { env } = await setup();
    const { out, code } = await cli(env);
    expect(out).toContain('Nothing is wrong.');
    expect(code).toBe(0);
    const items = await runDoctor({ env });
    expect(problems(items)).toEqual([]);
    const okNames = items.filter((i) => i.status === 'ok').map((i) => `${i.section}/${i.name}`);
    expect(okNames).toEqual(
      expect.arrayContaining([
        'Settings/environment',
        'Slack/request verification',
        'Slack/token',
        'Slack/scopes',
        'Channels/INCIDENT_ANNOUNCE_CHANNEL',
        'Redis/version',
        'Redis/persistence',
        'Redis/eviction policy',
        'Templates/postmortem',
        'Templates/checklists',
        'Diagnostics/targets',
        'Diagnostics/edge stats',
        'Diagnostics/edge config',
        'Diagnostics/edge log',
      ]),
    );
    expect(items.filter((i) => i.section === 'People' && i.status === 'ok')).toHaveLength(3);
  });

  it('reports each broken setting with the schema’s own message, and still checks the rest', async () => {
    const { env } = await setup();
    const items = await runDoctor({
      env: {
        ...env,
        INCIDENT_ANNOUNCE_CHANNEL: '#incidents',
        REDIS_PREFIX: 'bot{1}',
        WORKER_CONCURRENCY: '0',
      },
    });
    const announce = problem(items, 'INCIDENT_ANNOUNCE_CHANNEL');
    expect(announce.section).toBe('Settings');
    expect(announce.detail).toBe('must be a channel id like C012ABCDEF (not a #name)');
    expect(announce.fix).toContain('INCIDENT_ANNOUNCE_CHANNEL');
    expect(problem(items, 'REDIS_PREFIX').detail).toContain('must not contain { or }');
    expect(problem(items, 'WORKER_CONCURRENCY').section).toBe('Settings');
    // The valid settings were still used: Slack and Redis were checked.
    expect(items.find((i) => i.name === 'token')?.status).toBe('ok');
    expect(items.find((i) => i.name === 'eviction policy')?.status).toBe('ok');
    const { code, out } = await cli({ ...env, INCIDENT_ANNOUNCE_CHANNEL: '#incidents' }, ['--json']);
    expect(code).toBe(1);
    const json = JSON.parse(out) as { items: DoctorItem[] };
    expect(json.items.find((i) => i.name === 'INCIDENT_ANNOUNCE_CHANNEL')).toMatchObject({
      section: 'Settings',
      status: 'problem',
    });
  });

  it('reports a token Slack refuses, with where to copy a new one', async () => {
    const { env } = await setup();
    const items = await runDoctor({ env: { ...env, SLACK_BOT_TOKEN: 'xoxb-revoked' } });
    const token = problem(items, 'token');
    expect(token.detail).toBe('auth.test failed: invalid_auth');
    expect(token.fix).toContain('Bot User OAuth Token');
  });

  it('reports the scopes manifest.yml asks for that the token lacks, with how to grant them', async () => {
    const { env, sandbox } = await setup();
    sandbox.scopes = manifestBotScopes().filter((s) => s !== 'pins:write' && s !== 'users:read');
    const items = await runDoctor({ env });
    const scopes = problem(items, 'scopes');
    expect(scopes.detail).toBe('the token lacks pins:write, users:read, which manifest.yml asks for');
    expect(scopes.fix).toMatch(/add pins:write, users:read under OAuth & Permissions .* reinstall the app/);
  });

  it('reports an archived announce channel and one the bot cannot post to', async () => {
    const { env, sandbox, announce, alice } = await setup();
    const fallback = sandbox.addChannel({ name: 'ops-fallback', members: [sandbox.botUserId] }).id;
    expect(problems(await runDoctor({ env: { ...env, INCIDENT_FALLBACK_CHANNEL: fallback } }))).toEqual([]);
    sandbox.archiveChannel(fallback);
    expect(
      problem(
        await runDoctor({ env: { ...env, INCIDENT_FALLBACK_CHANNEL: fallback } }),
        'INCIDENT_FALLBACK_CHANNEL',
      ).fix,
    ).toBe('unarchive #ops-fallback, or set INCIDENT_FALLBACK_CHANNEL to a channel in use');
    sandbox.archiveChannel(announce);
    const archived = problem(await runDoctor({ env }), 'INCIDENT_ANNOUNCE_CHANNEL');
    expect(archived.detail).toBe(
      `#incidents (${announce}) is archived: posts to it are refused (is_archived)`,
    );
    expect(archived.fix).toBe('unarchive #incidents, or set INCIDENT_ANNOUNCE_CHANNEL to a channel in use');

    const secret = sandbox.addChannel({ name: 'secret', members: [alice], isPrivate: true }).id;
    const hidden = problem(
      await runDoctor({ env: { ...env, INCIDENT_ANNOUNCE_CHANNEL: secret } }),
      'INCIDENT_ANNOUNCE_CHANNEL',
    );
    // Slack answers channel_not_found for a private channel the bot is not in; either way it cannot post there.
    expect(hidden.detail).toMatch(
      new RegExp(
        `^(${secret}: conversations.info answered channel_not_found|#secret \\(${secret}\\): the bot is not a member and cannot post there)$`,
      ),
    );
    expect(hidden.fix).toMatch(/invite/);

    sandbox.scopes = sandbox.scopes.filter((s) => s !== 'chat:write.public');
    const other = sandbox.addChannel({ name: 'ops', members: [alice] }).id;
    const outside = problem(
      await runDoctor({ env: { ...env, INCIDENT_ANNOUNCE_CHANNEL: other } }),
      'INCIDENT_ANNOUNCE_CHANNEL',
    );
    expect(outside.fix).toBe('type /invite @incident-bot in #ops');
  });

  it('reports a guest responder, a deactivated escalation user and an unknown id, each with its fix', async () => {
    const { env, sandbox, bob, carol } = await setup();
    sandbox.updateUser(bob, { is_restricted: true });
    sandbox.updateUser(carol, { deleted: true });
    const items = await runDoctor({
      env: { ...env, INCIDENT_RESPONDERS: `${env.INCIDENT_RESPONDERS},U0NOBODY99` },
    });
    const guest = problem(items, `INCIDENT_RESPONDERS ${bob}`);
    expect(guest.detail).toBe(
      '@bob is a multi-channel guest: guests cannot be invited to new incident channels',
    );
    expect(guest.fix).toContain(`make @bob a full member`);
    expect(problem(items, `INCIDENT_ESCALATION_USERS ${carol}`).detail).toBe('@carol is deactivated');
    const unknown = problem(items, 'INCIDENT_RESPONDERS U0NOBODY99');
    expect(unknown.detail).toBe('users.info answered user_not_found');
    expect(unknown.fix).toContain('remove U0NOBODY99 from INCIDENT_RESPONDERS');
    expect(problems(items)).toHaveLength(3);
  });

  it('reports a Redis that evicts keys, one without persistence, and one that does not answer', async () => {
    const { env } = await setup();
    const evicting = await runDoctor({
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${evictingRedis.port}` },
    });
    const policy = problem(evicting, 'eviction policy');
    expect(policy.detail).toMatch(/^maxmemory-policy is allkeys-lru: Redis may evict jobs/);
    expect(policy.fix).toMatch(/^CONFIG SET maxmemory-policy noeviction/);
    expect(problems(evicting)).toHaveLength(1);

    // The suites' shared Redis runs without persistence (.ci/run starts it with --save "" --appendonly no).
    const shared = await runDoctor({ env: { ...env, REDIS_URL: 'redis://127.0.0.1:6379' } });
    const persistence = shared.find((i) => i.name === 'persistence')!;
    if (persistence.status === 'problem') expect(persistence.fix).toContain('appendonly yes');

    const down = await runDoctor({
      env: { ...env, REDIS_URL: `redis://127.0.0.1:${closedPort}` },
      timeoutMs: 1000,
    });
    const conn = problem(down, 'connection');
    expect(conn.detail).toContain(`cannot reach 127.0.0.1:${closedPort}`);
    expect(conn.fix).toContain('REDIS_URL');
  });

  it('reports an unreachable stats URL, a missing log and a log in another format', async () => {
    const { env } = await setup();
    const file = targets([
      '  - name: edge',
      '    kind: haproxy',
      `    stats: http://127.0.0.1:${closedPort}/stats;csv`,
      `    log: ${join(RECORDING, '../nginx-healthy-even/access.log')}`,
      '  - name: api',
      '    kind: nginx',
      `    accessLog: ${join(work, 'missing.log')}`,
      '  - name: broken',
      '    kind: traefik',
    ]);
    const items = await runDoctor({ env: { ...env, DIAGNOSTICS_CONFIG: file }, timeoutMs: 1000 });
    const stats = problem(items, 'edge stats');
    expect(stats.detail).toContain(`stats http://127.0.0.1:${closedPort}/stats;csv unreachable`);
    expect(stats.fix).toContain('stats socket');
    const format = problem(items, 'edge log');
    expect(format.detail).toMatch(
      /^only 0 of the last \d+ lines of .*access\.log match the format, e\.g\.: /,
    );
    expect(format.fix).toContain('option httplog');
    expect(problem(items, 'api log').detail).toContain('cannot read');
    expect(problem(items, 'targets').detail).toMatch(
      /line 10, loadBalancers\[2\]\.kind: expected haproxy, nginx, envoy or aws-elbv2/,
    );
  });

  it('reads Envoy and ELB targets from their published examples and reports one that does not parse', async () => {
    const { env } = await setup();
    const published = join(import.meta.dirname, '../fixtures/diagnostics/published');
    const garbled = join(work, 'clusters-garbled.json');
    writeFileSync(garbled, '{"cluster_statuses": [{"name": 7}');
    const file = targets([
      '  - name: mesh',
      '    kind: envoy',
      `    clusters: ${join(published, 'envoy/envoy-test-expected-clusters.json')}`,
      '  - name: alb',
      '    kind: aws-elbv2',
      `    targetHealth: ${join(published, 'aws-elbv2/awscli-example-1-healthy-group.json')}`,
      '  - name: torn',
      '    kind: envoy',
      `    clusters: ${garbled}`,
    ]);
    const items = await runDoctor({ env: { ...env, DIAGNOSTICS_CONFIG: file }, timeoutMs: 1000 });
    const item = (name: string) => items.find((i) => i.section === 'Diagnostics' && i.name === name);
    expect(item('mesh clusters')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/1 clusters, 1 hosts/),
    });
    expect(item('alb target health')).toMatchObject({
      status: 'ok',
      detail: expect.stringMatching(/2 targets$/),
    });
    const torn = problem(items, 'torn clusters');
    expect(torn.detail).toContain('cannot read');
    expect(torn.fix).toContain('/clusters?format=json');
  });
});
