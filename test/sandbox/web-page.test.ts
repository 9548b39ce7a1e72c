import { afterEach, describe, expect, it } from 'vitest';
import { type Sandbox, startSandbox } from '../../src/sandbox/index.js';
import { blockToHtml, mrkdwnToHtml, workspaceFragment } from '../../src/sandbox/web-page.js';

const sandboxes: Sandbox[] = [];
afterEach(async () => {
  await Promise.all(sandboxes.splice(0).map((s) => s.close()));
});

async function sandbox(): Promise<Sandbox> {
  const s = await startSandbox();
  sandboxes.push(s);
  return s;
}

describe('the sandbox web page', () => {
  it('renders mrkdwn as Slack shows it and never lets message text become markup', async () => {
    const sb = await sandbox();
    const bob = sb.addUser({ name: 'bob' }).id;
    const html = mrkdwnToHtml(
      `*bold* _it_ \`x&lt;y\` <@${bob}> <https://grafana.example/d/1|Dashboard> <javascript:alert(1)|click> &lt;script&gt;alert(1)&lt;/script&gt;\n> quoted\n\`\`\`web1 ██ 99%\n<b>\`\`\``,
      sb,
    );
    expect(html).toContain('<b>bold</b> <i>it</i> <code>x&lt;y</code>');
    expect(html).toContain('<span class="mention">@bob</span>');
    expect(html).toContain('<a href="https://grafana.example/d/1" rel="noreferrer">Dashboard</a>');
    expect(html).toContain('<a href="#" rel="noreferrer">click</a>');
    expect(html).toContain('&lt;script&gt;alert(1)&lt;/script&gt;');
    expect(html).not.toMatch(/<script|javascript:/);
    expect(html).toContain('<span class="quote">quoted</span>');
    expect(html).toContain('<pre>web1 ██ 99%\n&lt;b&gt;</pre>');
  });

  it('renders sections with fields and accessories, context, buttons and checkboxes with their state', async () => {
    const sb = await sandbox();
    const option = { text: { type: 'mrkdwn', text: 'Compare latency' }, value: 'x' };
    const section = blockToHtml(
      {
        type: 'section',
        text: { type: 'mrkdwn', text: ':x: *edge fail*' },
        fields: [{ type: 'mrkdwn', text: '*Severity*\nSEV1' }],
        accessory: { type: 'checkboxes', action_id: 'a', options: [option], initial_options: [option] },
      },
      sb,
    );
    expect(section).toContain('❌ <b>edge fail</b>');
    expect(section).toContain('<div class="fields"><div><b>Severity</b><br>SEV1</div></div>');
    expect(section).toContain('<input type="checkbox" disabled checked> Compare latency');
    const actions = blockToHtml(
      {
        type: 'actions',
        elements: [
          {
            type: 'button',
            text: { type: 'plain_text', text: 'Runbook' },
            url: 'https://runbooks.example/x',
            style: 'primary',
          },
        ],
      },
      sb,
    );
    expect(actions).toBe(
      '<div class="b-actions"><button class="btn primary" disabled data-url="https://runbooks.example/x">Runbook</button></div>',
    );
    expect(blockToHtml({ type: 'context', elements: [{ type: 'mrkdwn', text: 'Run 2' }] }, sb)).toBe(
      '<div class="b-context"><span>Run 2</span></div>',
    );
  });

  it('shows the newest incident channel with its pins, and pushes a change to open pages', async () => {
    const sb = await sandbox();
    const alice = sb.addUser({ name: 'alice' }).id;
    sb.addChannel({ name: 'incidents', members: [alice] });
    const inc = sb.addChannel({ name: 'inc-20240101-1-db', members: [alice, sb.botUserId] });
    expect(workspaceFragment(sb)).toContain('<h1 id="channel-name">#inc-20240101-1-db</h1>');

    const res = await fetch(`${sb.url}/workspace/events`);
    const reader = res.body!.getReader();
    await reader.read(); // the retry line
    sb.postAsUser({ channel: inc.id, user: alice, text: 'web1 takes *everything*' });
    const { value } = await reader.read();
    expect(new TextDecoder().decode(value)).toMatch(/^data: \d+\n\n$/);
    await reader.cancel();

    const page = await (await fetch(`${sb.url}/workspace?channel=${inc.id}`)).text();
    expect(page).toContain('web1 takes <b>everything</b>');
    expect(page).toContain("new EventSource('/workspace/events')");
    expect((await fetch(`${sb.url}/workspace/files/F000`)).status).toBe(404);
    expect((await fetch(`${sb.url}/workspace`, { method: 'POST' })).status).toBe(405);
  });
});
