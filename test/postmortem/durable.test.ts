import { spawn } from 'node:child_process';
import { once } from 'node:events';
import { existsSync, mkdtempSync, readFileSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ROOT } from '../bench/common.js';
import { type Proc, spawnEntry } from '../faults/spawn-entry.js';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// Issue 14, item 1: the draft lives with the incident in Redis. The worker that wrote it is gone and
// so is POSTMORTEM_DIR (a Heroku-style restart); a new worker re-renders it from the store, and the
// CLI prints it from the store, with neither the old disk nor Slack.

let h: Harness;
let worker: Proc | undefined;
const out = mkdtempSync(join(tmpdir(), 'ib-pm-cli-'));
beforeAll(async () => {
  h = await startHarness(
    'pm-durable',
    { REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0', ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0' },
    { worker: false },
  );
});
afterAll(async () => {
  await worker?.stop();
  await h?.close();
  rmSync(out, { recursive: true, force: true });
});

/** Runs `incident-bot <args>` as a real process with the bot's settings; resolves with its exit code and output. */
async function cli(args: string[]): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const child = spawn(process.execPath, ['--import', 'tsx', 'src/cli.ts', ...args], {
    cwd: ROOT,
    env: { ...process.env, ...h.env, LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (d: Buffer) => {
    stdout += d;
  });
  child.stderr.on('data', (d: Buffer) => {
    stderr += d;
  });
  const [code] = (await once(child, 'exit')) as [number | null];
  return { code, stdout, stderr };
}

describe('a postmortem draft stored with its incident', () => {
  it('is re-rendered from the store after POSTMORTEM_DIR is deleted and the worker restarted, by /incident postmortem and by the CLI', async () => {
    const { alice, bob } = h.users;
    const general = h.sandbox.addChannel({ name: 'general', members: [alice, bob] }).id;
    worker = await spawnEntry('worker', h.env, 'workers started');

    await h.client.slashCommand({ text: 'start sev2 Checkout latency', userId: alice, channelId: general });
    await settled(h, 'INC-1');
    const channel = (await h.bot.rt.store.current('INC-1'))!.channelId!;
    await h.client.slashCommand({ text: 'impact 30% of checkouts fail', userId: bob, channelId: channel });
    // Closing is for the declarer, the incident commander and INCIDENT_ADMINS (issue 11).
    await h.client.slashCommand({ text: 'close Weights reset to 1/1/1', userId: alice, channelId: channel });
    await eventually(() => expect(h.sandbox.files(channel)).toHaveLength(1), 45_000);

    const stored = await h.bot.rt.store.postmortemDraft('INC-1');
    expect(stored?.fileName).toBe('INC-1-checkout-latency.md');
    expect(stored?.markdown).toContain('# Postmortem: INC-1');
    expect(stored?.markdown).toContain('30% of checkouts fail');
    expect(stored?.view.incidentId).toBe('INC-1');
    expect(stored?.people[bob]).toBe('bob');
    expect(h.sandbox.files(channel)[0]?.content).toBe(stored?.markdown);
    const copy = join(h.env.POSTMORTEM_DIR!, 'INC-1-checkout-latency.md');
    expect(readFileSync(copy, 'utf8')).toBe(stored?.markdown);

    // The host throws its disk away and the worker restarts.
    await worker.stop();
    rmSync(h.env.POSTMORTEM_DIR!, { recursive: true, force: true });
    worker = await spawnEntry('worker', h.env, 'workers started');

    await h.client.slashCommand({ text: 'postmortem', userId: alice, channelId: channel });
    await eventually(() => expect(h.sandbox.files(channel)).toHaveLength(2), 45_000);
    const again = h.sandbox.files(channel)[1]!;
    expect(again.name).toBe('INC-1-checkout-latency.md');
    // Same facts, same draft: names still resolved, nothing lost with the disk.
    expect(again.content).toBe(stored?.markdown);
    expect(existsSync(copy)).toBe(true);
    await settled(h, 'INC-1');

    const file = join(out, 'INC-1.md');
    const rendered = await cli(['postmortem', 'INC-1', '--out', file]);
    expect(rendered.stderr).toContain('written to');
    expect(rendered.code).toBe(0);
    expect(readFileSync(file, 'utf8')).toBe(stored?.markdown);

    const printed = await cli(['postmortem', 'inc-1', '--stored']);
    expect(printed.code).toBe(0);
    expect(printed.stdout).toBe(stored?.markdown);

    const missing = await cli(['postmortem', 'INC-99']);
    expect(missing.code).toBe(1);
    expect(missing.stderr).toContain('INC-99 does not exist');
    const bad = await cli(['postmortem', 'incident-one']);
    expect(bad.code).toBe(2);
    expect(bad.stderr).toContain('write it like INC-42');
  });
});
