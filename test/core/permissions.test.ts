import { describe, expect, it } from 'vitest';
import { foldTimeline } from '../../src/core/incident.js';
import { assertMayChange, isGuarded, mayChange, whoMay } from '../../src/core/permissions.js';

const declared = (by?: string) =>
  foldTimeline([
    {
      seq: 1,
      incidentId: 'INC-7',
      kind: 'declared',
      at: '2024-05-01T10:00:00.000Z',
      actor: by ? { type: 'user', id: by } : { type: 'bot' },
      source: by ? 'slash' : 'alert',
      title: 'Checkout 502s',
      severity: 'SEV2',
    },
  ]);
const closed = { open: false, adminIds: ['UADMIN1', 'SGROUP1'] };

describe('the permission rule', () => {
  it('guards closing, lowering the severity and handing over command, and nothing else', () => {
    const inc = { ...declared('UALICE1'), commander: 'UCAROL1' };
    expect(isGuarded(inc, { kind: 'close' })).toBe(true);
    expect(isGuarded(inc, { kind: 'severity', to: 'SEV3' })).toBe(true);
    expect(isGuarded(inc, { kind: 'severity', to: 'SEV1' })).toBe(false);
    expect(isGuarded(inc, { kind: 'role', role: 'commander', userId: 'UBOB001' })).toBe(true);
    expect(isGuarded(inc, { kind: 'role', role: 'comms', userId: 'UBOB001' })).toBe(false);
    expect(isGuarded(declared('UALICE1'), { kind: 'role', role: 'commander', userId: 'UBOB001' })).toBe(
      false,
    );
  });

  it('allows the commander, the declarer and admins, or anyone when permissions are open', () => {
    const inc = { ...declared('UALICE1'), commander: 'UCAROL1' };
    const close = { kind: 'close' } as const;
    expect(mayChange(inc, 'UALICE1', close, closed, false)).toBe(true);
    expect(mayChange(inc, 'UCAROL1', close, closed, false)).toBe(true);
    expect(mayChange(inc, 'UBOB001', close, closed, true)).toBe(true);
    expect(mayChange(inc, 'UBOB001', close, closed, false)).toBe(false);
    expect(mayChange(inc, 'UBOB001', close, { ...closed, open: true }, false)).toBe(true);
  });

  it('names who can in the refusal, with user groups as group mentions', () => {
    const inc = { ...declared('UALICE1'), commander: 'UCAROL1' };
    expect(whoMay(inc, closed)).toBe(
      'the incident commander <@UCAROL1>, the declarer <@UALICE1> or an incident admin (<@UADMIN1>, <!subteam^SGROUP1>)',
    );
    expect(() =>
      assertMayChange(declared(), 'UBOB001', { kind: 'close' }, { open: false, adminIds: [] }, false),
    ).toThrow('Only the incident commander (nobody has taken command yet) can close INC-7');
  });
});
