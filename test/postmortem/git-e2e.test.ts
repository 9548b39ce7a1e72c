import { execFileSync } from 'node:child_process';
import { chmodSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../support/eventually.js';
import { type Harness, settled, startHarness } from '../support/harness.js';

// Issue 14, item 2 through the bot: the push is a BullMQ job of the worker; a remote that refuses
// it is retried, then told in the channel, and the draft stays with the incident.

const root = mkdtempSync(join(tmpdir(), 'ib-git-e2e-'));
const repo = join(root, 'postmortems.git');
const deny = join(root, 'deny');
let h: Harness;

beforeAll(async () => {
  execFileSync('git', ['init', '-q', '--bare', '--initial-branch=main', repo]);
  // A remote that refuses pushes while the `deny` file exists, the way a revoked token is refused.
  const hook = join(repo, 'hooks', 'pre-receive');
  writeFileSync(
    hook,
    `#!/bin/sh\nif [ -f '${deny}' ]; then echo "remote: Permission to acme/postmortems.git denied to incident-bot." >&2; exit 1; fi\n`,
  );
  chmodSync(hook, 0o755);
  h = await startHarness('pm-git', {
    POSTMORTEM_GIT_REPO: repo,
    POSTMORTEM_GIT_DIR: 'incidents/',
    POSTMORTEM_GIT_ATTEMPTS: '2',
    REMINDER_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
    ESCALATION_MINUTES: 'SEV1=0,SEV2=0,SEV3=0,SEV4=0',
  });
});
afterAll(async () => {
  await h?.close();
  rmSync(root, { recursive: true, force: true });
});

const show = (path: string) =>
  execFileSync('git', ['--git-dir', repo, 'show', `main:${path}`], { encoding: 'utf8' });

async function openAndClose(title: string, n: number): Promise<string> {
  const general = h.sandbox.addChannel({ name: `general-${n}`, members: [h.users.alice] }).id;
  await h.client.slashCommand({ text: `start sev2 ${title}`, userId: h.users.alice, channelId: general });
  await settled(h, `INC-${n}`);
  const channel = (await h.bot.rt.store.current(`INC-${n}`))!.channelId!;
  await h.client.slashCommand({ text: 'close Weights reset', userId: h.users.alice, channelId: channel });
  return channel;
}

const texts = (channel: string) => h.sandbox.messages(channel).map((m) => m.text ?? '');

describe('postmortem drafts pushed to a git repository by the worker', () => {
  it('commits the closed incident’s draft, says so in the channel, and reports a refused push after its retries while keeping the draft', async () => {
    const one = await openAndClose('Checkout latency', 1);
    const pushed = await eventually(async () => {
      const e = (await h.bot.rt.store.entries('INC-1')).find((x) => x.kind === 'postmortem_pushed');
      expect(e).toBeDefined();
      return e as { path: string; commit: string };
    }, 30_000);
    expect(pushed.path).toBe('incidents/INC-1-checkout-latency.md');
    const draft = await h.bot.rt.store.postmortemDraft('INC-1');
    expect(show(pushed.path)).toBe(draft?.markdown);
    await eventually(() => expect(texts(one).join('\n')).toContain('Postmortem draft committed to'), 30_000);

    writeFileSync(deny, '');
    const two = await openAndClose('Search errors', 2);
    await eventually(
      () =>
        expect(texts(two).join('\n')).toMatch(
          /gave up on pushing the postmortem draft to git \(to .*postmortems\.git \(main\)\) after 2 attempts: .*rejected the push to main .*Permission to acme\/postmortems\.git denied/,
        ),
      45_000,
    );
    // Never lost: the draft is with the incident, and was uploaded to the channel.
    const kept = await h.bot.rt.store.postmortemDraft('INC-2');
    expect(kept?.markdown).toContain('# Postmortem: INC-2');
    expect(h.sandbox.files(two)[0]?.content).toBe(kept?.markdown);

    // Access restored: asking again pushes it.
    rmSync(deny);
    await h.client.slashCommand({ text: 'postmortem', userId: h.users.alice, channelId: two });
    const again = await eventually(async () => {
      const e = (await h.bot.rt.store.entries('INC-2')).find((x) => x.kind === 'postmortem_pushed');
      expect(e).toBeDefined();
      return e as { path: string };
    }, 30_000);
    expect(show(again.path)).toBe((await h.bot.rt.store.postmortemDraft('INC-2'))?.markdown);
    expect(show('incidents/INC-1-checkout-latency.md')).toBe(draft?.markdown);
  });
});
