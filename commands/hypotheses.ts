import { z } from 'zod';
import { HypothesisCategory } from '../src/core/check.js';
import { DomainError } from '../src/core/errors.js';
import { categorize, findHypothesis, nextHypothesisId, nudgeFor } from '../src/core/hypothesis.js';
import type { NewEntry } from '../src/core/timeline.js';
import { mutate } from '../src/flows/record.js';
import { escapeText } from '../src/slack/escape.js';
import { currentIncident, slashOrigin } from './context.js';
import { FreeText, firstWord, parseArgs } from './parse.js';
import type { Command } from './types.js';

const suspectUsage =
  '/incident suspect [database|traffic-surge|network|load-balancer|application:] <what you suspect>';

/** `suspect` text: an optional `category:` prefix, else the category is guessed from the words. */
export const SuspectArgs = FreeText.transform((t) => {
  const m = /^([a-z-]+):\s*([\s\S]+)$/i.exec(t);
  const explicit = m && HypothesisCategory.safeParse(m[1]!.toLowerCase());
  if (m && explicit?.success) return { category: explicit.data, text: m[2]!.trim() };
  return { category: categorize(t), text: t };
});

export const suspect: Command = {
  name: 'suspect',
  aliases: ['hypothesis'],
  usage: suspectUsage,
  summary: 'Record a hypothesis (H1, H2, …); the bot answers with any check evidence for or against it.',
  async run(ctx, text) {
    const args = parseArgs(SuspectArgs, text, suspectUsage);
    const id = await currentIncident(ctx);
    const o = slashOrigin(ctx);
    let hid = '';
    const rec = await mutate(
      ctx.deps,
      id,
      (inc) => {
        hid = nextHypothesisId(inc);
        const at = ctx.deps.now().toISOString();
        const out: NewEntry[] = [
          {
            kind: 'hypothesis_suspected',
            incidentId: id,
            at,
            actor: o.actor,
            source: o.source,
            hypothesisId: hid,
            text: args.text,
            category: args.category,
          },
        ];
        const nudge = nudgeFor(inc, args.category);
        if (nudge)
          out.push({ kind: 'note', incidentId: id, at, actor: { type: 'bot' }, source: 'bot', text: nudge });
        return out;
      },
      { claimKey: o.claimKey },
    );
    return {
      text: `Hypothesis ${hid} (${args.category}) recorded on ${id}. Settle it with \`/incident rule-out ${hid} <evidence>\` or \`/incident confirm ${hid} <evidence>\`.`,
      duplicate: rec.duplicate,
      incidentId: id,
    };
  },
};

const SettleArgs = z
  .string()
  .trim()
  .transform((t) => {
    const [ref, rest] = firstWord(t);
    const evidence = rest.trim();
    return evidence ? { ref, evidence } : { ref };
  })
  .pipe(
    z.object({
      ref: z.string().regex(/^[hH]?\d+$/, 'name the hypothesis, e.g. H1 (see `/incident hypotheses`)'),
      evidence: z.string().max(3000).optional(),
    }),
  );

function settle(name: 'rule-out' | 'confirm'): Command {
  const usage = `/incident ${name} <H1> [evidence]`;
  const kind = name === 'confirm' ? 'hypothesis_confirmed' : 'hypothesis_ruled_out';
  return {
    name,
    aliases: name === 'rule-out' ? ['ruleout', 'rule_out', 'reject'] : ['confirmed'],
    usage,
    summary:
      name === 'confirm'
        ? 'Confirm a hypothesis as the cause (with the evidence).'
        : 'Rule a hypothesis out (with the evidence).',
    async run(ctx, text) {
      const args = parseArgs(SettleArgs, text, usage);
      const id = await currentIncident(ctx);
      const o = slashOrigin(ctx);
      let hid = '';
      const rec = await mutate(
        ctx.deps,
        id,
        (inc) => {
          const h = findHypothesis(inc, args.ref);
          if (!h) {
            throw new DomainError(
              'HYPOTHESIS_NOT_FOUND',
              `${id} has no hypothesis ${args.ref.toUpperCase()}`,
              `List them with \`/incident hypotheses\`.`,
            );
          }
          if (h.state !== 'suspected') throw new DomainError('NO_CHANGE', `${h.id} is already ${h.state}`);
          hid = h.id;
          return [
            {
              kind,
              incidentId: id,
              at: ctx.deps.now().toISOString(),
              actor: o.actor,
              source: o.source,
              hypothesisId: h.id,
              evidence: args.evidence,
            },
          ];
        },
        { claimKey: o.claimKey },
      );
      const next = name === 'confirm' ? ' When the cause is known, `/incident status identified`.' : '';
      return {
        text: `${hid} ${name === 'confirm' ? 'confirmed' : 'ruled out'} on ${id}.${next}`,
        duplicate: rec.duplicate,
        incidentId: id,
      };
    },
  };
}

export const ruleOut = settle('rule-out');
export const confirm = settle('confirm');

export const hypotheses: Command = {
  name: 'hypotheses',
  usage: '/incident hypotheses',
  summary: 'List the hypotheses and what the checks say about each (only to you).',
  async run(ctx) {
    const id = await currentIncident(ctx);
    const inc = (await ctx.deps.store.load(id))!.incident;
    if (inc.hypotheses.length === 0)
      return { text: `${id} has no hypotheses yet. Add one with \`${suspectUsage}\`.`, incidentId: id };
    const icon = { suspected: ':thinking_face:', 'ruled-out': ':x:', confirmed: ':dart:' };
    const lines = inc.hypotheses.map((h) => {
      const checks = inc.checks.filter((c) => c.bears.some((b) => b.hypothesis === h.category));
      const ev = checks.map((c) => `${c.checkId}@${escapeText(c.target)} ${c.verdict}`).join(', ');
      return `${icon[h.state]} *${h.id}* (${h.category}) ${escapeText(h.text)} — ${h.state}${h.evidence ? `: ${escapeText(h.evidence)}` : ''}${ev ? ` · checks: ${ev}` : ''}`;
    });
    return { text: [`*${id} hypotheses*`, ...lines].join('\n'), incidentId: id };
  },
};
