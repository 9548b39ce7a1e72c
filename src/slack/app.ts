import { performance } from 'node:perf_hooks';
import { App, HTTPReceiver, type SlashCommand, SocketModeReceiver } from '@slack/bolt';
import { dispatch } from '../../commands/index.js';
import { declaredReply } from '../../commands/start.js';
import type { CommandReply } from '../../commands/types.js';
import { DomainError, RecordedButIncomplete } from '../core/errors.js';
import type { Severity } from '../core/incident-model.js';
import { declareIncident } from '../flows/declare.js';
import type { Deps } from '../flows/deps.js';
import { homeOpened } from '../flows/home.js';
import { incidentOfChannel, mutate } from '../flows/record.js';
import type { Metrics } from '../metrics.js';
import { wireAlertActions } from './alert-actions.js';
import { boltLogger } from './bolt-logger.js';
import { wireChecklistActions } from './checklist-actions.js';
import { wireFollowupActions } from './followup-actions.js';
import { HOME_DECLARE_ACTION } from './home-render.js';
import { PRIVATE_BLOCK, START_MODAL_ID, startIncidentModal, startNoticeView } from './modals.js';

/** Reply when Redis (or the queue) is unreachable: fast, honest, and says what to do. */
export const DATASTORE_DOWN =
  ':warning: incident-bot could not record that: its datastore (Redis) is unreachable right now. Nothing was recorded; please try again in a minute, and note the time yourself meanwhile.';

/** Reply when Redis failed mid-request (a timeout): whether it was recorded is unknown, so say so. */
export const DATASTORE_UNSURE =
  ':warning: incident-bot could not confirm that was recorded: its datastore (Redis) did not answer in time. In a minute, check `/incident timeline` before repeating it.';

/** Reply when the change is on the timeline but what follows it (the channel post, a close's follow-up) could not be queued. */
export function recordedButIncomplete(err: RecordedButIncomplete): string {
  return `:warning: Recorded on ${err.incidentId}'s timeline (#${err.seqs.join(', #')}), so there is no need to repeat it, but incident-bot could not finish what follows (its datastore, Redis, did not answer). The channel post and any follow-up work will be retried automatically within a few minutes.`;
}

/** Ack sent when a slash command's (or the start form's) work outlasts {@link COMMAND_ACK_BUDGET_MS}; the answer follows through the response_url (or views.update). */
export const STILL_WORKING =
  ':hourglass_flowing_sand: Working on it: incident-bot’s datastore (Redis) is slow to answer. The result will follow here in a moment; there is no need to repeat the command.';

/** Late answer to a bare `/incident start` whose trigger (valid 3 s) expired before the form could open. */
const START_FORM_TOO_SLOW =
  'The start form could not open in time (incident-bot’s datastore was slow). Run `/incident start <title>` to declare with a title, or try the form again.';

/**
 * How long a slash command's or view submission's work may run before it is acknowledged without
 * its answer, ms. Slack waits 3,000 ms for the ack (https://docs.slack.dev/interactivity/implementing-slash-commands#responding_to_commands);
 * the rest is left for the network and Bolt's own 2,500 ms unhandled-request timer.
 */
export const COMMAND_ACK_BUDGET_MS = 2000;

/** The work's result if it settles within `ms` milliseconds, else undefined (the work goes on). */
async function withinAckBudget<T>(work: Promise<T>, ms: number): Promise<T | undefined> {
  let timer: NodeJS.Timeout | undefined;
  const expired = new Promise<undefined>((resolve) => {
    timer = setTimeout(() => resolve(undefined), ms);
  });
  try {
    return await Promise.race([work, expired]);
  } finally {
    clearTimeout(timer);
  }
}

/** Largest Slack request body accepted, bytes (256 KiB); larger ones are answered 413. */
export const SLACK_BODY_LIMIT = 256 * 1024;

/** Slack's `message_action` callback id for the "Add to incident timeline" shortcut (see manifest.yml). */
export const ADD_TO_TIMELINE = 'add_to_timeline';

/**
 * Builds the Bolt app with an HTTPReceiver whose `requestListener` the web server mounts at
 * `/slack/events`, or Socket Mode when SLACK_APP_TOKEN is set. Handlers ack at once from Redis work
 * only; anything that talks to Slack is queued for the worker.
 */
export function createSlackApp(
  deps: Deps,
  metrics: Metrics,
): { app: App; receiver?: HTTPReceiver; socket?: SocketModeReceiver } {
  const { config, log } = deps;
  const logger = boltLogger(log);
  let receiver: HTTPReceiver | undefined;
  let socket: SocketModeReceiver | undefined;
  let app: App;
  if (config.SLACK_APP_TOKEN) {
    // Bolt's own Socket Mode receiver; its client calls apps.connections.open through
    // installerOptions.clientOptions, so SLACK_API_URL must be given there too.
    socket = new SocketModeReceiver({
      appToken: config.SLACK_APP_TOKEN,
      logger,
      installerOptions: { clientOptions: { slackApiUrl: config.SLACK_API_URL } },
    });
    app = new App({
      token: config.SLACK_BOT_TOKEN,
      receiver: socket,
      logger,
      clientOptions: { slackApiUrl: config.SLACK_API_URL },
    });
  } else {
    if (!config.SLACK_SIGNING_SECRET)
      throw new Error('SLACK_SIGNING_SECRET is required without SLACK_APP_TOKEN');
    receiver = new HTTPReceiver({
      signingSecret: config.SLACK_SIGNING_SECRET,
      endpoints: '/slack/events',
      processBeforeResponse: false,
      logger,
      unhandledRequestTimeoutMillis: 2500,
      // Slack's requests are a few KiB (a view submission tens); Bolt's default is 4 MB.
      bodyLimit: SLACK_BODY_LIMIT,
    });
    app = new App({
      token: config.SLACK_BOT_TOKEN,
      receiver,
      logger,
      clientOptions: { slackApiUrl: config.SLACK_API_URL },
    });
  }

  const timed = (kind: string) => {
    const t0 = performance.now();
    return () => {
      metrics.ackSeconds.observe({ kind }, (performance.now() - t0) / 1000);
      metrics.requests.inc({ kind, status: '200' });
    };
  };

  app.command('/incident', async ({ command, ack, client, respond }) => {
    const done = timed('command');
    const work = runCommand(deps, command);
    const reply = await withinAckBudget(work, COMMAND_ACK_BUDGET_MS);
    if (!reply) {
      // Slack shows the user a timeout after 3 s and drops a later ack: acknowledge now, answer
      // through the response_url (valid 30 minutes) when the work is done.
      await ack({ response_type: 'ephemeral', text: STILL_WORKING });
      done();
      const late = await work;
      try {
        await respond({
          response_type: late.responseType ?? 'ephemeral',
          text: late.openModal ? START_FORM_TOO_SLOW : commandReplyText(late),
        });
      } catch (err) {
        log.error(
          { err, command: command.text },
          'could not send a slow command’s answer to its response_url',
        );
      }
      return;
    }
    if (reply.openModal) {
      await ack();
      done();
      await client.views.open({
        trigger_id: command.trigger_id,
        view: startIncidentModal(command.channel_id),
      });
      return;
    }
    await ack({ response_type: reply.responseType ?? 'ephemeral', text: commandReplyText(reply) });
    done();
  });

  app.view(START_MODAL_ID, async ({ ack, view, body, client }) => {
    const done = timed('view_submission');
    const v = view.state.values;
    const title = v.title?.title?.value?.trim() ?? '';
    const severity = (v.severity?.severity?.selected_option?.value ?? 'SEV3') as Severity;
    const summary = v.summary?.summary?.value?.trim() || undefined;
    const isPrivate = (v[PRIVATE_BLOCK]?.[PRIVATE_BLOCK]?.selected_options ?? []).some(
      (o) => o.value === 'private',
    );
    if (!title) {
      await ack({ response_action: 'errors', errors: { title: 'Give the incident a title.' } });
      return done();
    }
    const work = declareIncident(deps, {
      title: title.slice(0, 150),
      severity,
      summary,
      actor: { type: 'user', id: body.user.id },
      source: 'modal',
      claimKey: `view-${view.id}`,
      ...(isPrivate ? { private: true } : {}),
    }).then(
      (res) => ({ ok: true as const, id: res.id }),
      (err: unknown) => ({ ok: false as const, err }),
    );
    const outcome = await withinAckBudget(work, COMMAND_ACK_BUDGET_MS);
    if (!outcome) {
      // Slack drops an answer after 3 s: keep the form's place with a notice, update it when done.
      await ack({ response_action: 'update', view: startNoticeView(STILL_WORKING) });
      done();
      const late = await work;
      const text = late.ok ? declaredReply(late.id, severity, isPrivate) : userFacing(late.err, log);
      try {
        await client.views.update({ view_id: view.id, view: startNoticeView(text) });
      } catch (err) {
        // The person closed the notice; a failed declaration is still in the logs.
        log.warn({ err, declared: late.ok }, 'could not show the start form’s late outcome');
      }
      return;
    }
    if (outcome.ok) await ack();
    else
      await ack({ response_action: 'errors', errors: { title: userFacing(outcome.err, log).slice(0, 150) } });
    done();
  });

  app.shortcut(ADD_TO_TIMELINE, async ({ shortcut, ack, respond }) => {
    const done = timed('shortcut');
    await ack();
    done();
    if (shortcut.type !== 'message_action') return;
    try {
      const id = await incidentOfChannel(deps, shortcut.channel.id);
      const m = shortcut.message;
      await recordMessage(deps, id, {
        channelId: shortcut.channel.id,
        ts: m.ts,
        author: m.user ?? (m as { bot_id?: string }).bot_id ?? 'unknown',
        text: m.text ?? '',
        by: shortcut.user.id,
        source: 'shortcut',
      });
    } catch (err) {
      await respond({ response_type: 'ephemeral', text: userFacing(err, log) });
    }
  });

  app.event('reaction_added', async ({ event, body }) => {
    if (event.reaction !== 'pushpin' || event.item.type !== 'message') return;
    const id = await deps.store.incidentByChannel(event.item.channel);
    if (!id) return;
    // Reading the message is a Slack call: the worker fetches it and records it once per message.
    await deps.jobs.enqueue(
      'record-message',
      {
        incidentId: id,
        channelId: event.item.channel,
        ts: event.item.ts,
        by: event.user,
        eventId: (body as { event_id?: string }).event_id,
      },
      { jobId: `pin-${event.item.channel}-${event.item.ts}`.replace(/:/g, '-') },
    );
  });

  // Issue 13: the App Home tab (https://docs.slack.dev/reference/events/app_home_opened): remembered
  // and published by a worker; its "Declare incident" button opens the start modal.
  app.event('app_home_opened', async ({ event }) => {
    if (event.tab !== 'home') return;
    try {
      await homeOpened(deps, event.user);
    } catch (err) {
      log.error({ err, user: event.user }, 'could not queue the Home tab');
    }
  });
  app.action(HOME_DECLARE_ACTION, async ({ ack, body, client }) => {
    const done = timed('home_declare');
    await ack();
    done();
    const trigger = (body as { trigger_id?: string }).trigger_id;
    if (trigger) await client.views.open({ trigger_id: trigger, view: startIncidentModal('') });
  });

  // Listeners of the alert posts and of the diagnostics checklist, wired here rather than by imports.
  wireAlertActions(app, deps, metrics);
  wireChecklistActions(app, deps, metrics);
  wireFollowupActions(app, deps, metrics);
  app.error(async (err) => {
    log.error({ err }, 'unhandled Slack listener error');
  });
  return { app, receiver, socket };
}

/**
 * The text a slash command answers. A duplicate (a redelivery, or the Redis client's resend of a
 * command whose connection dropped before its answer) found its first attempt already carried
 * out; Slack did not take an answer to that attempt, so this one still answers the person.
 */
export function commandReplyText(reply: CommandReply): string {
  if (!reply.duplicate || reply.text) return reply.text;
  return `:information_source: Already done: this request reached incident-bot more than once and was carried out once${reply.incidentId ? ` (${reply.incidentId})` : ''}. Nothing was repeated.`;
}

async function runCommand(deps: Deps, command: SlashCommand): Promise<CommandReply> {
  try {
    return await dispatch(
      {
        deps,
        userId: command.user_id,
        channelId: command.channel_id,
        claimKey: `slash-${command.trigger_id}`,
      },
      command.text ?? '',
    );
  } catch (err) {
    return { text: userFacing(err, deps.log), responseType: 'ephemeral' };
  }
}

/** Turns an error into the one reply a person sees: the domain message and hint, or the datastore notice. */
export function userFacing(err: unknown, log: Deps['log']): string {
  if (err instanceof DomainError) return `${err.message}.${err.hint ? ` ${err.hint}` : ''}`;
  if (err instanceof RecordedButIncomplete) {
    log.error({ err }, 'recorded, but its follow-up failed');
    return recordedButIncomplete(err);
  }
  log.error({ err }, 'request failed');
  return neverSent(err) ? DATASTORE_DOWN : DATASTORE_UNSURE;
}

/** True when the failed Redis command never left the process (no connection), so nothing can have been recorded. */
function neverSent(err: unknown): boolean {
  const m = err instanceof Error ? err.message : '';
  return /enableOfflineQueue|Connection is closed|ECONNREFUSED|connect ETIMEDOUT|ENOTFOUND/i.test(m);
}

/** Records a channel message on the timeline with its original time and author, once per message. */
export async function recordMessage(
  deps: Deps,
  id: Parameters<typeof mutate>[1],
  m: {
    channelId: string;
    ts: string;
    author: string;
    text: string;
    by: string;
    source: 'shortcut' | 'reaction';
  },
): Promise<boolean> {
  const at = new Date(Math.round(Number(m.ts) * 1000)).toISOString();
  const rec = await mutate(
    deps,
    id,
    () => [
      {
        kind: 'message_recorded',
        incidentId: id,
        at,
        actor: { type: 'user', id: m.by },
        source: m.source,
        channelId: m.channelId,
        messageTs: m.ts,
        author: m.author,
        text: m.text,
        recordedBy: m.by,
      },
    ],
    { claimKey: `msg-${m.channelId}-${m.ts}` },
  );
  return !rec.duplicate;
}
