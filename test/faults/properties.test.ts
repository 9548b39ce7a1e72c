import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { handleAlertWebhook } from '../../src/alerts/intake.js';
import { DEFAULT_SEVERITY_MAPPING } from '../../src/core/alert.js';
import type { AccessRecord } from '../../src/diagnostics/sources/access-record.js';
import {
  parseHaproxyHttpLogLine,
  scanHaproxyHttpLogLine,
} from '../../src/diagnostics/sources/haproxy-log.js';
import { compileNginxLogFormat, NGINX_COMBINED } from '../../src/diagnostics/sources/nginx-log.js';
import { DATASTORE_DOWN } from '../../src/slack/app.js';
import { type Harness, startHarness } from '../support/harness.js';

const SUBCOMMANDS = [
  'note',
  'status',
  'sev',
  'lead',
  'comms',
  'impact',
  'rootcause',
  'followup',
  'timeline',
  'close',
  'postmortem',
  'suspect',
  'rule-out',
  'help',
  'start',
];
/** Slash-command text: a known subcommand (any case) or noise, then anything, including Slack markup and control characters. */
const commandText = fc.oneof(
  fc.string({ unit: 'binary', maxLength: 300 }),
  fc
    .tuple(
      fc.constantFrom(...SUBCOMMANDS).map((c) => (c.length % 2 ? c.toUpperCase() : c)),
      fc.oneof(
        fc.string({ unit: 'grapheme', maxLength: 200 }),
        fc.constantFrom(
          '<!channel>',
          '<@U123|bob>',
          'sev0',
          'SEV9',
          'resolved',
          '&amp; <script>',
          '\u0000\u202e',
          ' '.repeat(50),
        ),
      ),
    )
    .map(([c, rest]) => `${c} ${rest}`),
);

const WEBHOOK_TOKEN = 'faults-alert-token-0123456789';

describe('slash command text and webhook JSON through the real web process', () => {
  let h: Harness;
  let channel: string;
  beforeAll(async () => {
    h = await startHarness('faults-props', { ALERT_WEBHOOK_TOKEN: WEBHOOK_TOKEN }, { worker: false });
    const started = await h.client.slashCommand({
      text: 'start sev3 Fuzzing',
      userId: h.users.alice,
      channelId: h.announceChannel,
    });
    expect(started.status).toBe(200);
    // The incident channel is created by the worker; index one by hand so channel commands reach the incident.
    channel = h.sandbox.addChannel({ name: 'inc-fuzz', members: [h.users.alice] }).id;
    await h.bot.rt.store.indexChannel(channel, 'INC-1');
  });
  afterAll(async () => {
    await h?.close();
  });

  it('always answers 200 with a clear reply text and never the datastore-down notice', async () => {
    await fc.assert(
      fc.asyncProperty(commandText, fc.boolean(), async (text, inIncident) => {
        const res = await h.client.slashCommand({
          text,
          userId: h.users.alice,
          channelId: inIncident ? channel : h.announceChannel,
        });
        expect(res.status).toBe(200);
        if (/^\s*start\s*$/i.test(text)) return; // opens the modal: an empty ack is the answer
        const body = res.body as { text?: string };
        expect(typeof body.text).toBe('string');
        expect(body.text!.trim().length).toBeGreaterThan(0);
        expect(body.text).not.toBe(DATASTORE_DOWN);
      }),
      { numRuns: 150 },
    );
    const health = await fetch(`http://127.0.0.1:${h.bot.port}/healthz`);
    expect(health.status).toBe(200);
  });

  it('answers any Alertmanager webhook body with 202, 200 or a 400 that names the problem', async () => {
    await fc.assert(
      fc.asyncProperty(
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        async (body) => {
          const res = await fetch(`http://127.0.0.1:${h.bot.port}/alerts/alertmanager`, {
            method: 'POST',
            headers: { 'content-type': 'application/json', authorization: `Bearer ${WEBHOOK_TOKEN}` },
            body,
          });
          const json = (await res.json()) as { error?: string };
          expect([200, 202, 400]).toContain(res.status);
          if (res.status === 400) expect(json.error?.length).toBeGreaterThan(0);
        },
      ),
      { numRuns: 150 },
    );
  });
});

const HAPROXY_LINE =
  'Feb 27 10:00:00 lb1 haproxy[1234]: 10.0.3.17:51234 [27/Feb/2024:10:00:00.123] www web/web-01 0/0/1/12/13 200 1234 - - ---- 10/10/2/1/0 0/0 "GET /checkout HTTP/1.1"';
const NGINX_LINE =
  '10.0.0.1 - - [27/Feb/2024:10:00:00 +0000] "GET /checkout HTTP/1.1" 502 157 "-" "curl/8.0"';

/** A valid line with random edits: characters replaced, cut short, or noise spliced in. */
const mutated = (line: string) =>
  fc.oneof(
    fc.string({ unit: 'binary', maxLength: 400 }),
    fc.nat({ max: line.length }).map((n) => line.slice(0, n)),
    fc
      .tuple(fc.nat({ max: line.length }), fc.string({ unit: 'binary', maxLength: 20 }), fc.nat({ max: 20 }))
      .map(([at, noise, cut]) => line.slice(0, at) + noise + line.slice(at + cut)),
  );

describe('log line parsers', () => {
  const nginx = compileNginxLogFormat(NGINX_COMBINED);

  it('parse the reference lines (so the properties below exercise the real paths)', () => {
    expect(parseHaproxyHttpLogLine(HAPROXY_LINE)?.server).toBe('web-01');
    expect(nginx.parse(NGINX_LINE)?.status).toBe(502);
  });

  it('never throw on mangled HAProxy lines, and when both HAProxy parsers accept a line they read the same fields', () => {
    fc.assert(
      fc.property(mutated(HAPROXY_LINE), (line) => {
        const full = parseHaproxyHttpLogLine(line);
        const out: AccessRecord = { time: 0, client: '', noServer: false, status: 0 };
        if (full && scanHaproxyHttpLogLine(line, out)) {
          expect([out.status, out.backend, out.server, out.client]).toEqual([
            full.status,
            full.backend,
            full.server,
            full.client,
          ]);
        }
      }),
      { numRuns: 3000 },
    );
  });

  it('never throw on mangled nginx lines', () => {
    fc.assert(
      fc.property(mutated(NGINX_LINE), (line) => {
        const r = nginx.parse(line);
        if (r) expect(Number.isInteger(r.status)).toBe(true);
      }),
      { numRuns: 3000 },
    );
  });
});

describe('alert webhook JSON', () => {
  const token = 'faults-alert-token-0123456789';
  it('is answered with a status and, for every rejection, an error that says what is wrong', () => {
    fc.assert(
      fc.property(
        fc.constantFrom('alertmanager', 'grafana', 'pagerduty', 'generic' as const),
        fc.oneof(
          fc.jsonValue().map((v) => JSON.stringify(v)),
          fc.string({ unit: 'binary', maxLength: 200 }),
        ),
        (source, body) => {
          const r = handleAlertWebhook(
            source,
            { headers: { authorization: `Bearer ${token}` }, rawBody: Buffer.from(body) },
            { token, now: new Date('2024-05-01T10:00:00Z'), mapping: DEFAULT_SEVERITY_MAPPING },
          );
          expect([200, 202, 400]).toContain(r.status);
          if (r.status === 400) {
            expect(r.body.error.length).toBeGreaterThan(0);
            expect(r.body.issues.length).toBeGreaterThan(0);
          }
        },
      ),
      { numRuns: 2000 },
    );
  });
});
