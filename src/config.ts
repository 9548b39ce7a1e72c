import { z } from 'zod';

const csvIds = (what: string) =>
  z
    .string()
    .default('')
    .transform((s) =>
      s
        .split(/[,\s]+/)
        .map((x) => x.trim())
        .filter(Boolean),
    )
    .pipe(
      z.array(z.string().regex(/^[UWS][A-Z0-9]+$/, `each entry must be a Slack ${what} id like U012ABCDEF`)),
    );

/** Every setting incident-bot reads from the environment; the README's settings table mirrors this schema. */
export const Config = z.object({
  SLACK_BOT_TOKEN: z
    .string({ error: 'is required: the Bot User OAuth Token (xoxb-…) from the Slack app page' })
    .regex(/^xox[bp]-/, 'must be a bot token starting with xoxb-'),
  SLACK_SIGNING_SECRET: z
    .string({ error: 'is required: Basic Information → Signing Secret on the Slack app page' })
    .min(8, 'looks too short; copy the whole Signing Secret'),
  SLACK_APP_TOKEN: z
    .string()
    .regex(/^xapp-/, 'must be an app-level token starting with xapp- (or unset it to use HTTP)')
    .optional(),
  SLACK_API_URL: z.url('must be a URL such as https://slack.com/api/').default('https://slack.com/api/'),
  REDIS_URL: z
    .string()
    .regex(/^rediss?:\/\//, 'must be a redis:// or rediss:// URL')
    .default('redis://127.0.0.1:6379'),
  REDIS_PREFIX: z
    .string()
    .regex(/^[A-Za-z0-9_.-]+$/, 'letters, digits, _ . - only')
    .default('incident-bot'),
  PORT: z.coerce.number().int().min(0).max(65535).default(3000),
  LOG_LEVEL: z.enum(['fatal', 'error', 'warn', 'info', 'debug', 'trace', 'silent']).default('info'),
  INCIDENT_RESPONDERS: csvIds('user'),
  INCIDENT_ANNOUNCE_CHANNEL: z
    .string()
    .regex(/^[CG][A-Z0-9]+$/, 'must be a channel id like C012ABCDEF (not a #name)')
    .optional(),
  INCIDENT_ESCALATION_USERS: csvIds('user or user group'),
  ALERT_WEBHOOK_TOKEN: z.string().min(16, 'use at least 16 random characters').optional(),
  PAGERDUTY_WEBHOOK_SECRET: z.string().optional(),
  ALERT_SEVERITY_MAP: z.string().optional(),
  DIAGNOSTICS_CONFIG: z.string().optional(),
  POSTMORTEM_DIR: z.string().default('./postmortems'),
  TEMPLATES_DIR: z.string().optional(),
  /** Status-update nudge cadence per severity, minutes: `SEV1=15,SEV2=30,SEV3=60,SEV4=0` (0 = none). */
  REMINDER_MINUTES: z.string().default('SEV1=15,SEV2=30,SEV3=60,SEV4=0'),
  /** Escalate when nobody takes command within this many minutes, per severity. */
  ESCALATION_MINUTES: z.string().default('SEV1=5,SEV2=15,SEV3=0,SEV4=0'),
  WORKER_CONCURRENCY: z.coerce.number().int().min(1).max(100).default(8),
  // Added for issue 3 (alerts): channel setups allowed per window (Slack Tier 2: conversations.create
  // and pins.add ~20/min); an alert storm queues behind BullMQ's limiter instead of failing. Tests shrink the window.
  CHANNEL_SETUPS_PER_WINDOW: z.coerce.number().int().min(1).default(20),
  CHANNEL_SETUP_WINDOW_SECONDS: z.coerce.number().positive().default(60),
  // Added for issue 3: BullMQ job lock, seconds. A killed worker's job is retried once its lock
  // expires (up to about twice this); tests shorten it to exercise crash recovery quickly.
  JOB_LOCK_SECONDS: z.coerce.number().positive().default(30),
  // Added for issue 4: tries of one diagnostics check job and the delay before its first retry (doubling
  // after that); unset, the queue defaults (8 tries from 500 ms). Tests shrink them to see a check fail for good.
  CHECK_JOB_ATTEMPTS: z.coerce.number().int().min(1).optional(),
  CHECK_JOB_BACKOFF_MS: z.coerce.number().int().nonnegative().optional(),
});
export type Config = z.infer<typeof Config>;

/** Thrown by loadConfig; its message names each bad variable and how to fix it. */
export class ConfigError extends Error {
  override name = 'ConfigError';
}

/** Reads and validates the configuration once from `env` (default process.env); throws ConfigError listing every bad variable. */
export function loadConfig(env: NodeJS.ProcessEnv = process.env): Config {
  const cleaned = Object.fromEntries(Object.entries(env).filter(([, v]) => v !== undefined && v !== ''));
  const parsed = Config.safeParse(cleaned);
  if (parsed.success) return parsed.data;
  const lines = parsed.error.issues.map((i) => {
    const name = String(i.path[0] ?? '?');
    const missing = i.code === 'invalid_type' && cleaned[name] === undefined;
    return `  ${name}: ${missing && !i.message.startsWith('is required') ? `is required (${i.message})` : i.message}`;
  });
  throw new ConfigError(
    `incident-bot cannot start: fix these environment variables (see README, "Settings"):\n${lines.join('\n')}`,
  );
}

/** Parses `SEV1=15,SEV2=30` into minutes per severity; throws ConfigError naming `name` on a bad pair. */
export function parseSeverityMinutes(
  name: string,
  value: string,
): Record<'SEV1' | 'SEV2' | 'SEV3' | 'SEV4', number> {
  const out = { SEV1: 0, SEV2: 0, SEV3: 0, SEV4: 0 };
  for (const pair of value
    .split(',')
    .map((p) => p.trim())
    .filter(Boolean)) {
    const m = /^(SEV[1-4])=(\d+(?:\.\d+)?)$/i.exec(pair);
    if (!m) throw new ConfigError(`${name}: "${pair}" is not SEVn=<minutes>; write e.g. SEV1=15,SEV2=30`);
    out[m[1]!.toUpperCase() as keyof typeof out] = Number(m[2]);
  }
  return out;
}
