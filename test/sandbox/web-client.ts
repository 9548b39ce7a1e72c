import { type Logger, LogLevel, WebClient, type WebClientOptions } from '@slack/web-api';
import type { Sandbox } from '../../src/sandbox/index.js';

/** A @slack/logger that drops everything: the client logs expected API errors at error level. */
export const silentLogger: Logger = {
  debug() {},
  info() {},
  warn() {},
  error() {},
  setLevel() {},
  getLevel: () => LogLevel.ERROR,
  setName() {},
};

/** The bot's real WebClient pointed at the sandbox; no retries unless `opts.retryConfig` says so. */
export function webClient(sandbox: Sandbox, opts: WebClientOptions & { token?: string } = {}): WebClient {
  const { token = sandbox.botToken, ...rest } = opts;
  return new WebClient(token, {
    slackApiUrl: sandbox.apiUrl,
    logger: silentLogger,
    retryConfig: { retries: 0 },
    ...rest,
  });
}

/** The Slack `error` code of a rejected WebClient call. */
export async function slackError(call: Promise<unknown>): Promise<string | undefined> {
  try {
    await call;
  } catch (err) {
    return (err as { data?: { error?: string } }).data?.error ?? (err as Error).message;
  }
  throw new Error('expected the Slack call to fail');
}
