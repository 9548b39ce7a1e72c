import { execFile } from 'node:child_process';
import { join } from 'node:path';
import { promisify } from 'node:util';
import { describe, expect, it } from 'vitest';

const run = promisify(execFile);
const ROOT = join(import.meta.dirname, '../..');

describe('incident-bot sandbox --hostile', () => {
  it('starts a workspace with a guest, a deactivated and an external responder and an archived announce channel', async () => {
    // stdin is empty: the CLI prints its settings, reads end-of-input and stops.
    const child = run(
      'node',
      ['--import', 'tsx', join(ROOT, 'src/cli.ts'), 'sandbox', '--port', '0', '--hostile'],
      {
        cwd: ROOT,
        timeout: 60_000,
      },
    );
    child.child.stdin?.end();
    const { stdout } = await child;
    expect(stdout).toContain(
      'Hostile: @gus is a guest, @dora deactivated, @eve external, #incidents archived',
    );
    const responders = /INCIDENT_RESPONDERS=(\S+)/.exec(stdout)?.[1]?.split(',');
    expect(responders).toHaveLength(4);
    expect(stdout).toMatch(/INCIDENT_ANNOUNCE_CHANNEL=C0\w+/);
  });
});
