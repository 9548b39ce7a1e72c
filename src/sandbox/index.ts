export { BLOCK_LIMITS, blocksToText, validateBlocks } from './blocks.js';
export {
  type SendOptions,
  type SimResponse,
  SlackClientSim,
  type SlackClientSimOptions,
  type SlashCommandResponse,
  sign,
} from './client.js';
export { MAX_TEXT, MAX_UPDATE_TEXT, METHODS, TRIGGER_TTL_MS } from './methods.js';
export { DEFAULT_RATE_LIMITS, type RateLimit } from './rate-limiter.js';
export { EVENT_SCOPES, MANIFEST_PATH, METHOD_SCOPES, manifestBotScopes } from './scopes.js';
export {
  type FailSpec,
  RESPONSE_URL_LIMITS,
  Sandbox,
  type SandboxOptions,
  startSandbox,
  type TranscriptEntry,
} from './server.js';
export type {
  Delivery,
  EnvelopeRecord,
  EnvelopeType,
  SocketModeHub,
  SocketModeOptions,
} from './socket-mode.js';
export {
  channelNameError,
  type EphemeralMessage,
  type ResponseUrlRecord,
  type SandboxChannel,
  type SandboxFile,
  type SandboxMessage,
  type SandboxPin,
  type SandboxUser,
  type SandboxUserSpec,
  type SandboxView,
  SlackApiError,
  type WorkspaceKnobs,
} from './workspace.js';
