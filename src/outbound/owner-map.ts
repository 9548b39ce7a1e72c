import { readFile } from 'node:fs/promises';
import { parse } from 'yaml';
import { z } from 'zod';

/**
 * The owner mapping file (FOLLOWUP_OWNER_MAP): Slack user id → tracker accounts, e.g.
 * `U012ABCDEF: { github: octocat, jira: 5b10ac8d82e05b22cc7d4ef5 }`. A Jira account is its
 * accountId (Jira Cloud assigns by accountId only).
 */
export const OwnerMap = z
  .record(
    z.string(),
    z.object({ github: z.string().min(1).optional(), jira: z.string().min(1).optional() }).strict(),
  )
  .superRefine((m, ctx) => {
    // Checked here rather than as the record's key schema, whose error would only say "Invalid key in record".
    for (const key of Object.keys(m))
      if (!/^[UW][A-Z0-9]+$/.test(key))
        ctx.addIssue({ code: 'custom', path: [key], message: 'keys must be Slack user ids like U012ABCDEF' });
  });
export type OwnerMap = z.infer<typeof OwnerMap>;

/**
 * The tracker account of a Slack user: `{ account }`, or `{ why }` saying why there is none (no
 * file configured, unreadable or invalid file, no entry). Read on each call, so an edited file
 * applies to the next follow-up without a restart.
 */
export async function trackerAccount(
  file: string | undefined,
  tracker: 'github' | 'jira',
  slackUser: string,
): Promise<{ account: string } | { why: string }> {
  if (!file) return { why: 'no FOLLOWUP_OWNER_MAP file maps Slack users to tracker accounts' };
  let raw: unknown;
  try {
    raw = parse(await readFile(file, 'utf8'));
  } catch (err) {
    return { why: `FOLLOWUP_OWNER_MAP ${file} could not be read: ${(err as Error).message.split('\n')[0]}` };
  }
  const parsed = OwnerMap.safeParse(raw ?? {});
  if (!parsed.success) {
    const i = parsed.error.issues[0]!;
    return { why: `FOLLOWUP_OWNER_MAP ${file}: ${i.path.join('.') || '(top)'}: ${i.message}` };
  }
  const account = parsed.data[slackUser]?.[tracker];
  return account ? { account } : { why: `FOLLOWUP_OWNER_MAP has no ${tracker} account for this Slack user` };
}
