import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadConfig } from '../../src/config.js';
import type { IncidentId } from '../../src/core/incident-model.js';
import { declareIncident } from '../../src/flows/declare.js';
import { announce } from '../../src/flows/refusals.js';
import { processReminder } from '../../src/flows/reminders.js';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { SlackNotifier } from '../../src/slack/notifier.js';
import { flowWorld, T0 } from './support.js';

// The announce channel refuses in the three ways real ones do: archived (is_archived), private
// without the bot and deleted (both channel_not_found: https://docs.slack.dev/reference/methods/chat.postMessage#errors).
// The flows run on the memory store with the real notifier against the Slack sandbox.

let sandbox: Sandbox;
const channels: Record<string, string> = {};
beforeAll(async () => {
  sandbox = await startSandbox();
  const owner = sandbox.addUser({ name: 'olga' }).id;
  channels.archived = sandbox.addChannel({ name: 'announce-old', members: [owner, sandbox.botUserId] }).id;
  sandbox.archiveChannel(channels.archived);
  channels.private = sandbox.addChannel({ name: 'announce-secret', members: [owner], isPrivate: true }).id;
  channels.missing = 'C0DELETED01';
});
afterAll(async () => {
  await sandbox?.close();
});

async function world(announceChannel: string) {
  const w = flowWorld({ slack: new SlackNotifier(sandbox.botToken, sandbox.apiUrl) });
  w.deps.config = loadConfig({
    SLACK_BOT_TOKEN: sandbox.botToken,
    SLACK_SIGNING_SECRET: 'test-signing-secret',
    LOG_LEVEL: 'silent',
    INCIDENT_ANNOUNCE_CHANNEL: announceChannel,
    INCIDENT_ESCALATION_USERS: 'U0ONCALL01',
  });
  const { id } = await declareIncident(w.deps, {
    title: 'Checkout down',
    severity: 'SEV1',
    actor: { type: 'user', id: 'U0ALICE001' },
    source: 'slash',
  });
  const channel = sandbox.addChannel({
    name: `inc-${id.toLowerCase()}-${announceChannel.slice(-4).toLowerCase()}`,
    members: [sandbox.botUserId],
  });
  await w.store.append(id, [
    {
      kind: 'channel_created',
      incidentId: id,
      at: T0.toISOString(),
      actor: { type: 'bot' },
      source: 'bot',
      channelId: channel.id,
      channelName: channel.name,
    },
  ]);
  return { ...w, id: id as IncidentId };
}

describe('an announce channel that refuses', () => {
  for (const [kind, error] of [
    ['archived', 'is_archived'],
    ['private', 'channel_not_found'],
    ['missing', 'channel_not_found'],
  ] as const) {
    it(`(${kind}) never stops the escalation, and is said once on the incident's timeline`, async () => {
      const w = await world(channels[kind]!);
      // Escalation: nobody took command of the SEV1. It is recorded (and said in the incident channel)
      // although the announce channel refuses.
      w.advance(10 * 60_000);
      const basis = T0.toISOString();
      expect(await processReminder(w.deps, { incidentId: w.id, kind: 'escalation', basis })).toBe('sent');
      expect(await announce(w.deps, w.id, { text: 'again' })).toBe(false);
      const entries = await w.store.entries(w.id);
      expect(entries.filter((e) => e.kind === 'escalated')).toHaveLength(1);
      const refused = entries.filter((e) => e.kind === 'slack_refused');
      expect(refused.map((e) => [e.action, e.target, e.error])).toEqual([
        ['announce', channels[kind], error],
      ]);
    });
  }

  it('posts to an announce channel that accepts and reports true', async () => {
    const open = sandbox.addChannel({ name: 'announce-ok', members: [sandbox.botUserId] }).id;
    const w = await world(open);
    expect(await announce(w.deps, w.id, { text: 'INC declared' })).toBe(true);
    expect(sandbox.messages(open).map((m) => m.text)).toEqual(['INC declared']);
  });
});
