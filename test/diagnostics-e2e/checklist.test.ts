import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Harness, settled, startHarness } from '../support/harness.js';
import { type Lab, startHaproxyLab } from '../support/lab.js';
import { checklistMessage, checkResults, openIncident, settledChecklist, shown } from './helpers.js';

// A real HAProxy 2.6 whose weights send nearly everything to web1 (web1=100, web2=1, web3=1), as in the
// seeds; the bot reads its stats, log and config through DIAGNOSTICS_CONFIG.
let lab: Lab;
let h: Harness;
let channel: string;
let ts: string;
let firstRender: string;

beforeAll(async () => {
  lab = await startHaproxyLab('skewed-weights');
  await lab.send(300, ['/', '/', '/api/orders']);
  await lab.waitForLog(300);
  h = await startHarness('diag-e2e', { DIAGNOSTICS_CONFIG: lab.targetsPath });
  const general = h.sandbox.addChannel({ name: 'general', members: [h.users.alice] }).id;
  channel = await openIncident(h, general, 'Checkout is slow');
  const m = await checklistMessage(h, channel);
  ts = m.ts;
  firstRender = shown(m.history[0] ?? m);
  await settledChecklist(h, channel, ts);
});
afterAll(async () => {
  await h?.close();
  await lab?.stop();
});

const current = () => shown(h.sandbox.message(channel, ts)!);

describe('the checklist posted when an incident opens', () => {
  it('is one message, first showing the automated checks pending, then updated in place with each verdict', async () => {
    const checklists = h.sandbox.messages(channel).filter((m) => / checklist: default/.test(shown(m)));
    expect(checklists).toHaveLength(1);
    expect(firstRender).toMatch(/:hourglass_flowing_sand: \*edge\* running…/);
    const m = h.sandbox.message(channel, ts)!;
    expect(m.history.length).toBeGreaterThanOrEqual(1);
    const text = current();
    expect(text).not.toContain('running…');
    expect(text).toMatch(/:x: \*Traffic split matches the weights/);
    expect(text).toMatch(/\*edge\* \*fail\* — app: weights \(web1=100, web2=1, web3=1\)/);
    expect(text).toMatch(/:white_check_mark: \*Load balancer pools/);
    expect(text).toMatch(/:white_check_mark: \*No route sends requests/);
    // Nothing configures endpoint probes in the lab: the item says what to add.
    expect(text).toMatch(/Health endpoints answer.*\n.*skipped — no `probes.endpoints` in /);
  });

  it('shows a bar per server, observed against expected, in the traffic-distribution item', () => {
    expect(current()).toMatch(/web1 +█{10} +(99|100)% +expected 98% by weight, 33% if even/);
    expect(current()).toMatch(/web2 +█░{9} +\d(\.\d)?% +expected 1\.0% by weight, 33% if even/);
  });

  it('puts every result on the timeline and posts no message per result', async () => {
    const results = await checkResults(h, 'INC-1');
    const ids = results.map((e) => `${e.result.checkId}/${e.result.target}`).sort();
    expect(ids).toEqual([
      'backend-connect/edge',
      'database/database',
      'pool-health/edge',
      'recent-change/edge',
      'routing/edge',
      'traffic-distribution/edge',
      'traffic-volume/edge',
    ]);
    const td = results.find((e) => e.result.checkId === 'traffic-distribution')!;
    expect(td.result.verdict).toBe('fail');
    expect(td.actor).toEqual({ type: 'bot' });
    await settled(h, 'INC-1');
    const posts = h.sandbox.messages(channel).filter((m) => /traffic-distribution|pool-health/.test(m.text));
    expect(posts).toHaveLength(0);
  });
});

describe('hypotheses and the checks', () => {
  it('answers a database suspicion with the load balancer evidence', async () => {
    await h.client.slashCommand({
      text: 'suspect the database is overloaded',
      userId: h.users.alice,
      channelId: channel,
    });
    const nudge = await h.sandbox.waitForMessage(
      (m) => m.text.includes('Before digging into the database:'),
      {
        channel,
      },
    );
    expect(nudge.text).toMatch(
      // The wording of the evidence belongs to nudgeFor (src/core/hypothesis.ts); the numbers are what matter here.
      /web1 takes (99|100)% of requests on edge\b.*98%.*33%|web1 takes (99|100)% of requests on edge\b.*33%.*98%/,
    );
  });

  it('re-runs one check on /incident diagnose, shows it pending then done, and nudges the open hypothesis again', async () => {
    const before = await checkResults(h, 'INC-1');
    const after = h.sandbox.seq;
    const res = await h.client.slashCommand({
      text: 'diagnose traffic-distribution',
      userId: h.users.alice,
      channelId: channel,
    });
    expect((res.body as { text?: string }).text).toMatch(
      /Re-running `traffic-distribution` on INC-1 \(run 2\)/,
    );
    const pending = await h.sandbox.waitFor(
      (e) => e.method === 'chat.update' && e.args.ts === ts && /1 pending/.test(String(e.args.text)),
      { after },
    );
    expect(pending.ok).toBe(true);
    const text = await settledChecklist(h, channel, ts, pending.seq);
    expect(text).toContain('Run 2');
    const results = await checkResults(h, 'INC-1');
    expect(results.length).toBe(before.length + 1);
    expect(results.at(-1)!.result.checkId).toBe('traffic-distribution');
    // The fresh failing result bears on H1 (database): one nudge for this run of the check.
    const nudge = await h.sandbox.waitForMessage(
      (m) => m.text.includes('Before digging into the database:') && m.text.includes('re H1'),
      { channel },
    );
    expect(nudge.text).toContain('web1 takes');
  });

  it('says so when a check has nothing configured to look at, instead of queueing nothing', async () => {
    const res = await h.client.slashCommand({
      text: 'diagnose endpoints',
      userId: h.users.alice,
      channelId: channel,
    });
    expect((res.body as { text?: string }).text).toMatch(
      /targets\.yml gives `endpoints` nothing to check\. Configured: pool-health:edge, traffic-distribution:edge/,
    );
  });

  it('rejects an unknown check with the list of checks', async () => {
    const res = await h.client.slashCommand({
      text: 'diagnose the-database',
      userId: h.users.alice,
      channelId: channel,
    });
    expect((res.body as { text?: string }).text).toMatch(
      /unknown check; pick one of pool-health, traffic-distribution/,
    );
  });
});

describe('manual checklist items', () => {
  it('records a ticked checkbox on the timeline and shows who ticked it', async () => {
    const m = h.sandbox.message(channel, ts)!;
    const payload = {
      type: 'block_actions',
      user: { id: h.users.alice, username: 'alice', name: 'alice', team_id: h.sandbox.teamId },
      api_app_id: h.client.appId,
      token: h.client.token,
      container: { type: 'message', message_ts: ts, channel_id: channel, is_ephemeral: false },
      trigger_id: h.sandbox.issueTrigger(h.users.alice),
      team: { id: h.sandbox.teamId, domain: 'sandbox' },
      channel: { id: channel, name: h.sandbox.channel(channel)!.name },
      message: h.sandbox.workspace.toWire(m),
      state: { values: {} },
      response_url: h.sandbox.responseUrl({ channel, user: h.users.alice, messageTs: ts }).url,
      actions: [
        {
          type: 'checkboxes',
          action_id: 'checklist-item-recent-deploys',
          block_id: 'manual-recent-deploys',
          selected_options: [
            {
              text: { type: 'mrkdwn', text: '*Any deploy or config push in the last hours?*' },
              value: 'recent-deploys',
            },
          ],
          action_ts: `${Date.now() / 1000}`,
        },
      ],
    };
    const after = h.sandbox.seq;
    const body = new URLSearchParams({ payload: JSON.stringify(payload) }).toString();
    const res = await h.client.send(body, 'application/x-www-form-urlencoded');
    expect(res.status).toBe(200);
    await h.sandbox.waitFor(
      (e) =>
        e.method === 'chat.update' &&
        e.args.ts === ts &&
        String(JSON.stringify(e.args.blocks)).includes('done by'),
      { after },
    );
    const entries = await h.bot.rt.store.entries('INC-1');
    const tick = entries.find((e) => e.kind === 'checklist_item');
    expect(tick).toMatchObject({
      itemId: 'recent-deploys',
      checked: true,
      actor: { type: 'user', id: h.users.alice },
    });
    expect(current()).toContain(`done by <@${h.users.alice}>`);
  });
});
