import { existsSync, readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import { parse } from 'yaml';

/**
 * The repository's Slack app manifest (`manifest.yml` at the project root), found from this module:
 * two levels up from `src/slack/` when run from source, three from the build's `dist/src/slack/`.
 */
export function defaultManifestPath(): string {
  const candidates = ['../../manifest.yml', '../../../manifest.yml'].map((rel) =>
    fileURLToPath(new URL(rel, import.meta.url)),
  );
  return candidates.find((f) => existsSync(f)) ?? candidates[0]!;
}

/**
 * The bot scopes a Slack app manifest asks for (`oauth_config.scopes.bot`), in file order; throws
 * when the file cannot be read or has no such list. Format: https://docs.slack.dev/reference/app-manifest
 */
export function manifestBotScopes(path: string = defaultManifestPath()): string[] {
  const doc = parse(readFileSync(path, 'utf8')) as { oauth_config?: { scopes?: { bot?: unknown } } } | null;
  const bot = doc?.oauth_config?.scopes?.bot;
  if (!Array.isArray(bot) || !bot.every((s) => typeof s === 'string'))
    throw new Error(`${path}: oauth_config.scopes.bot is not a list of scopes`);
  return bot;
}
