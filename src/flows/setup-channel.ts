import { channelName } from '../core/channel-name.js';
import type { Incident } from '../core/incident.js';
import { type IncidentId, incidentNumber } from '../core/incident-model.js';
import { escapeText } from '../slack/escape.js';
import { summaryMessage } from '../slack/render.js';
import { type Deps, slackOf } from './deps.js';
import { resumeAlertNotice } from './ingest-alert.js';
import { postOnce } from './post-once.js';
import { enqueueDelivery } from './record.js';
import { scheduleEscalation, scheduleNudge } from './reminders.js';
import { postChecklist } from './run-diagnostics.js';

const MAX_NAME_ATTEMPTS = 20;

/**
 * What the announce channel hears of a new incident: id, severity, title and channel; for a private
 * incident only that one was declared (`minimal`, the default) or nothing (`none`).
 */
export function announcementOf(
  inc: Incident,
  channelId: string,
  privateAnnounce: 'minimal' | 'none' = 'minimal',
): string | undefined {
  if (inc.private) return privateAnnounce === 'none' ? undefined : ':lock: A private incident was declared.';
  return `:rotating_light: ${inc.id} (${inc.severity}) declared: ${escapeText(inc.title)} — join <#${channelId}>`;
}

/**
 * Worker step after a declaration: creates the channel (a clash gets `-2`, `-3`…), invites the
 * declarer, the commander and INCIDENT_RESPONDERS, posts and pins the summary, announces the
 * incident. Each step checks the timeline first, so a retried or crashed job finishes the job
 * instead of doing it twice.
 */
export async function setupChannel(deps: Deps, id: IncidentId): Promise<void> {
  const slack = slackOf(deps);
  let loaded = await deps.store.load(id);
  if (!loaded) throw new Error(`${id} does not exist`);
  let inc = loaded.incident;

  if (!inc.channelId) {
    let created: { id: string; name: string } | undefined;
    for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS && !created; attempt++) {
      const name = channelName(incidentNumber(id), inc.title, inc.declaredAt, attempt);
      // Remember the name before asking Slack: if we crash after Slack created it and before the
      // timeline knows, the retried job recognises `name_taken` on its own channel and adopts it.
      const triedBefore = (await deps.store.meta(id))['channel-attempt'] === name;
      await deps.store.setMeta(id, { 'channel-attempt': name });
      const res = await slack.createChannel(name, { isPrivate: inc.private === true });
      if (res.ok) created = res;
      else if (triedBefore) {
        const found = await slack.findChannel(name);
        if (found) created = { id: found, name };
      }
    }
    if (!created) throw new Error(`${id}: no free channel name after ${MAX_NAME_ATTEMPTS} attempts`);
    await deps.store.indexChannel(created.id, id);
    await deps.store.append(
      id,
      [
        {
          kind: 'channel_created',
          incidentId: id,
          at: deps.now().toISOString(),
          actor: { type: 'bot' },
          source: 'bot',
          channelId: created.id,
          channelName: created.name,
        },
      ],
      { claimKey: `channel-${id}` },
    );
    loaded = (await deps.store.load(id))!;
    inc = loaded.incident;
  }
  const channelId = inc.channelId!;

  const invitees = new Set<string>(deps.config.INCIDENT_RESPONDERS);
  if (inc.declaredBy) invitees.add(inc.declaredBy);
  if (inc.commander) invitees.add(inc.commander);
  if (inc.comms) invitees.add(inc.comms);
  await slack.invite(channelId, [...invitees]);

  if (!inc.summaryTs) {
    const ts = await postOnce(deps, slack, id, channelId, 'summary', summaryMessage(inc, deps.now()));
    await slack.pin(channelId, ts);
    await deps.store.append(
      id,
      [
        {
          kind: 'summary_posted',
          incidentId: id,
          at: deps.now().toISOString(),
          actor: { type: 'bot' },
          source: 'bot',
          channelId,
          ts,
        },
      ],
      { claimKey: `summary-${id}` },
    );
    await slack.setTopic(channelId, `${inc.severity} · ${inc.status} · ${inc.title}`);
  }

  const announce = deps.config.INCIDENT_ANNOUNCE_CHANNEL;
  const announcement = announcementOf(inc, channelId, deps.config.INCIDENT_PRIVATE_ANNOUNCE);
  if (announce && announcement && !(await deps.store.meta(id)).announced) {
    await slack.post(announce, { text: announcement });
    await deps.store.setMeta(id, { announced: deps.now().toISOString() });
  }

  const last = await deps.store.timelineLength(id);
  await enqueueDelivery(deps, id, last);
  await scheduleNudge(deps, inc);
  await scheduleEscalation(deps, inc);
  // Now that the channel is ready: the "all resolved" notice parked while it was not, and the checklist.
  await resumeAlertNotice(deps, id);
  await postChecklist(deps, id);
}
