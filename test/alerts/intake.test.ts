import { once } from 'node:events';
import { createServer, request, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import {
  BodyTooLargeError,
  handleAlertWebhook,
  type IntakeResult,
  MAX_BODY_BYTES,
  payloadTooLarge,
  readBody,
} from '../../src/alerts/intake.js';
import { pagerDutySignature } from '../../src/alerts/verify.js';
import { AlertBatch, type AlertSource } from '../../src/core/alert.js';
import { accepted, deliver, fixture, OPTS, PD_SECRET, TOKEN } from './helpers.js';

const GENERIC = { title: 'Disk full on db-1', status: 'firing', dedupKey: 'disk-db-1' };
const SOURCES: AlertSource[] = ['alertmanager', 'grafana', 'pagerduty', 'generic'];
const EXAMPLES: Record<AlertSource, unknown> = {
  alertmanager: fixture('alertmanager-v4-firing.json'),
  grafana: fixture('unified-alerting-webhook.json'),
  pagerduty: {
    event: { ...fixture('v3-event-incident.priority_updated.json').event, event_type: 'incident.triggered' },
  },
  generic: GENERIC,
};

describe('alert webhook authentication', () => {
  it.each(SOURCES)('answers 401 to %s without, or with a wrong, bearer token', (source) => {
    expect(deliver(source, EXAMPLES[source], {}, {}).status).toBe(401);
    expect(deliver(source, EXAMPLES[source], {}, { authorization: 'Bearer nope' }).status).toBe(401);
    expect(deliver(source, EXAMPLES[source], {}, { Authorization: `Bearer ${TOKEN}` }).status).toBe(202);
  });

  it('answers 401 to everything when no token is configured', () => {
    const r = deliver('generic', GENERIC, { token: undefined });
    expect(r).toEqual({ status: 401, body: { error: expect.stringContaining('ALERT_WEBHOOK_TOKEN') } });
  });

  it('requires PagerDuty’s own signature once a secret is set, and the bearer token is not enough', () => {
    const raw = Buffer.from(JSON.stringify(EXAMPLES.pagerduty));
    const opts = { ...OPTS, pagerdutySecret: PD_SECRET };
    const send = (headers: Record<string, string>) =>
      handleAlertWebhook('pagerduty', { headers, rawBody: raw }, opts);
    expect(send({ authorization: `Bearer ${TOKEN}` }).status).toBe(401);
    expect(send({ 'x-pagerduty-signature': pagerDutySignature(raw, 'wrong') }).status).toBe(401);
    const rotated = `${pagerDutySignature(raw, 'old')},${pagerDutySignature(raw, PD_SECRET)}`;
    expect(send({ 'X-PagerDuty-Signature': rotated }).status).toBe(202);
  });

  it('checks the signature over the exact bytes received', () => {
    const raw = Buffer.from(JSON.stringify(EXAMPLES.pagerduty, null, 2));
    const sig = pagerDutySignature(Buffer.from(JSON.stringify(EXAMPLES.pagerduty)), PD_SECRET);
    const r = handleAlertWebhook(
      'pagerduty',
      { headers: { 'x-pagerduty-signature': sig }, rawBody: raw },
      { ...OPTS, pagerdutySecret: PD_SECRET },
    );
    expect(r.status).toBe(401);
  });
});

describe('alert webhook bodies', () => {
  it('answers 202 with the group id, and the batch to enqueue', () => {
    const r = deliver('generic', GENERIC);
    expect(r.status).toBe(202);
    if (r.status !== 202) return;
    expect(r.body).toEqual({ accepted: true, groupId: r.groupId, status: 'firing', alerts: 1 });
    expect(r.groupId).toMatch(/^generic-[0-9a-f]{16}$/);
  });

  it('answers 413 over 1 MiB and accepts exactly 1 MiB', () => {
    const json = JSON.stringify(GENERIC);
    const exact = Buffer.from(json.padEnd(MAX_BODY_BYTES, ' '));
    expect(accepted(deliver('generic', exact)).groupKey).toBe('disk-db-1');
    const over = Buffer.from(json.padEnd(MAX_BODY_BYTES + 1, ' '));
    expect(deliver('generic', over)).toEqual({
      status: 413,
      body: { error: 'body is larger than 1048576 bytes', limitBytes: MAX_BODY_BYTES },
    });
  });

  it.each([
    ['malformed JSON', '{"title": nope}'],
    ['truncated JSON', JSON.stringify(GENERIC).slice(0, 20)],
    ['an empty body', ''],
  ])('answers 400 to %s, with the parser’s message', (_name, body) => {
    const r = deliver('generic', body);
    expect(r).toEqual({
      status: 400,
      body: { error: 'body is not valid JSON', issues: [{ path: '(root)', message: expect.any(String) }] },
    });
  });

  it('answers 400 to a body that is not UTF-8', () => {
    const r = deliver('generic', Buffer.from([0x7b, 0x22, 0xff, 0xfe, 0x22, 0x7d]));
    expect(r.body).toMatchObject({ issues: [{ message: 'body is not valid UTF-8' }] });
  });

  it('accepts a UTF-8 byte order mark', () => {
    expect(deliver('generic', Buffer.from(`\uFEFF${JSON.stringify(GENERIC)}`)).status).toBe(202);
  });

  it.each([
    ['an array', []],
    ['null', null],
    ['a number', 42],
  ])('answers 400 naming the root when the body is %s', (_name, body) => {
    expect(deliver('alertmanager', body).body).toMatchObject({ issues: [{ path: '(root)' }] });
  });
});

const isValidAnswer = (r: IntakeResult) => {
  if (r.status === 202) return AlertBatch.safeParse(r.batch).success;
  if (r.status === 200) return typeof r.body.ignored === 'string' && r.body.ignored.length > 0;
  if (r.status === 400) {
    return r.body.issues.length > 0 && r.body.issues.every((i) => i.path !== '' && i.message !== '');
  }
  return false;
};

/** Every path into a JSON value, e.g. `['alerts', 0, 'labels']`. */
function pathsOf(value: unknown, prefix: (string | number)[] = []): (string | number)[][] {
  if (typeof value !== 'object' || value === null) return [prefix];
  const entries = Array.isArray(value) ? value.map((v, i) => [i, v] as const) : Object.entries(value);
  return [prefix, ...entries.flatMap(([k, v]) => pathsOf(v, [...prefix, k]))];
}

// biome-ignore lint/suspicious/noExplicitAny: edits arbitrary JSON in place
function setAt(root: any, path: (string | number)[], value: unknown): unknown {
  if (path.length === 0) return value;
  let node = root;
  for (const k of path.slice(0, -1)) node = node[k];
  node[path.at(-1)!] = value;
  return root;
}

describe('alert webhook robustness', () => {
  it.each(SOURCES)(
    'answers any JSON sent to %s with a valid batch, a reason, or 400 with issues',
    (source) => {
      fc.assert(
        fc.property(fc.jsonValue(), (json) => isValidAnswer(deliver(source, json))),
        { numRuns: 300 },
      );
    },
  );

  it.each(SOURCES)('answers any bytes sent to %s without throwing', (source) => {
    fc.assert(
      fc.property(fc.uint8Array({ maxLength: 300 }), (bytes) =>
        isValidAnswer(deliver(source, Buffer.from(bytes))),
      ),
      { numRuns: 200 },
    );
  });

  it.each(SOURCES)('answers a real %s body with any one field replaced without throwing', (source) => {
    const paths = pathsOf(EXAMPLES[source]);
    fc.assert(
      fc.property(fc.constantFrom(...paths), fc.jsonValue(), (path, value) => {
        const body = setAt(structuredClone(EXAMPLES[source]), path, value);
        return isValidAnswer(deliver(source, body));
      }),
      { numRuns: 500 },
    );
  });
});

describe('reading a request body', () => {
  let server: Server;
  let port: number;
  const received: number[] = [];
  const LIMIT = 64 * 1024;

  beforeAll(async () => {
    server = createServer(async (req, res) => {
      let sent = 0;
      req.on('data', (c: Buffer) => {
        sent += c.length;
      });
      try {
        const rawBody = await readBody(req, LIMIT);
        const r = handleAlertWebhook('generic', { headers: req.headers, rawBody }, OPTS);
        res.writeHead(r.status, { 'content-type': 'application/json' }).end(JSON.stringify(r.body));
      } catch (err) {
        if (!(err instanceof BodyTooLargeError)) throw err;
        received.push(sent);
        const r = payloadTooLarge(err.limitBytes);
        res.writeHead(r.status, { 'content-type': 'application/json', connection: 'close' });
        res.end(JSON.stringify(r.body));
      }
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    port = (server.address() as AddressInfo).port;
  });
  afterAll(() => new Promise<void>((resolve) => server.close(() => resolve())));

  function post(headers: Record<string, string | number>, write: (req: ReturnType<typeof request>) => void) {
    return new Promise<{ status: number; body: string }>((resolve, reject) => {
      const req = request({ host: '127.0.0.1', port, method: 'POST', path: '/', headers }, (res) => {
        let body = '';
        res.setEncoding('utf8');
        res.on('data', (c) => {
          body += c;
        });
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
      });
      // Writing into a connection the server has closed after answering 413 may fail; the answer counts.
      req.on('error', (err) => setTimeout(() => reject(err), 1000));
      write(req);
    });
  }

  it('reads a body within the limit and hands it to the webhook handler', async () => {
    const body = JSON.stringify(GENERIC);
    const r = await post({ authorization: `Bearer ${TOKEN}`, 'content-type': 'application/json' }, (req) =>
      req.end(body),
    );
    expect(r.status).toBe(202);
  });

  it('answers 413 from Content-Length alone, before any body byte arrives', async () => {
    const r = await post({ 'content-length': LIMIT + 1 }, (req) => req.flushHeaders());
    expect(r).toEqual({ status: 413, body: JSON.stringify(payloadTooLarge(LIMIT).body) });
  });

  it('stops reading a chunked body once it passes the limit', async () => {
    const chunk = Buffer.alloc(16 * 1024, 0x20);
    const r = await post({ 'transfer-encoding': 'chunked' }, (req) => {
      let written = 0;
      const pump = () => {
        while (written < 4 * LIMIT && !req.destroyed) {
          written += chunk.length;
          if (!req.write(chunk)) return void req.once('drain', pump);
        }
      };
      req.on('response', () => req.destroy());
      pump();
    });
    expect(r.status).toBe(413);
    expect(received.at(-1)).toBeLessThanOrEqual(LIMIT + chunk.length);
  });
});
