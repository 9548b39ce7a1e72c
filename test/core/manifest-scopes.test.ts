import { readdirSync, readFileSync, statSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse } from 'yaml';
import { MANIFEST_PATH, METHOD_SCOPES, manifestBotScopes } from '../../src/sandbox/index.js';
import { webApiSpec } from '../support/conformance.js';

const ROOT = new URL('../../', import.meta.url).pathname;

/** TypeScript files of the bot itself: src/ and commands/, without the Slack sandbox (a stand-in, not the bot). */
function botSources(): Array<{ path: string; text: string }> {
  const out: Array<{ path: string; text: string }> = [];
  const walk = (dir: string) => {
    for (const name of readdirSync(dir)) {
      const p = join(dir, name);
      if (statSync(p).isDirectory()) {
        if (!p.endsWith('/src/sandbox') && !p.endsWith('/src/demo')) walk(p);
      } else if (p.endsWith('.ts') && !p.endsWith('/src/cli/sandbox.ts')) {
        out.push({ path: p.slice(ROOT.length), text: readFileSync(p, 'utf8') });
      }
    }
  };
  walk(join(ROOT, 'src'));
  walk(join(ROOT, 'commands'));
  return out;
}

/** The Web API methods the bot's code calls: `client.<group>.<method>(`, and filesUploadV2's two methods. */
function calledMethods(): Set<string> {
  const spec = webApiSpec();
  const methods = new Set<string>();
  for (const { text } of botSources()) {
    // `client.chat.postMessage(`, and three-part names such as `client.usergroups.users.list(`.
    for (const m of text.matchAll(/\bclient\.([a-z]+)\.([a-zA-Z]+)(?:\.([a-zA-Z]+))?\(/g)) {
      const name = [m[1], m[2], m[3]].filter(Boolean).join('.');
      if (spec[name]) methods.add(name);
    }
    // https://docs.slack.dev/tools/node-slack-sdk/web-api#upload-a-file: filesUploadV2 is these two calls.
    if (/\bfilesUploadV2\(/.test(text)) {
      methods.add('files.getUploadURLExternal');
      methods.add('files.completeUploadExternal');
    }
  }
  return methods;
}

/**
 * The spec lists classic scopes; a bot token asks for their granular names
 * (https://docs.slack.dev/reference/scopes): channels:write became channels:manage, chat:write:bot
 * chat:write, files:write:user files:write. User-token-only and DM scopes do not apply to a bot.
 */
const CLASSIC_TO_BOT: Record<string, string> = {
  'channels:write': 'channels:manage',
  'chat:write:bot': 'chat:write',
  'files:write:user': 'files:write',
};

function botScopesOf(method: string, privateChannels: boolean): string[] {
  const spec = webApiSpec()[method]!;
  return spec.scopes
    .map((s) => CLASSIC_TO_BOT[s] ?? s)
    .filter((s) => !/^(im|mpim):|:user$/.test(s))
    .filter((s) => privateChannels || !s.startsWith('groups:'));
}

describe('manifest.yml scopes', () => {
  it('are exactly the scopes the code needs, derived from the methods it calls and what Slack sends it', () => {
    const sources = botSources();
    const methods = calledMethods();
    expect(methods.size).toBeGreaterThan(5);
    // Private channels (is_private other than a literal false) need the groups:* scopes of the same methods.
    const privateChannels = sources.some(({ text }) => /\bis_private:(?!\s*false\b)/.test(text));
    const needed = new Map<string, string>();
    for (const m of methods) for (const s of botScopesOf(m, privateChannels)) needed.set(s, m);

    const manifest = parse(readFileSync(MANIFEST_PATH, 'utf8')) as {
      features: { slash_commands?: unknown[]; shortcuts?: unknown[] };
      settings: { event_subscriptions?: { bot_events?: string[] } };
    };
    // Slash commands and shortcuts: `commands` (https://docs.slack.dev/reference/scopes/commands).
    if ((manifest.features.slash_commands?.length ?? 0) + (manifest.features.shortcuts?.length ?? 0) > 0) {
      needed.set('commands', 'slash command / shortcut');
    }
    // Each subscribed bot event needs its scope (https://docs.slack.dev/reference/events/reaction_added).
    // app_home_opened needs none (https://docs.slack.dev/reference/events/app_home_opened: "Required scopes: none").
    const EVENT_SCOPE: Record<string, string | null> = {
      reaction_added: 'reactions:read',
      app_home_opened: null,
    };
    for (const e of manifest.settings.event_subscriptions?.bot_events ?? []) {
      expect(EVENT_SCOPE[e], `scope of event ${e}`).toBeDefined();
      const scope = EVENT_SCOPE[e];
      if (scope) needed.set(scope, `event ${e}`);
    }
    // The bot posts to channels it never joins (announce, fallback): chat:write.public
    // (https://docs.slack.dev/reference/scopes/chat.write.public).
    const config = readFileSync(join(ROOT, 'src/config.ts'), 'utf8');
    if (/INCIDENT_ANNOUNCE_CHANNEL|INCIDENT_FALLBACK_CHANNEL/.test(config)) {
      needed.set('chat:write.public', 'posts to INCIDENT_ANNOUNCE_CHANNEL without joining it');
    }

    const granted = manifestBotScopes();
    const missing = [...needed.keys()]
      .filter((s) => !granted.includes(s))
      .map((s) => `${s} (for ${needed.get(s)})`);
    const superfluous = granted.filter((s) => !needed.has(s));
    expect({ missing, superfluous }).toEqual({ missing: [], superfluous: [] });
  });

  it('agree with the sandbox’s per-method scopes (from the doc pages) for every method the code calls', () => {
    for (const m of calledMethods()) {
      // A method the sandbox does not serve shows up as unknown_method in the end-to-end suites.
      if (METHOD_SCOPES[m]) expect([m, botScopesOf(m, false)]).toEqual([m, METHOD_SCOPES[m].public]);
    }
  });
});
