/** The Mermaid gantt chart: impact, investigation paths and response milestones on one axis. */
import { format } from 'date-fns';
import type { Incident } from '../incident.js';
import type { EntryOf } from '../timeline.js';
import { UTCDate } from '../utc.js';
import type { HypothesisTrail } from './hypotheses.js';
import { earliestAlert } from './summary.js';
import { mermaidText, utcDay } from './text.js';

/** The Mermaid gantt source (no fence): impact span, investigation paths and response milestones, in UTC wall time. */
export function mermaidGantt(
  inc: Incident,
  start: string,
  hypotheses: HypothesisTrail[],
  fired: EntryOf<'alert_fired'>[],
): string {
  // Mermaid reads these dates in the viewer's local zone and prints them back in it, so UTC wall
  // time in gives UTC wall time out.
  const t = (iso: string) => format(new UTCDate(iso), 'yyyy-MM-dd HH:mm:ss');
  const end = inc.resolvedAt;
  const multiDay = end !== undefined && utcDay(start) !== utcDay(end);
  const lines = [
    'gantt',
    // The title runs to the end of its line and older Mermaid versions do not decode entity codes
    // there, so characters that could start a comment or end the statement are dropped instead.
    `  title ${`${inc.id} ${inc.title}`
      .replace(/[#;%`<>"]/g, ' ')
      .replace(/\s+/g, ' ')
      .trim()
      .slice(0, 80)}`,
    '  dateFormat YYYY-MM-DD HH:mm:ss',
    // A d3 time format, read to the end of the line: its colon needs no escaping.
    `  axisFormat ${multiDay ? '%d %b %H:%M' : '%H:%M'}`,
    '  todayMarker off',
  ];

  lines.push('  section Impact');
  const first = earliestAlert(fired);
  const basis = first && first.startsAt === start ? 'from first alert' : 'from declaration';
  if (end) lines.push(`  Impact ${basis} to resolved :crit, impact, ${t(start)}, ${t(end)}`);
  else lines.push(`  Impact start ${basis} :milestone, impact, ${t(start)}, 0d`);

  if (hypotheses.length > 0) {
    lines.push('  section Investigation');
    hypotheses.forEach((h, i) => {
      const name = mermaidText(h.suspected.text, 50);
      const id = `h${i + 1}`;
      if (h.settled?.kind === 'hypothesis_ruled_out') {
        lines.push(`  Ruled out - ${name} :done, ${id}, ${t(h.suspected.at)}, ${t(h.settled.at)}`);
      } else if (h.settled?.kind === 'hypothesis_confirmed') {
        lines.push(`  Confirmed - ${name} :active, ${id}, ${t(h.suspected.at)}, ${t(h.settled.at)}`);
      } else {
        lines.push(`  Suspected - ${name} :milestone, ${id}, ${t(h.suspected.at)}, 0d`);
      }
    });
  }

  lines.push('  section Response');
  const milestones: [string, string | undefined][] = [
    ['Declared', inc.declaredAt],
    ['Acknowledged', inc.acknowledgedAt],
    ['Identified', inc.identifiedAt],
    ['Mitigated', inc.mitigatedAt],
    ['Resolved', inc.resolvedAt],
    ['Closed', inc.closedAt],
  ];
  milestones.forEach(([label, at], i) => {
    if (at) lines.push(`  ${label} :milestone, m${i + 1}, ${t(at)}, 0d`);
  });
  return lines.join('\n');
}
