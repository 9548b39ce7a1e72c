import { defaultManifestPath, manifestBotScopes } from '../slack/manifest.js';

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

/** Where manifest.yml sits: the package root (found by src/slack/manifest.ts from source or the build). */
export const MANIFEST_PATH = defaultManifestPath();

export { manifestBotScopes };
