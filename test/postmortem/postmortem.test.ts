import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import { humanDuration, markdownText, mermaidText, postmortemView } from '../../src/core/postmortem/index.js';
import type { TimelineEntry } from '../../src/core/timeline.js';
import {
  loadPostmortemTemplate,
  postmortemFileName,
  renderPostmortem,
  TemplateError,
} from '../../src/postmortem/render.js';
import { seedStory, timeline } from './story.js';

const template = loadPostmortemTemplate();
const draft = (entries: TimelineEntry[]) => renderPostmortem(template, postmortemView(entries));

/** The section of a draft between `## <heading>` and the next `## `. */
function section(md: string, heading: string): string {
  const start = md.indexOf(`## ${heading}\n`);
  expect(start, `section ${heading}`).toBeGreaterThanOrEqual(0);
  const next = md.indexOf('\n## ', start + 3);
  return md.slice(start, next < 0 ? undefined : next);
}

const dirs: string[] = [];
function templateDir(source: string): string {
  const dir = mkdtempSync(join(tmpdir(), 'pm-template-'));
  dirs.push(dir);
  writeFileSync(join(dir, 'postmortem.md'), source);
  return dir;
}
afterAll(() => {
  for (const d of dirs) rmSync(d, { recursive: true, force: true });
});

describe('the postmortem draft of the seeds’ story', () => {
  it('renders the pinned draft for the load-balancer outage the team first blamed on the database', async () => {
    await expect(draft(seedStory())).toMatchFileSnapshot('__snapshots__/seed-story.md');
  });

  it('lists the database as a misleading path with the check that ruled it out and the 20 minutes spent on it', () => {
    const { misleadingPaths } = postmortemView(seedStory());
    expect(misleadingPaths.missing).toBeNull();
    expect(misleadingPaths.items).toHaveLength(1);
    const [db] = misleadingPaths.items;
    expect(db).toMatchObject({ category: 'database', timeSpent: '20 min' });
    expect(db?.evidence.map((e) => e.ref)).toEqual(['[#12]', '[#8]']);
    expect(db?.evidence[1]?.text).toContain('database check on pg-main: pass');
  });

  it('labels the move to identified a finding and only the move to monitoring a fix', () => {
    const rows = postmortemView(seedStory()).timeline.items;
    const identified = rows.find((r) => r.text.includes('→ identified'));
    const monitoring = rows.find((r) => r.text.includes('→ monitoring'));
    expect(identified?.label).toBe('Finding');
    expect(monitoring?.label).toBe('Fix');
  });

  it('starts the outage at the first alert and ends it at resolution, not at close', () => {
    const { duration } = postmortemView(seedStory()).summary;
    expect(duration.start).toMatchObject({ time: '2024-02-27 10:00 UTC', ref: '[#2]' });
    expect(duration.end).toMatchObject({ time: '2024-02-27 11:10 UTC', ref: '[#20]' });
    expect(duration.total).toBe('1 h 10 min');
  });

  it('cites the server figures of the failing traffic check as the root cause evidence', () => {
    const { evidence } = postmortemView(seedStory()).rootCauseAndResolution;
    expect(evidence.map((e) => e.text)).toContain('web-01 (weight 100): 97% of requests, expected 33%');
    expect(evidence.every((e) => e.ref === '[#9]')).toBe(true);
  });

  it('suggests each measure once even when several checks point to it', () => {
    const story = seedStory();
    const again = {
      ...(story[8] as TimelineEntry),
      seq: 99,
      at: '2024-02-27T10:40:00.000Z',
    } as TimelineEntry;
    const { suggestions } = postmortemView([...story, again]).measures;
    expect(suggestions.map((s) => s.text)).toEqual([
      'Validate load-balancer weights against the intended split before each deploy.',
      "Alert on each server's share of requests, not only on latency and errors.",
    ]);
    expect(suggestions[0]?.ref).toBe('[#9, #99]');
  });
});

describe('durations', () => {
  it('reads like people say them, in the two largest units', () => {
    expect(
      [0, 45, 60, 12 * 60, 4 * 3600, 4 * 3600 + 30 * 60, 86_400, 86_400 + 4 * 3600 + 59 * 60].map(
        humanDuration,
      ),
    ).toEqual(['0 s', '45 s', '1 min', '12 min', '4 h', '4 h 30 min', '1 d', '1 d 4 h']);
  });

  it('counts an incident across midnight correctly and shows dates in the timeline', () => {
    const entries = timeline(
      { kind: 'declared', at: '2024-02-17T22:35:00.000Z', title: 'Login outage', severity: 'SEV1' },
      { kind: 'status_changed', at: '2024-02-18T01:00:00.000Z', from: 'investigating', to: 'monitoring' },
      { kind: 'status_changed', at: '2024-02-18T03:00:00.000Z', from: 'monitoring', to: 'resolved' },
    );
    const view = postmortemView(entries);
    expect(view.summary.duration.total).toBe('4 h 25 min');
    expect(view.timeline.date).toBeNull();
    expect(view.timeline.items.map((r) => r.time)).toEqual([
      '2024-02-17 22:35 UTC',
      '2024-02-18 01:00 UTC',
      '2024-02-18 03:00 UTC',
    ]);
    expect(view.mermaid).toContain('axisFormat %d %b %H:%M');
  });

  it('counts days for an incident that lasted more than one', () => {
    const entries = timeline(
      { kind: 'declared', at: '2024-02-27T10:00:00.000Z', title: 'Web stack outage', severity: 'SEV2' },
      { kind: 'closed', at: '2024-02-28T14:00:00.000Z' },
    );
    expect(postmortemView(entries).summary.duration.total).toBe('1 d 4 h');
  });

  it('says an open incident is not resolved, or how long it has run when given now', () => {
    const entries = timeline({
      kind: 'declared',
      at: '2024-02-27T10:00:00.000Z',
      title: 'Slow',
      severity: 'SEV3',
    });
    expect(postmortemView(entries).summary.duration).toMatchObject({
      end: null,
      total: 'n/a — not resolved yet',
    });
    expect(postmortemView(entries, { now: '2024-02-27T12:15:00.000Z' }).summary.duration.total).toBe(
      '2 h 15 min so far (open as of 2024-02-27 12:15 UTC)',
    );
  });
});

describe('a draft with little on the timeline', () => {
  const bare = timeline(
    { kind: 'declared', at: '2024-03-10T13:45:00.000Z', title: 'Intermittent errors', severity: 'SEV3' },
    { kind: 'closed', at: '2024-03-10T15:00:00.000Z' },
  );

  it('says in each section what is missing and how to add it instead of filling it in', () => {
    const md = draft(bare);
    expect(section(md, 'Issue Summary')).toContain(
      'No impact recorded: set it with `/incident impact <text>`.',
    );
    expect(section(md, 'Issue Summary')).toContain('No root cause recorded');
    expect(section(md, 'Misleading Investigation Paths')).toContain('No hypotheses recorded');
    expect(section(md, 'Root Cause and Resolution')).toContain('No resolution recorded');
    expect(section(md, 'Corrective and Preventative Measures')).toContain(
      'No follow-ups recorded: add them with `/incident followup <text> [@owner]`.',
    );
    expect(section(md, 'Corrective and Preventative Measures')).not.toContain('Suggestion');
  });

  it('measures from the declaration when no alert fired, and says detection cannot be measured', () => {
    const view = postmortemView(bare);
    expect(view.summary.duration.start).toMatchObject({ basis: 'incident declared', ref: '[#1]' });
    expect(view.metrics.find((m) => m.name === 'Time to detect')?.value).toBe(
      'n/a — no alert recorded when the impact began',
    );
    expect(view.metrics.find((m) => m.name === 'Time to resolve')?.value).toBe('1 h 15 min');
  });

  it('says which metrics are missing while the incident is still open', () => {
    const open = timeline({
      kind: 'declared',
      at: '2024-03-10T13:45:00.000Z',
      title: 'Errors',
      severity: 'SEV3',
      actor: { type: 'alert', source: 'grafana' },
      source: 'alert',
    });
    expect(Object.fromEntries(postmortemView(open).metrics.map((m) => [m.name, m.value]))).toEqual({
      'Time to detect': 'n/a — no alert recorded when the impact began',
      'Time to acknowledge': 'n/a — nobody acted on the incident in Slack',
      'Time to identify': 'n/a — no status identified and no confirmed hypothesis',
      'Time to mitigate': 'n/a — no status monitoring (fix in place)',
      'Time to resolve': 'n/a — not resolved yet',
    });
  });

  it('says when hypotheses were recorded but none was ruled out, and lists the unsettled ones', () => {
    const entries = timeline(
      { kind: 'declared', at: '2024-03-10T13:45:00.000Z', title: 'Errors', severity: 'SEV3' },
      {
        kind: 'hypothesis_suspected',
        at: '2024-03-10T13:50:00.000Z',
        hypothesisId: 'H1',
        text: 'Network partition',
        category: 'network',
      },
    );
    const { misleadingPaths } = postmortemView(entries);
    expect(misleadingPaths.missing).toBe('None of the 1 recorded hypotheses was ruled out.');
    expect(misleadingPaths.unsettled.map((u) => u.ref)).toEqual(['[#2]']);
  });

  it('takes the root cause from root_cause_set when the team wrote one', () => {
    const entries = timeline(
      { kind: 'declared', at: '2024-03-10T13:45:00.000Z', title: 'Errors', severity: 'SEV3' },
      { kind: 'root_cause_set', at: '2024-03-10T14:30:00.000Z', text: 'Older guess' },
      { kind: 'root_cause_set', at: '2024-03-10T14:40:00.000Z', text: 'Route to an empty backend pool' },
    );
    expect(postmortemView(entries).summary.rootCause.items).toEqual([
      { text: 'Route to an empty backend pool', seqs: [3], ref: '[#3]' },
    ]);
  });
});

describe('determinism', () => {
  it('gives the same Markdown for the same timeline, whatever order the entries arrive in', () => {
    const story = seedStory();
    const expected = draft(story);
    fc.assert(
      fc.property(fc.shuffledSubarray(story, { minLength: story.length }), (shuffled) => {
        expect(draft(shuffled)).toBe(expected);
      }),
      { numRuns: 50 },
    );
  });

  it('produces a view that survives a JSON round trip unchanged', () => {
    const view = postmortemView(seedStory());
    expect(JSON.parse(JSON.stringify(view))).toEqual(view);
  });
});

describe('user text in the draft', () => {
  const hostile =
    'x <script>alert(1)</script> | a | b ``` `code` *bold* [link](javascript:alert(1)) # ; : %%';
  const entries = timeline(
    { kind: 'declared', at: '2024-06-05T14:30:00.000Z', title: hostile, severity: 'SEV1' },
    {
      kind: 'hypothesis_suspected',
      at: '2024-06-05T14:40:00.000Z',
      hypothesisId: 'H1',
      text: hostile,
      category: 'traffic-surge',
    },
    { kind: 'hypothesis_ruled_out', at: '2024-06-05T15:00:00.000Z', hypothesisId: 'H1', evidence: hostile },
    { kind: 'impact_set', at: '2024-06-05T15:05:00.000Z', text: `${hostile}\n# Injected heading` },
    {
      kind: 'followup_added',
      at: '2024-06-05T15:10:00.000Z',
      followupId: 'F1',
      text: hostile,
      owner: '<@U1|x>',
    },
    { kind: 'closed', at: '2024-06-05T15:45:00.000Z', resolution: hostile },
  );
  const md = draft(entries);

  it('cannot inject HTML', () => {
    expect(md).not.toMatch(/<script|<\/script|<@U1/i);
    expect(md).toContain('&lt;script&gt;');
  });

  it('cannot add lines, headings, links or code spans', () => {
    const prose = md.slice(0, md.indexOf('```mermaid'));
    expect(prose).not.toContain('\n# Injected');
    expect(prose).not.toMatch(/(?<!\\)\[link/);
    expect(md.match(/```/g)).toHaveLength(2); // the Mermaid fence only
    expect(md).toContain('\\`code\\`');
  });

  it('cannot break a Markdown table or the Mermaid diagram', () => {
    const dir = templateDir(
      '| Follow-up | Owner |\n| --- | --- |\n{{#each measures.followups.items}}\n| {{text}} | {{owner}} |\n{{/each}}\n',
    );
    const table = renderPostmortem(loadPostmortemTemplate(dir), postmortemView(entries));
    for (const row of table.trim().split('\n')) expect(row.split(/(?<!\\)\|/)).toHaveLength(4);
    const mermaid = md.slice(md.indexOf('```mermaid'));
    expect(mermaid.split('\n')[2]).toMatch(/^ {2}title INC-42 x script/);
    expect(mermaid.split('\n')[2]).not.toMatch(/[#;%`<>]/);
    const tasks = mermaid.split('\n').filter((l) => / :(milestone|done|crit|active),/.test(l));
    expect(tasks.length).toBeGreaterThan(3);
    for (const line of tasks) {
      const label = line.slice(0, line.lastIndexOf(' :')).replace(/#\d+;/g, '');
      expect(label).not.toMatch(/[#:;%`<>]/);
    }
  });

  it('escapes Markdown and Mermaid specials with reversible codes', () => {
    expect(markdownText('a|b <i> `c` *d*\n# e')).toBe('a\\|b &lt;i&gt; \\`c\\` \\*d\\* # e');
    expect(markdownText('# heading')).toBe('\\# heading');
    expect(mermaidText('a: b; #1 100%')).toBe('a#58; b#59; #35;1 100#37;');
  });
});

describe('loading the template', () => {
  it('loads the default template from the repository, whatever the working directory', () => {
    expect(template.file).toMatch(/templates[/\\]postmortem\.md$/);
  });

  it('fails the render with the file and line when the template uses a field the view does not have', () => {
    const file = join(templateDir('# {{title}}\n\n{{summary.nonsense}}\n'), 'postmortem.md');
    const t = loadPostmortemTemplate(join(file, '..'));
    expect(() => renderPostmortem(t, postmortemView(seedStory()))).toThrow(TemplateError);
    expect(() => renderPostmortem(t, postmortemView(seedStory()))).toThrow(
      `${file}:3: "nonsense" not defined in the postmortem view`,
    );
  });

  it('reports a mismatched block at load with the file and line', () => {
    const dir = templateDir('# {{title}}\n\n{{#if status}}\nopen\n{{/each}}\n');
    expect(() => loadPostmortemTemplate(dir)).toThrow(
      expect.objectContaining({ name: 'TemplateError', file: join(dir, 'postmortem.md'), line: 3 }),
    );
  });

  it('reports an unclosed mustache at load with the file and line', () => {
    const dir = templateDir('# {{title}}\n\nline two\n{{summary\n');
    const err = (() => {
      try {
        loadPostmortemTemplate(dir);
      } catch (e) {
        return e;
      }
    })();
    expect(err).toBeInstanceOf(TemplateError);
    expect((err as TemplateError).message).toMatch(new RegExp(`^${join(dir, 'postmortem.md')}:\\d+: `));
    expect((err as TemplateError).line).toBeGreaterThanOrEqual(4);
  });
});

describe('the draft file name', () => {
  it('is INC-<n>-<slug>.md', () => {
    expect(postmortemFileName('INC-42', 'Checkout: errors & latency!')).toBe(
      'INC-42-checkout-errors-latency.md',
    );
  });

  it('falls back to a fixed word when the title has nothing to slug', () => {
    expect(postmortemFileName('INC-7', '🔥🔥')).toBe('INC-7-postmortem.md');
  });

  it('rejects an id that is not an incident id', () => {
    expect(() => postmortemFileName('../etc/passwd', 'x')).toThrow(/incident id/);
  });
});
