import { reportTable, SinceArg } from '../src/core/report.js';
import { reportSince } from '../src/flows/report.js';
import { parseArgs } from './parse.js';
import type { Command } from './types.js';

const usage = '/incident report [30d]';

export const report: Command = {
  name: 'report',
  usage,
  summary: 'Response times per severity (median, p90) and misleading paths across incidents (only to you).',
  async run(ctx, text) {
    const sinceMs = parseArgs(SinceArg, text.trim() || '30d', usage);
    const r = await reportSince(ctx.deps, sinceMs);
    let table = reportTable(r);
    if (table.length > 3800) table = `${table.slice(0, 3800)}\n…`;
    return { text: `\`\`\`\n${table}\n\`\`\``, responseType: 'ephemeral' };
  },
};
