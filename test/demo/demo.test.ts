import { existsSync, mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { type DemoResult, runDemo } from '../../src/demo/run-demo.js';
import { SEEDS, type SeedStory } from '../../src/demo/seeds.js';

// Each seed postmortem replayed through the real bot (web + worker on Redis, the Slack sandbox, a
// recording of a real HAProxy) on the virtual clock; the draft must carry the seed's structure and
// real times, and the misleading path with the time the seed's team lost on it.
const SEED_DIR = resolve(import.meta.dirname, '../../src/demo/seeds');
const SECTIONS = [
  'Issue Summary',
  'Timeline',
  'Root Cause and Resolution',
  'Corrective and Preventative Measures',
];
process.env.POSTMORTEM_DIR = mkdtempSync(join(tmpdir(), 'ib-demo-'));

function section(draft: string, title: string): string {
  const start = draft.indexOf(`## ${title}`);
  if (start < 0) throw new Error(`the draft has no "## ${title}" section:\n${draft}`);
  const end = draft.indexOf('\n## ', start + 3);
  return draft.slice(start, end < 0 ? undefined : end);
}

const hhmm = (iso: string) => `${iso.slice(11, 16)} UTC`;

function checkDraftAgainstSeed(seed: SeedStory, r: DemoResult) {
  const original = readFileSync(join(SEED_DIR, seed.file), 'utf8');
  // The seed has the four sections, and so does the draft.
  for (const title of SECTIONS) {
    expect(original.toLowerCase()).toContain(title.toLowerCase());
    section(r.postmortem, title);
  }
  // Issue Summary: the duration in hours and minutes, the seed's impact figure, the root cause.
  const summary = section(r.postmortem, 'Issue Summary');
  expect(summary).toContain(`(first alert HighErrorRate) [#2] – `);
  expect(summary).toMatch(
    new RegExp(
      `\\*\\*Duration:\\*\\* ${seed.startsAt.slice(0, 10)} ${hhmm(seed.startsAt)} .*: \\*\\*${seed.duration}\\*\\*`,
    ),
  );
  expect(summary).toContain(seed.impactFigure);
  expect(summary).toMatch(/\*\*Root cause:\*\*\n\s+- Confirmed hypothesis: .*\(load-balancer\)/);
  // Timeline: detection, the team finding the cause, the fix and recovery at the seed's times.
  const timeline = section(r.postmortem, 'Timeline');
  const fix = seed.steps.find((s) => 'fix' in s)!;
  const resolved = seed.steps.find((s) => 'resolveAlerts' in s)!;
  // An incident over midnight prints the date with each time.
  const line = (iso: string, text: string) =>
    timeline.includes(`**${hhmm(iso)}** ${text}`) ||
    timeline.includes(`**${iso.slice(0, 10)} ${hhmm(iso)}** ${text}`);
  expect(line(seed.startsAt, 'Detected: alert HighErrorRate fired'), timeline).toBe(true);
  expect(line(seed.notifiedAt, 'Notified: incident declared (SEV1)'), timeline).toBe(true);
  expect(timeline).toMatch(/Finding: confirmed .*\(load-balancer\)/);
  expect(line(fix.at, `Note: ${(fix as { fix: string }).fix}`), timeline).toBe(true);
  expect(line(resolved.at, 'Recovery: alert HighErrorRate resolved'), timeline).toBe(true);
  // Root Cause and Resolution: the check that showed it.
  expect(section(r.postmortem, 'Root Cause and Resolution')).toMatch(
    /(traffic-distribution|routing) check on edge: fail/,
  );
  // Corrective and Preventative Measures: the seed's tasks as follow-ups with owners.
  const tasks = seed.steps.filter((s) => 'say' in s && s.say.startsWith('followup '));
  const measures = section(r.postmortem, 'Corrective and Preventative Measures');
  expect(measures.match(/^- \[ \] .* \(owner: \w+\)/gm)).toHaveLength(tasks.length);
  // Metrics in minutes and hours, not seconds.
  const metrics = section(r.postmortem, 'Metrics');
  expect(metrics).toMatch(/\*\*Time to resolve:\*\* (\d+ d )?\d+ h/);
  expect(metrics).not.toMatch(/\*\*Time to (identify|resolve):\*\* \d+ s /);
}

function checkMisleadingPaths(seed: SeedStory, r: DemoResult) {
  const paths = section(r.postmortem, 'Misleading Investigation Paths');
  const found = [
    ...paths.matchAll(/^### .*\((database|traffic-surge|network)\)\n[\s\S]*?\*\*Time spent:\*\* (.+)$/gm),
  ].map((m) => ({ category: m[1], timeSpent: m[2] }));
  expect(found).toEqual(seed.misleading);
}

describe('npm run demo -- --seed <id>: the seed incidents replayed at their own pace', () => {
  for (const seed of SEEDS) {
    it(`replays seed ${seed.id} (${seed.misleading.map((m) => `${m.category} for ${m.timeSpent}`).join(', then ')}) into a draft with the seed's sections and times`, async () => {
      const r = await runDemo({ seed: seed.id, fastForwardSeconds: 3 });
      expect(existsSync(r.postmortemPath)).toBe(true);
      expect(r.postmortemPath.startsWith(process.env.POSTMORTEM_DIR!)).toBe(true);
      checkDraftAgainstSeed(seed, r);
      checkMisleadingPaths(seed, r);
      // The checklist showed the load balancer minutes after the alert; the team found it hours later (000: later).
      expect(r.checklistShowedAt.getTime()).toBeLessThan(new Date(seed.teamFoundAt).getTime());
      expect(r.checklistShowedAt.getTime() - new Date(seed.notifiedAt).getTime()).toBeLessThan(5 * 60_000);
      expect(r.summaryLine).toContain(
        `seed ${seed.id}: the team found the cause at ${hhmm(seed.teamFoundAt)}, `,
      );
      expect(r.summaryLine).toContain(` after the first alert (${seed.teamFoundNote}); `);
      expect(r.summaryLine).toMatch(
        new RegExp(
          `the checklist showed it at ${hhmm(r.checklistShowedAt.toISOString())}, \\d+ (s|min) after the alerts reached the bot \\((traffic-distribution|routing) fail\\)$`,
        ),
      );
      // The bot steered the team away from the red herring, in the channel, when it was raised.
      const firstMisleading = seed.misleading[0]!.category;
      const phrase =
        firstMisleading === 'traffic-surge'
          ? 'Before digging into a traffic surge or DDoS'
          : `Before digging into the ${firstMisleading}`;
      expect(r.transcript).toContain(phrase);
      // A DDoS is ruled out with the load balancer's own log: the volume did not change.
      if (firstMisleading === 'traffic-surge')
        expect(r.transcript).toContain(
          'Evidence against a traffic surge or DDoS: traffic-volume on edge passed',
        );
    });
  }
});
