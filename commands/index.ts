import { DomainError } from '../src/core/errors.js';
import { close } from './close.js';
import { diagnose } from './diagnose.js';
import { confirm, hypotheses, ruleOut, suspect } from './hypotheses.js';
import { issue } from './issue.js';
import { list } from './list.js';
import { decline, merge } from './merge.js';
import { note } from './note.js';
import { page } from './page.js';
import { firstWord } from './parse.js';
import { followup, impact, postmortem, rootcause } from './record-text.js';
import { report } from './report.js';
import { comms, lead } from './role.js';
import { sev } from './sev.js';
import { start } from './start.js';
import { status } from './status.js';
import { timeline } from './timeline.js';
import { type Command, type CommandContext, type CommandReply, UsageError } from './types.js';
import { update } from './update.js';

// Every subcommand, in help order: adding one means adding it here (no registration from other modules).
const registry: readonly Command[] = [
  start,
  note,
  status,
  sev,
  lead,
  comms,
  suspect,
  ruleOut,
  confirm,
  hypotheses,
  impact,
  rootcause,
  followup,
  timeline,
  close,
  postmortem,
  diagnose,
  issue,
  page,
  update,
  list,
  report,
  merge,
  decline,
];

/** The `/incident` subcommands, in help order. */
export function commands(): readonly Command[] {
  return registry;
}

/** Help text listing every subcommand with its usage. */
export function helpText(): string {
  return [
    '*`/incident` commands*',
    ...registry.map((c) => `• \`${c.usage}\` — ${c.summary}`),
    '• `/incident help` — this list.',
  ].join('\n');
}

/** Finds a subcommand by name or alias (case-insensitive). */
export function findCommand(name: string): Command | undefined {
  const n = name.toLowerCase();
  return registry.find((c) => c.name === n || c.aliases?.includes(n));
}

/**
 * Runs `/incident <text>`: picks the subcommand and turns usage and domain errors into an
 * ephemeral reply saying what to do. Infrastructure errors (Redis down) propagate to the caller.
 */
export async function dispatch(ctx: CommandContext, text: string): Promise<CommandReply> {
  const [name, rest] = firstWord(text);
  if (!name || name.toLowerCase() === 'help') return { text: helpText(), responseType: 'ephemeral' };
  const cmd = findCommand(name);
  if (!cmd) {
    return {
      text: `Unknown subcommand \`${name.slice(0, 40).replace(/[<>&`]/g, '')}\`.\n${helpText()}`,
      responseType: 'ephemeral',
    };
  }
  try {
    const reply = await cmd.run(ctx, rest);
    return { responseType: 'ephemeral', ...reply };
  } catch (err) {
    if (err instanceof UsageError)
      return { text: `${err.message}\nUsage: \`${err.usage}\``, responseType: 'ephemeral' };
    if (err instanceof DomainError) {
      return {
        text: `${err.message}.${err.hint ? ` ${err.hint}` : ''}`.replace('..', '.'),
        responseType: 'ephemeral',
      };
    }
    throw err;
  }
}
