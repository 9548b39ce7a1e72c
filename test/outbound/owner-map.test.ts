import { mkdtempSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { trackerAccount } from '../../src/outbound/owner-map.js';

const dir = mkdtempSync(join(tmpdir(), 'ib-owner-map-'));
const file = (name: string, text: string) => {
  const p = join(dir, name);
  writeFileSync(p, text);
  return p;
};

describe('the owner mapping file (FOLLOWUP_OWNER_MAP)', () => {
  it('maps a Slack user to the account of the configured tracker, in both YAML styles', async () => {
    const p = file(
      'ok.yml',
      'U012ABCDEF:\n  github: octocat\n  jira: 5b10ac8d82e05b22cc7d4ef5\nU034GHIJKL: { github: hubot }\n',
    );
    expect(await trackerAccount(p, 'github', 'U012ABCDEF')).toEqual({ account: 'octocat' });
    expect(await trackerAccount(p, 'jira', 'U012ABCDEF')).toEqual({ account: '5b10ac8d82e05b22cc7d4ef5' });
    expect(await trackerAccount(p, 'github', 'U034GHIJKL')).toEqual({ account: 'hubot' });
    expect(await trackerAccount(p, 'jira', 'U034GHIJKL')).toEqual({
      why: 'FOLLOWUP_OWNER_MAP has no jira account for this Slack user',
    });
  });

  it('says why nobody is assigned when there is no file, an unreadable one or an invalid one', async () => {
    expect(await trackerAccount(undefined, 'github', 'U1')).toEqual({
      why: 'no FOLLOWUP_OWNER_MAP file maps Slack users to tracker accounts',
    });
    expect(await trackerAccount(join(dir, 'missing.yml'), 'github', 'U1')).toMatchObject({
      why: expect.stringMatching(/^FOLLOWUP_OWNER_MAP .*missing\.yml could not be read: ENOENT/),
    });
    expect(
      await trackerAccount(file('bad-key.yml', 'alice: { github: octocat }\n'), 'github', 'U1'),
    ).toMatchObject({
      why: expect.stringMatching(/alice: keys must be Slack user ids like U012ABCDEF/),
    });
    expect(await trackerAccount(file('typo.yml', 'U1: { gihtub: octocat }\n'), 'github', 'U1')).toMatchObject(
      {
        why: expect.stringMatching(/U1: Unrecognized key: "gihtub"/),
      },
    );
    expect(await trackerAccount(file('broken.yml', 'U1: [unclosed\n'), 'github', 'U1')).toMatchObject({
      why: expect.stringMatching(/could not be read/),
    });
  });
});
