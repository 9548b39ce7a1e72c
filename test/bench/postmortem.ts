import { postmortemView } from '../../src/core/postmortem/index.js';
import type { TimelineEntry } from '../../src/core/timeline.js';
import { loadPostmortemTemplate, renderPostmortem } from '../../src/postmortem/render.js';
import { seedStory } from '../postmortem/story.js';
import { type Bench, median, printTable } from './common.js';

const ENTRIES = 10_000;
const RUNS = 7;

/**
 * The seed story (alerts, the database chase, the LB finding, close) padded to `n` entries with the
 * noise a long incident collects: notes, recorded messages, alert re-fires, checklist ticks, all
 * inside the incident's window and in seq order.
 */
export function longTimeline(n: number): TimelineEntry[] {
  const story = seedStory();
  const head = story.slice(0, -1);
  const closed = story.at(-1)!;
  const start = Date.parse(head.at(-1)!.at);
  const end = Date.parse(closed.at);
  const fill = n - story.length;
  const base = {
    incidentId: closed.incidentId,
    actor: { type: 'user' as const, id: 'U2' },
    source: 'slash' as const,
  };
  const filler: TimelineEntry[] = [];
  for (let i = 0; i < fill; i++) {
    const at = new Date(start + Math.floor(((end - start) * (i + 1)) / (fill + 1))).toISOString();
    const seq = 0;
    switch (i % 4) {
      case 0:
        filler.push({
          ...base,
          seq,
          at,
          kind: 'note',
          text: `observation ${i}: p99 ${100 + (i % 900)} ms on web-0${i % 3}`,
        });
        break;
      case 1:
        filler.push({
          ...base,
          seq,
          at,
          kind: 'message_recorded',
          source: 'reaction',
          channelId: 'C42',
          messageTs: `${Math.floor(Date.parse(at) / 1000)}.${String(i).padStart(6, '0')}`,
          author: `U${i % 7}`,
          text: `web-01 CPU at ${90 + (i % 10)}% <@U${i % 7}> & friends`,
          recordedBy: 'U2',
        });
        break;
      case 2:
        filler.push({
          ...base,
          seq,
          at,
          kind: 'alert_fired',
          actor: { type: 'alert', source: 'alertmanager' },
          source: 'alert',
          alertGroupId: 'ag-checkout',
          fingerprint: `f-${i % 50}`,
          name: 'HighErrorRate',
          labels: { severity: 'critical', instance: `10.0.1.${i % 50}:8080` },
          annotations: { summary: '5xx ratio above 5%' },
          startsAt: at,
        });
        break;
      default:
        filler.push({
          ...base,
          seq,
          at,
          kind: 'checklist_item',
          itemId: `item-${i % 12}`,
          label: `Check ${i % 12}`,
          checked: i % 8 === 3,
        });
    }
  }
  return [...head, ...filler, closed].map((e, i) => ({ ...e, seq: i + 1 }) as TimelineEntry);
}

/** Postmortem view + Handlebars render of a 10,000-entry timeline, median of several runs in this process. */
export const postmortemBench: Bench = {
  name: 'postmortem',
  description: `postmortem render time for a ${ENTRIES.toLocaleString('en-US')}-entry timeline`,
  async run() {
    const entries = longTimeline(ENTRIES);
    const template = loadPostmortemTemplate();
    const story = seedStory();
    renderPostmortem(template, postmortemView(entries)); // warm-up
    const view: number[] = [];
    const render: number[] = [];
    const small: number[] = [];
    let bytes = 0;
    for (let i = 0; i < RUNS; i++) {
      const t0 = performance.now();
      const v = postmortemView(entries);
      const t1 = performance.now();
      bytes = renderPostmortem(template, v).length;
      const t2 = performance.now();
      renderPostmortem(template, postmortemView(story));
      const t3 = performance.now();
      view.push(t1 - t0);
      render.push(t2 - t1);
      small.push(t3 - t2);
    }
    const rows = [
      {
        timeline: `${entries.length} entries`,
        viewMs: median(view),
        renderMs: median(render),
        totalMs: median(view) + median(render),
        markdownKiB: bytes / 1024,
      },
      {
        timeline: `seed story (${story.length} entries)`,
        viewMs: Number.NaN,
        renderMs: Number.NaN,
        totalMs: median(small),
        markdownKiB: Number.NaN,
      },
    ];
    printTable(`Postmortem draft (median of ${RUNS} runs)`, rows);
    return {
      entries: entries.length,
      runs: RUNS,
      viewMs: median(view),
      renderMs: median(render),
      totalMs: median(view) + median(render),
      seedStoryMs: median(small),
      ratioToSeedStory: (median(view) + median(render)) / median(small),
      markdownBytes: bytes,
    };
  },
};
