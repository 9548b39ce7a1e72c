/** The "Timeline" section: the condensed story of the outage, one row per event that mattered. */
import { format } from 'date-fns';
import { attemptsText, jobActivity } from '../job-activity.js';
import type { EntryOf, TimelineEntry } from '../timeline.js';
import { UTCDate } from '../utc.js';
import { byUser, checkName, groupBy, sortedGroups, sourced, uniq } from './facts.js';
import { type HypothesisTrail, hypothesisName, rulingOut } from './hypotheses.js';
import { markdownText, utc, utcDay } from './text.js';
import type { TimelineRow } from './view.js';

/** The condensed timeline: one row per event that matters to the story, in time order, each citing its entries. */
export function timelineRows(
  sorted: readonly TimelineEntry[],
  hypotheses: HypothesisTrail[],
  sameDay: string | null,
): TimelineRow[] {
  const rows: { at: string; seq: number; label: string; text: string; seqs: number[] }[] = [];
  const add = (at: string, label: string, text: string, seqs: number[]) =>
    rows.push({ at, seq: seqs[0]!, label, text, seqs });
  const names = new Map(hypotheses.map((h) => [h.id, hypothesisName(h)]));
  const byId = new Map(hypotheses.map((h) => [h.id, h]));

  const fired = sorted.filter((e): e is EntryOf<'alert_fired'> => e.kind === 'alert_fired');
  let detected = false;
  for (const group of sortedGroups(
    fired,
    (e) => e.name,
    (e) => e.startsAt,
  )) {
    const first = group[0]!;
    add(
      first.startsAt,
      detected ? 'Alert' : 'Detected',
      `${detected ? '' : 'alert '}${markdownText(first.name)} fired`,
      uniq(group.map((e) => e.seq)),
    );
    detected = true;
  }
  const resolved = sorted.filter((e): e is EntryOf<'alert_resolved'> => e.kind === 'alert_resolved');
  for (const group of groupBy(resolved, (e) => e.name).values()) {
    const last = group.reduce((a, b) => (Date.parse(b.endsAt) >= Date.parse(a.endsAt) ? b : a));
    add(last.endsAt, 'Recovery', `alert ${markdownText(last.name)} resolved`, uniq(group.map((e) => e.seq)));
  }

  const channel = sorted.find((e): e is EntryOf<'channel_created'> => e.kind === 'channel_created');
  for (const e of sorted) {
    switch (e.kind) {
      case 'declared': {
        const by = e.actor.type === 'user' ? ` by ${markdownText(e.actor.id)}` : ' from an alert';
        const ch = channel ? `; channel #${markdownText(channel.channelName)} opened` : '';
        add(
          e.at,
          'Notified',
          `incident declared (${e.severity})${by}${ch}`,
          channel ? [e.seq, channel.seq] : [e.seq],
        );
        break;
      }
      case 'hypothesis_suspected':
        add(e.at, 'Investigation', `suspected ${names.get(e.hypothesisId)}${byUser(e)}`, [e.seq]);
        break;
      case 'check_result':
        if (e.result.verdict === 'fail' || e.result.verdict === 'warn') {
          add(
            e.at,
            'Check',
            `${checkName(e.result)}: ${e.result.verdict}, ${markdownText(e.result.summary)}`,
            [e.seq],
          );
        }
        break;
      case 'escalated':
        add(e.at, 'Escalated', `to ${e.userIds.map(markdownText).join(', ')}: ${markdownText(e.reason)}`, [
          e.seq,
        ]);
        break;
      case 'hypothesis_ruled_out':
        if (names.has(e.hypothesisId)) {
          const ev = e.evidence ? `: ${markdownText(e.evidence)}` : '';
          // Passing checks have no row of their own: they are cited where they ruled something out.
          const checks = rulingOut(byId.get(e.hypothesisId)!, sorted).map((c) => c.seq);
          add(e.at, 'Ruled out', `${names.get(e.hypothesisId)}${ev}`, uniq([e.seq, ...checks]));
        }
        break;
      case 'hypothesis_confirmed':
        if (names.has(e.hypothesisId)) {
          const ev = e.evidence ? `: ${markdownText(e.evidence)}` : '';
          add(e.at, 'Finding', `confirmed ${names.get(e.hypothesisId)}${ev}`, [e.seq]);
        }
        break;
      case 'status_changed':
        add(e.at, STATUS_LABEL[e.to], `status ${e.from} → ${e.to}${byUser(e)}`, [e.seq]);
        break;
      case 'severity_changed':
        add(
          e.at,
          'Severity',
          `${e.from} → ${e.to}${byUser(e)}${e.reason ? `, ${markdownText(e.reason)}` : ''}`,
          [e.seq],
        );
        break;
      case 'note':
        add(e.at, 'Note', `${markdownText(e.text)}${byUser(e)}`, [e.seq]);
        break;
      case 'stakeholder_update':
        add(
          e.at,
          'Update',
          `status update to stakeholders (${e.status}, ${e.severity})${byUser(e)}: ${markdownText(e.text)}`,
          [e.seq],
        );
        break;
      case 'message_recorded':
        add(e.at, 'Message', `${markdownText(e.author)}: ${markdownText(e.text)}`, [e.seq]);
        break;
      case 'closed':
        add(e.at, 'Closed', `incident closed${e.resolution ? `: ${markdownText(e.resolution)}` : ''}`, [
          e.seq,
        ]);
        break;
      case 'alert_group_joined':
        add(
          e.at,
          'Alert',
          e.via === 'merge'
            ? `alert group ${markdownText(e.alertGroupId)} moved here from ${e.fromIncidentId ?? 'another incident'}`
            : `alert group ${markdownText(e.alertGroupId)} joined (same ${markdownText(e.correlation ?? '')})`,
          [e.seq],
        );
        break;
      case 'incident_merged':
        // The merged incident gets no postmortem of its own: its timeline is linked from here.
        add(
          e.at,
          'Merged',
          `${e.mergedId} merged into this incident${byUser(e)}; its timeline: \`incident-bot export ${e.mergedId}\``,
          [e.seq],
        );
        break;
      case 'slack_refused':
        // Who could not be brought in, and where nobody was told, is part of the story too.
        add(
          e.at,
          'Slack refused',
          e.action === 'invite'
            ? `inviting ${markdownText(e.target)}: ${e.error}`
            : e.action === 'announce'
              ? `the announcement in ${markdownText(e.target)}: ${e.error}`
              : `creating the channel ${markdownText(e.target)}: ${e.error}`,
          [e.seq],
        );
        break;
      case 'job_failed':
        // Work the bot owed and never did (a reminder, the channel, an alert) is part of the story.
        add(
          e.at,
          'Bot error',
          `incident-bot gave up on ${jobActivity(e.job)}${e.detail ? ` (${markdownText(e.detail)})` : ''} after ${attemptsText(e.attempts)}: ${markdownText(e.error)}`,
          [e.seq],
        );
        break;
      default:
        // Roles, reminders, summaries, checklist ticks, impact/root cause/follow-ups (own sections) and
        // the draft itself are not events in the story of the outage.
        break;
    }
  }
  rows.sort((a, b) => Date.parse(a.at) - Date.parse(b.at) || a.seq - b.seq);
  return rows.map((r) => ({
    time: sameDay ? `${format(new UTCDate(r.at), 'HH:mm')} UTC` : utc(r.at),
    label: r.label,
    ...sourced(r.text, r.seqs),
  }));
}

/** The row label of a status change: identified is a finding, monitoring a fix. */
export const STATUS_LABEL: Record<EntryOf<'status_changed'>['to'], string> = {
  investigating: 'Investigation',
  identified: 'Finding',
  monitoring: 'Fix',
  resolved: 'Recovery',
  closed: 'Closed',
};

/** The UTC date (`yyyy-MM-dd`) when every time the timeline shows falls on it, else null. */
export function spansOneUtcDay(
  sorted: readonly TimelineEntry[],
  fired: EntryOf<'alert_fired'>[],
): string | null {
  const days = new Set<string>();
  for (const e of sorted) days.add(utcDay(e.at));
  for (const e of fired) days.add(utcDay(e.startsAt));
  for (const e of sorted) if (e.kind === 'alert_resolved') days.add(utcDay(e.endsAt));
  return days.size === 1 ? [...days][0]! : null;
}
