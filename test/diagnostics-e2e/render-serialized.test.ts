import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { IncidentId } from '../../src/core/incident-model.js';
import { renderChecklist } from '../../src/flows/checklist.js';
import type { Deps, SlackMessage, SlackPort } from '../../src/flows/deps.js';
import { closeAllConnections, waitReady } from '../../src/redis/connection.js';
import { createRuntime, type Runtime } from '../../src/runtime.js';
import { blocksToText } from '../../src/sandbox/index.js';
import { cleanPrefix, TEST_REDIS_URL, testPrefix } from '../support/redis.js';

// Many results land at once on several workers; each re-renders the checklist. Slack's chat.update
// replaces the whole message, so the last update to arrive must be drawn from the latest state.

const prefix = testPrefix('diag-render');
let rt: Runtime;
let id: IncidentId;
const updates: { text: string; body: string }[] = [];
let inFlight = 0;
let maxInFlight = 0;

const slack = {
  async update(_channel: string, _ts: string, msg: SlackMessage) {
    inFlight++;
    maxInFlight = Math.max(maxInFlight, inFlight);
    // Let the other renders run meanwhile, as a slow Slack call would.
    await new Promise((r) => setImmediate(r));
    updates.push({ text: msg.text, body: blocksToText(msg.blocks ?? []).join('\n') });
    inFlight--;
  },
} as unknown as SlackPort;

beforeAll(async () => {
  rt = createRuntime({
    SLACK_BOT_TOKEN: 'xoxb-test',
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    REDIS_URL: TEST_REDIS_URL,
    REDIS_PREFIX: prefix,
    LOG_LEVEL: 'silent',
  });
  await waitReady(rt.redis, 3000);
  const at = new Date().toISOString();
  ({ id } = await rt.store.declare({
    kind: 'declared',
    at,
    actor: { type: 'bot' },
    source: 'cli',
    title: 'render race',
    severity: 'SEV2',
  }));
  await rt.store.setMeta(id, { 'checklist-ts': '1.000001', 'checklist-channel': 'C1' });
});
afterAll(async () => {
  await closeAllConnections();
  await cleanPrefix(prefix);
});

describe('checklist renders', () => {
  it('run one at a time per incident, and the last one shows every result', async () => {
    const deps: Deps = { ...rt.deps, slack };
    const targets = Array.from({ length: 12 }, (_, i) => `lb${i}`);
    await Promise.all(
      targets.map(async (target) => {
        await rt.store.append(id, [
          {
            kind: 'check_result',
            incidentId: id,
            at: new Date().toISOString(),
            actor: { type: 'bot' },
            source: 'bot',
            result: {
              checkId: 'traffic-distribution',
              target,
              verdict: 'pass',
              summary: `${target} even`,
              evidence: [],
              servers: [],
              bears: [],
              notes: [],
            },
          },
        ]);
        await renderChecklist(deps, id);
      }),
    );
    expect(maxInFlight).toBe(1);
    expect(updates.length).toBeGreaterThan(0);
    expect(updates.length).toBeLessThanOrEqual(targets.length);
    const last = updates.at(-1)!.body;
    for (const t of targets) expect(last).toContain(`*${t}* *pass* — ${t} even`);
  });
});
