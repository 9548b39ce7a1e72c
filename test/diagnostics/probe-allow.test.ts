import { once } from 'node:events';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { describe, expect, it } from 'vitest';
import { parseDiagnosticsConfig } from '../../src/diagnostics/config.js';
import { ProbeAllow } from '../../src/diagnostics/probe-allow.js';
import { runDiagnostics } from '../../src/diagnostics/run.js';

describe('probes.allow', () => {
  it('admits addresses and names inside its CIDRs and refuses the rest with what to change', async () => {
    const allow = new ProbeAllow(['127.0.0.0/8', 'fd00::/8']);
    expect(await allow.admits('127.0.0.9')).toEqual({ ok: true, ip: '127.0.0.9' });
    expect(await allow.admits('[fd00::1]')).toEqual({ ok: true, ip: 'fd00::1' });
    const refused = await allow.admits('10.0.1.11');
    expect(refused).toEqual({
      ok: false,
      reason:
        '10.0.1.11 is outside probes.allow (127.0.0.0/8, fd00::/8): not probed; add its network to probes.allow to let the bot connect to it',
    });
    expect(await new ProbeAllow().admits('localhost')).toMatchObject({ ok: true });
  });

  it('skips the database probe it refuses and probes only the endpoints it admits', async () => {
    const health = createServer((_req, res) => res.end('ok')).listen(0, '127.0.0.1');
    await once(health, 'listening');
    const port = (health.address() as AddressInfo).port;
    try {
      const { config } = parseDiagnosticsConfig(
        [
          'probes:',
          '  allow: [127.0.0.0/8]',
          '  database: { kind: postgres, url: "postgres://app@10.0.1.20:5432/app" }',
          `  endpoints: [ "http://127.0.0.1:${port}/health", "http://10.0.1.11/health" ]`,
        ].join('\n'),
      );
      const { results } = await runDiagnostics(config, {
        from: new Date(Date.now() - 60_000),
        to: new Date(),
      });
      const [db, endpoints] = results;
      expect(db).toMatchObject({ checkId: 'database', verdict: 'skipped' });
      expect(db!.summary).toMatch(
        /^database probe: 10\.0\.1\.20 is outside probes\.allow \(127\.0\.0\.0\/8\)/,
      );
      expect(endpoints).toMatchObject({ checkId: 'endpoints', verdict: 'pass' });
      expect(endpoints!.evidence.join('\n')).toContain(`http://127.0.0.1:${port}/health`);
      expect(endpoints!.evidence.join('\n')).not.toContain('10.0.1.11');
      expect(endpoints!.notes).toEqual([
        'http://10.0.1.11/health: 10.0.1.11 is outside probes.allow (127.0.0.0/8): not probed; add its network to probes.allow to let the bot connect to it',
      ]);
    } finally {
      health.close();
    }
  });
});
