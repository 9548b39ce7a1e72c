import { describe, expect, it } from 'vitest';
import { dispatch } from '../../commands/index.js';
import type { CommandContext } from '../../commands/types.js';
import { foldTimeline } from '../../src/core/incident.js';
import { incidentMembers, visibleTo } from '../../src/core/visibility.js';
import { assignRole, changeStatus, closeIncident } from '../../src/flows/change-status.js';
import { declareIncident } from '../../src/flows/declare.js';
import { type FlowWorld, flowWorld } from './support.js';

const ALICE = 'U0ALICE01';
const BOB = 'U0BOB0001';
const who = (id: string) => ({ actor: { type: 'user' as const, id }, source: 'slash' as const });

async function declare(w: FlowWorld, title: string, severity: 'SEV1' | 'SEV2' | 'SEV3', by = ALICE) {
  const { id } = await declareIncident(w.deps, { title, severity, ...who(by) });
  return id;
}

const ctx = (w: FlowWorld, userId = ALICE): CommandContext => ({
  deps: w.deps,
  userId,
  channelId: 'C0GENERAL',
});

describe('/incident list', () => {
  it('shows open incidents most severe first with status, commander, age and channel, and --all adds closed ones with durations', async () => {
    const w = flowWorld();
    const a = await declare(w, 'Checkout 5xx', 'SEV2');
    w.advance(10 * 60_000);
    const b = await declare(w, 'Search down', 'SEV1');
    await assignRole(w.deps, b, 'commander', BOB, who(ALICE));
    await changeStatus(w.deps, b, 'identified', who(BOB));
    const c = await declare(w, 'Old disk alert', 'SEV3');
    w.advance(45 * 60_000);
    await closeIncident(w.deps, c, 'cleaned up', who(ALICE));
    w.advance(5 * 60_000);

    const open = await dispatch(ctx(w), 'list');
    expect(open.responseType).toBe('ephemeral');
    const lines = open.text.split('\n');
    expect(lines[0]).toBe('*Open incidents* (2)');
    expect(lines[1]).toBe(
      `*${b}* SEV1 · identified · <@${BOB}> · open 50 min · (no channel yet) — Search down`,
    );
    expect(lines[2]).toBe(
      `*${a}* SEV2 · investigating · no commander · open 1 h · (no channel yet) — Checkout 5xx`,
    );
    expect(open.text).not.toContain('Recently closed');

    const all = await dispatch(ctx(w), 'list --all');
    expect(all.text).toContain('*Recently closed* (last 1)');
    expect(all.text).toContain(`*${c}* SEV3 · closed · lasted 45 min`);

    const bad = await dispatch(ctx(w), 'list --everything');
    expect(bad.text).toContain('Usage: `/incident list [--all]`');
  });

  it('keeps a private incident out of the list of anyone not in it, and shows it to its declarer', async () => {
    const w = flowWorld();
    const pub = await declare(w, 'Checkout 5xx', 'SEV2');
    const { id: priv } = await declareIncident(w.deps, {
      title: 'Payroll export leaked',
      severity: 'SEV1',
      private: true,
      ...who(ALICE),
    });
    const bobs = await dispatch(ctx(w, BOB), 'list --all');
    expect(bobs.text).toContain(`*${pub}*`);
    expect(bobs.text).not.toContain(priv);
    expect(bobs.text).not.toContain('Payroll');
    const alices = await dispatch(ctx(w, ALICE), 'list');
    expect(alices.text).toContain(`*${priv}* SEV1`);
  });

  it('with no incidents says so instead of an empty list', async () => {
    const w = flowWorld();
    expect((await dispatch(ctx(w), 'list --all')).text).toBe(
      '*Open incidents* (0)\nNo open incidents.\n\n*Recently closed* (last 0)\nNo closed incidents.',
    );
  });
});

describe('visibleTo, the one visibility rule of the list and App Home', () => {
  const inc = foldTimeline([
    {
      kind: 'declared',
      seq: 1,
      incidentId: 'INC-7',
      at: '2024-05-01T10:00:00.000Z',
      actor: { type: 'user', id: ALICE },
      source: 'slash',
      title: 'Payroll export leaked',
      severity: 'SEV1',
    },
  ]);

  it('shows a public incident to everyone', () => {
    expect(visibleTo(inc, BOB, [])).toBe(true);
  });

  it('shows a private incident only to its members', () => {
    const priv = { ...inc, private: true };
    expect(visibleTo(priv, ALICE, incidentMembers(priv))).toBe(true);
    expect(visibleTo(priv, BOB, incidentMembers(priv))).toBe(false);
    expect(visibleTo(priv, BOB, [ALICE, BOB])).toBe(true);
    expect(visibleTo({ ...inc, private: false }, BOB, [])).toBe(true);
  });
});
