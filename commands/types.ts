import type { IncidentId } from '../src/core/incident-model.js';
import type { Deps } from '../src/flows/deps.js';

/** Who ran a subcommand and where; `claimKey` (from Slack's trigger id) makes a retried request count once. */
export interface CommandContext {
  deps: Deps;
  userId: string;
  channelId: string;
  claimKey?: string;
}

/** What a subcommand answers: shown only to the caller (`ephemeral`) or to the channel; or a request to open the start modal. */
export interface CommandReply {
  text: string;
  responseType?: 'ephemeral' | 'in_channel';
  openModal?: 'start-incident';
  /** True when the request was a resend of one already carried out: nothing new was recorded (see commandReplyText). */
  duplicate?: boolean;
  incidentId?: IncidentId;
}

/** One `/incident` subcommand: its name, usage line, one-line summary and handler of the text after the name. */
export interface Command {
  name: string;
  aliases?: string[];
  usage: string;
  summary: string;
  run(ctx: CommandContext, text: string): Promise<CommandReply>;
}

/** Thrown by a parser when the text does not fit the usage; the dispatcher replies with the usage. */
export class UsageError extends Error {
  constructor(
    message: string,
    readonly usage: string,
  ) {
    super(message);
  }
}
