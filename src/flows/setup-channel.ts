import { channelName } from '../core/channel-name.js';
import { SlackRefused } from '../core/errors.js';
import type { Incident } from '../core/incident.js';
import { type IncidentId, incidentNumber } from '../core/incident-model.js';
import { escapeText } from '../slack/escape.js';
import { refusalReason } from '../slack/refusals.js';
import { summaryMessage } from '../slack/render.js';
import { type Deps, slackOf } from './deps.js';
import { resumeAlertNotice } from './ingest-alert.js';
import { postOnce } from './post-once.js';
import { enqueueDelivery } from './record.js';
import { announce, recordRefusal } from './refusals.js';
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
 * declarer, the commander and INCIDENT_RESPONDERS one at a time, posts and pins the summary,
 * announces the incident. Each step checks the timeline first, so a retried or crashed job finishes
 * the job instead of doing it twice. Slack's refusals never stop it: a refused invite or
 * announcement is recorded and said in the channel (`slack_refused`), and a refused channel leaves
 * the incident recorded, the declarer told, and, with INCIDENT_FALLBACK_CHANNEL, a thread there.
 */
export async function setupChannel(deps: Deps, id: IncidentId): Promise<void> {
  const slack = slackOf(deps);
  let loaded = await deps.store.load(id);
  if (!loaded) throw new Error(`${id} does not exist`);
  let inc = loaded.incident;

  if (!inc.channelId && inc.channelRefused) return; // told already; nothing to retry
  if (!inc.channelId) {
    let created: { id: string; name: string } | undefined;
    let name = '';
    for (let attempt = 1; attempt <= MAX_NAME_ATTEMPTS && !created; attempt++) {
      name = channelName(incidentNumber(id), inc.title, inc.declaredAt, attempt);
      // Remember the name before asking Slack: if we crash after Slack created it and before the
      // timeline knows, the retried job recognises `name_taken` on its own channel and adopts it.
      const triedBefore = (await deps.store.meta(id))['channel-attempt'] === name;
      await deps.store.setMeta(id, { 'channel-attempt': name });
      let res: Awaited<ReturnType<typeof slack.createChannel>>;
      try {
        res = await slack.createChannel(name, { isPrivate: inc.private === true });
      } catch (err) {
        if (!(err instanceof SlackRefused)) throw err;
        // The workspace will not let the bot create channels: the incident stays recorded and usable.
        await channelRefused(deps, id, name, err.code);
        loaded = (await deps.store.load(id))!;
        inc = loaded.incident;
        if (!inc.channelId) return;
        break;
      }
      if (res.ok) created = res;
      else if (triedBefore) {
        const found = await slack.findChannel(name);
        if (found) created = { id: found, name };
      }
    }
    if (!created && !inc.channelId)
      throw new Error(`${id}: no free channel name after ${MAX_NAME_ATTEMPTS} attempts`);
    if (created) {
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
  }
  const channelId = inc.channelId!;

  const inThread = inc.threadTs !== undefined;
  const invitees = new Set<string>(inThread ? [] : deps.config.INCIDENT_RESPONDERS);
  if (!inThread) {
    if (inc.declaredBy) invitees.add(inc.declaredBy);
    if (inc.commander) invitees.add(inc.commander);
    if (inc.comms) invitees.add(inc.comms);
  }
  // One at a time: a guest, deactivated or external responder is said in the channel, the rest join.
  const refusals = await slack.invite(channelId, [...invitees]);
  for (const r of refusals) await recordRefusal(deps, id, 'invite', r.user, r.error);

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

  const announcement = announcementOf(inc, channelId, deps.config.INCIDENT_PRIVATE_ANNOUNCE);
  if (deps.config.INCIDENT_ANNOUNCE_CHANNEL && announcement && !(await deps.store.meta(id)).announced) {
    // A refusing announce channel is recorded (said once in the incident channel) and setup goes on.
    await announce(deps, id, { text: announcement });
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

/**
 * Slack refused to create the incident channel (`restricted_action`: the workspace limits who creates
 * channels; https://docs.slack.dev/reference/methods/conversations.create). Records the refusal; with
 * INCIDENT_FALLBACK_CHANNEL set, opens a thread there whose root is the summary (commands in that
 * channel then act on this incident); and tells the declarer why, in the app's DM.
 */
async function channelRefused(deps: Deps, id: IncidentId, name: string, code: string): Promise<void> {
  const slack = slackOf(deps);
  await recordRefusal(deps, id, 'create_channel', name, code);
  const fallback = deps.config.INCIDENT_FALLBACK_CHANNEL;
  let inc = (await deps.store.load(id))!.incident;
  let where =
    'It is recorded: `/incident` commands cannot reach it until it has a channel; ask an admin to let incident-bot create channels.';
  if (fallback) {
    if (!inc.channelId) {
      let ts: string;
      try {
        ts = await postOnce(deps, slack, id, fallback, 'summary', summaryMessage(inc, deps.now()));
      } catch (err) {
        if (!(err instanceof SlackRefused)) throw err;
        deps.log.error({ id, fallback, error: err.code }, 'INCIDENT_FALLBACK_CHANNEL refused too');
        ts = '';
      }
      if (ts) {
        await deps.store.indexChannel(fallback, id);
        const at = deps.now().toISOString();
        const base = { incidentId: id, at, actor: { type: 'bot' as const }, source: 'bot' as const };
        await deps.store.append(
          id,
          [{ ...base, kind: 'channel_created', channelId: fallback, channelName: name, threadTs: ts }],
          { claimKey: `channel-${id}` },
        );
        await deps.store.append(id, [{ ...base, kind: 'summary_posted', channelId: fallback, ts }], {
          claimKey: `summary-${id}`,
        });
        inc = (await deps.store.load(id))!.incident;
      }
    }
    if (inc.threadTs)
      where = `It is worked in a thread of <#${fallback}>; run \`/incident\` commands in that channel.`;
  }
  if (inc.declaredBy && (await deps.store.claim('told-channel-refused', 7 * 86_400, id))) {
    await slack.post(inc.declaredBy, {
      text: `:warning: ${id}: Slack refused to create the incident channel #${name}: ${refusalReason(code)} (\`${code}\`). ${where}`,
    });
  }
}
