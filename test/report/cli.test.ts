import { Command } from 'commander';
import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { registerExport } from '../../src/cli/export.js';
import { registerReport } from '../../src/cli/report.js';
import type { IncidentId } from '../../src/core/incident-model.js';
import { RedisStore } from '../../src/redis/store.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

// `incident-bot report` and `incident-bot export` against real Redis: incidents written through the
// store as the bot writes them, read back by the CLI commands with the bot's settings.

const user = { type: 'user', id: 'U0ALICE01' } as const;
let prefix: string;
let emptyPrefix: string;
let redis: Redis;
let store: RedisStore;

async function run(p: string, ...args: string[]) {
  let out = '';
  let err = '';
  let code = 0;
  const io = {
    out: (t: string) => {
      out += t;
    },
    err: (t: string) => {
      err += t;
    },
    setExitCode: (c: number) => {
      code = c;
    },
    now: () => new Date('2024-05-20T00:00:00.000Z'),
  };
  const program = new Command('incident-bot').exitOverride();
  const env = { REDIS_URL: TEST_REDIS_URL, REDIS_PREFIX: p };
  registerReport(program, io, env);
  registerExport(program, io, env);
  await program.parseAsync(['node', 'incident-bot', ...args]);
  return { out, err, code };
}

async function incident(title: string, at: (min: number) => string, close: boolean): Promise<IncidentId> {
  const { id } = await store.declare({
    kind: 'declared',
    at: at(0),
    actor: user,
    source: 'slash',
    title,
    severity: 'SEV2',
  });
  const base = { incidentId: id, actor: user, source: 'slash' as const };
  await store.append(id, [
    {
      ...base,
      kind: 'hypothesis_suspected',
      at: at(5),
      hypothesisId: 'H1',
      text: 'the database',
      category: 'database',
    },
    { ...base, kind: 'hypothesis_ruled_out', at: at(20), hypothesisId: 'H1', evidence: 'p99 4 ms' },
    { ...base, kind: 'status_changed', at: at(30), from: 'investigating', to: 'identified' },
    { ...base, kind: 'status_changed', at: at(40), from: 'identified', to: 'resolved' },
  ]);
  if (close) {
    await store.close(id, { ...base, kind: 'closed', at: at(45) });
    await store.leaveOpenIndex(id, undefined, new Date(at(45)));
  }
  return id;
}

beforeAll(async () => {
  prefix = testPrefix('report-cli');
  emptyPrefix = testPrefix('report-cli-empty');
  redis = new Redis(TEST_REDIS_URL);
  store = new RedisStore(redis, prefix);
  // 23:40 → 00:25: the incident runs across midnight.
  await incident(
    'Checkout 5xx',
    (m) => new Date(Date.parse('2024-05-10T23:40:00.000Z') + m * 60_000).toISOString(),
    true,
  );
  await incident(
    'Search slow',
    (m) => new Date(Date.parse('2024-05-12T10:00:00.000Z') + m * 60_000).toISOString(),
    true,
  );
  await incident(
    'Still open',
    (m) => new Date(Date.parse('2024-05-19T10:00:00.000Z') + m * 60_000).toISOString(),
    false,
  );
});
afterAll(async () => {
  redis?.disconnect();
  await cleanPrefix(prefix);
  await cleanPrefix(emptyPrefix);
});

describe('incident-bot report', () => {
  it('prints JSON with the closed incidents’ figures and the open one excluded', async () => {
    const r = await run(prefix, 'report', '--since', '30d', '--json');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc.openExcluded).toBe(1);
    const sev2 = doc.rows.find((x: { severity: string }) => x.severity === 'SEV2');
    expect(sev2).toMatchObject({
      count: 2,
      metrics: {
        acknowledge: { count: 2, median: 0, p90: 0 },
        identify: { count: 2, median: 1800, p90: 1800 },
        resolve: { count: 2, median: 2400, p90: 2400 },
      },
      misleading: { totalSeconds: 1800, median: 900 },
    });
    expect(doc.ruledOut).toEqual([{ category: 'database', times: 2, incidents: 2 }]);
  });

  it('prints CSV and a table, and counts only incidents closed inside --since', async () => {
    const csv = await run(prefix, 'report', '--since', '30d', '--csv');
    expect(csv.out.split('\r\n')[1]).toMatch(/^SEV2,2,0,0,/);
    const week = await run(prefix, 'report', '--since', '8d');
    expect(week.out).toMatch(/^SEV2 +1 /m);
  });

  it('refuses a bad --since with a usage error and prints an empty table when there are no incidents', async () => {
    const bad = await run(prefix, 'report', '--since', 'last-month');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain(
      '--since "last-month": since must be a number of hours, days or weeks like 12h, 30d or 2w',
    );
    expect(bad.err).toContain('usage: incident-bot report');
    const empty = await run(emptyPrefix, 'report');
    expect(empty.code).toBe(0);
    expect(empty.out).toMatch(/^all +0 +0 +0 +- +- /m);
  });
});

describe('incident-bot export', () => {
  it('prints every timeline entry as JSON with its schema version', async () => {
    const r = await run(prefix, 'export', 'INC-1');
    expect(r.code).toBe(0);
    const doc = JSON.parse(r.out);
    expect(doc).toMatchObject({ incidentId: 'INC-1', schemaVersion: 1 });
    expect(
      doc.entries.map((e: { seq: number; kind: string; schemaVersion: number }) => [
        e.seq,
        e.kind,
        e.schemaVersion,
      ]),
    ).toEqual([
      [1, 'declared', 1],
      [2, 'hypothesis_suspected', 1],
      [3, 'hypothesis_ruled_out', 1],
      [4, 'status_changed', 1],
      [5, 'status_changed', 1],
      [6, 'closed', 1],
    ]);
    expect(doc.entries[2]).toMatchObject({ evidence: 'p99 4 ms', actor: user, incidentId: 'INC-1' });
  });

  it('says what is wrong for an unknown or malformed incident id', async () => {
    const missing = await run(prefix, 'export', 'INC-99');
    expect(missing.code).toBe(1);
    expect(missing.err).toContain('INC-99 does not exist');
    const bad = await run(prefix, 'export', 'checkout');
    expect(bad.code).toBe(2);
    expect(bad.err).toContain('"checkout" is not an incident id; write e.g. INC-42');
  });
});
