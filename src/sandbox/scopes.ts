import { readFileSync } from 'node:fs';
import { parse } from 'yaml';

/**
 * The bot-token scopes each Web API method the sandbox serves needs, from the "Required scopes"
 * (granular bot scopes) of each method's page, https://docs.slack.dev/reference/methods/<method>.
 * `public` applies to public channels (and methods without a channel); `private` to private
 * channels. Any one scope of a list is enough. An empty list: no scope needed.
 */
export const METHOD_SCOPES: Readonly<Record<string, { public: string[]; private?: string[] }>> = {
  'auth.test': { public: [] },
  'chat.postMessage': { public: ['chat:write'] },
  'chat.update': { public: ['chat:write'] },
  'chat.postEphemeral': { public: ['chat:write'] },
  'chat.getPermalink': { public: [] },
  'conversations.create': { public: ['channels:manage'], private: ['groups:write'] },
  'conversations.invite': { public: ['channels:manage'], private: ['groups:write'] },
  'conversations.archive': { public: ['channels:manage'], private: ['groups:write'] },
  'conversations.join': { public: ['channels:join'] },
  'conversations.info': { public: ['channels:read'], private: ['groups:read'] },
  'conversations.list': { public: ['channels:read'], private: ['groups:read'] },
  'conversations.members': { public: ['channels:read'], private: ['groups:read'] },
  'conversations.setTopic': { public: ['channels:manage'], private: ['groups:write'] },
  'conversations.setPurpose': { public: ['channels:manage'], private: ['groups:write'] },
  'conversations.history': { public: ['channels:history'], private: ['groups:history'] },
  'conversations.replies': { public: ['channels:history'], private: ['groups:history'] },
  'pins.add': { public: ['pins:write'] },
  'pins.list': { public: ['pins:read'] },
  'reactions.add': { public: ['reactions:write'] },
  'users.info': { public: ['users:read'] },
  'users.list': { public: ['users:read'] },
  'views.open': { public: [] },
  'views.update': { public: [] },
  'views.publish': { public: [] },
  'files.getUploadURLExternal': { public: ['files:write'] },
  'files.completeUploadExternal': { public: ['files:write'] },
};

/**
 * Scopes a Slack app needs for what Slack sends it rather than for a method it calls:
 * slash commands and shortcuts (`commands`, https://docs.slack.dev/reference/scopes/commands),
 * events by type (https://docs.slack.dev/reference/events/reaction_added: `reactions:read`), and
 * chat.postMessage to a public channel the bot has not joined (`chat:write.public`,
 * https://docs.slack.dev/reference/scopes/chat.write.public).
 */
export const EVENT_SCOPES: Readonly<Record<string, string>> = {
  slash_command: 'commands',
  shortcut: 'commands',
  reaction_added: 'reactions:read',
  post_without_joining: 'chat:write.public',
};

/** Where manifest.yml sits: the package root (two levels above src/sandbox/ and dist/sandbox/). */
export const MANIFEST_PATH = new URL('../../manifest.yml', import.meta.url);

/** The bot scopes (`oauth_config.scopes.bot`) of an app manifest (https://docs.slack.dev/reference/app-manifest); throws naming the file when it has none. */
export function manifestBotScopes(path: URL | string = MANIFEST_PATH): string[] {
  const doc = parse(readFileSync(path, 'utf8')) as { oauth_config?: { scopes?: { bot?: unknown } } };
  const bot = doc?.oauth_config?.scopes?.bot;
  if (!Array.isArray(bot) || !bot.every((s) => typeof s === 'string')) {
    throw new Error(`${String(path)}: oauth_config.scopes.bot must be a list of scope names`);
  }
  return bot;
}
