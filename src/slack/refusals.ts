/**
 * Slack `error` codes that are a refusal, not a hiccup: retrying the same call gives the same answer,
 * so the bot records it, tells people, and goes on. From each method's doc page
 * (https://docs.slack.dev/reference/methods/conversations.invite, …/conversations.create,
 * …/chat.postMessage) and the published Web API spec's error enums.
 */
export const REFUSAL_REASONS: Readonly<Record<string, string>> = {
  user_is_restricted: 'guest account',
  user_is_ultra_restricted: 'single-channel guest account',
  ura_max_channels: 'guest account already in its maximum number of channels',
  cant_invite: 'Slack does not allow inviting this account (deactivated?)',
  user_not_found: 'no such user in this workspace (left the company?)',
  user_is_bot: 'the account is a bot',
  no_external_invite_permission: 'external user (another organization) who may not be invited here',
  restricted_action: 'this workspace limits who may create channels',
  is_archived: 'the channel is archived',
  channel_not_found: 'no such channel, or it is private and incident-bot is not in it',
  not_in_channel: 'incident-bot is not a member of the channel',
  method_not_supported_for_channel_type: 'not possible in this kind of channel',
  missing_scope: 'incident-bot lacks the permission (scope) for it; reinstall the app from manifest.yml',
  no_permission: 'incident-bot is not allowed to do that here',
  ekm_access_denied: 'administrators have suspended posting',
  invalid_name_specials: 'the channel name is not allowed',
  too_many_users: 'too many users at once',
};

/** True when `code` is a refusal (see REFUSAL_REASONS), false for errors worth retrying (rate limits, outages). */
export function isRefusal(code: string | undefined): code is string {
  return code !== undefined && Object.hasOwn(REFUSAL_REASONS, code);
}

/** Plain words for a Slack refusal code (`guest account`), or the code itself when it has none. */
export function refusalReason(code: string): string {
  return REFUSAL_REASONS[code] ?? code;
}
