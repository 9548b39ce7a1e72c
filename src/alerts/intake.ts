import type { IncomingMessage } from 'node:http';
import { z } from 'zod';
import type { AlertBatch, AlertSource } from '../core/alert.js';
import * as alertmanager from './alertmanager.js';
import * as generic from './generic.js';
import * as grafana from './grafana.js';
import { groupId } from './group-id.js';
import * as pagerduty from './pagerduty.js';
import { verifyBearerToken, verifyPagerDutySignature } from './verify.js';
import { type Ignored, type Issue, isIgnored, issuesOf, type ToBatchOptions } from './wire.js';

/** Largest accepted webhook body, bytes (1 MiB); Alertmanager bodies are a few kB per alert. */
export const MAX_BODY_BYTES = 1024 * 1024;

/** A webhook request as the server saw it: headers (any case) and the unparsed body bytes. */
export interface WebhookRequest {
  headers: Readonly<Record<string, string | string[] | undefined>>;
  rawBody: Buffer;
}

/** Secrets and inputs of {@link handleAlertWebhook}; `now` is the receive time. */
export interface IntakeOptions extends ToBatchOptions {
  /** `ALERT_WEBHOOK_TOKEN`; without it only signed PagerDuty deliveries are accepted. */
  token?: string | undefined;
  /** `PAGERDUTY_WEBHOOK_SECRET`; when set, PagerDuty deliveries must carry a valid signature. */
  pagerdutySecret?: string | undefined;
  /** Body limit, bytes; default {@link MAX_BODY_BYTES}. */
  limitBytes?: number;
}

/** The HTTP answer to send (status + JSON body), and for 202 the batch and its group id to enqueue. */
export type IntakeResult =
  | {
      status: 202;
      body: { accepted: true; groupId: string; status: AlertBatch['status']; alerts: number };
      batch: AlertBatch;
      groupId: string;
    }
  | { status: 200; body: { ignored: string } }
  | { status: 400; body: { error: string; issues: Issue[] } }
  | { status: 401; body: { error: string } }
  | { status: 413; body: { error: string; limitBytes: number } };

const FORMAT_NAME: Record<AlertSource, string> = {
  alertmanager: 'Alertmanager webhook',
  grafana: 'Grafana webhook',
  pagerduty: 'PagerDuty v3 webhook',
  generic: 'generic alert webhook',
};

/** The value of header `name` (lower case); Node's `req.headers` keys are lower case already. */
function header(headers: WebhookRequest['headers'], name: string): string | undefined {
  let v = headers[name];
  if (v === undefined) {
    for (const [k, value] of Object.entries(headers)) {
      if (k.toLowerCase() === name) {
        v = value;
        break;
      }
    }
  }
  // Node joins repeated headers with ", " for most names; arrays come from other frameworks.
  return Array.isArray(v) ? v.join(',') : v;
}

// fatal: a body that is not UTF-8 is rejected rather than silently "repaired" with U+FFFD. One
// decoder serves every request: `decode()` without `stream` keeps no state between calls.
const UTF8 = new TextDecoder('utf-8', { fatal: true });

/** The 413 answer, also for {@link readBody}'s {@link BodyTooLargeError}. */
export function payloadTooLarge(limitBytes: number = MAX_BODY_BYTES): IntakeResult {
  return { status: 413, body: { error: `body is larger than ${limitBytes} bytes`, limitBytes } };
}

function authenticate(
  source: AlertSource,
  req: WebhookRequest,
  opts: Pick<IntakeOptions, 'token' | 'pagerdutySecret'>,
): string | undefined {
  if (source === 'pagerduty' && opts.pagerdutySecret) {
    return verifyPagerDutySignature(
      req.rawBody,
      header(req.headers, 'x-pagerduty-signature'),
      opts.pagerdutySecret,
    )
      ? undefined
      : 'missing or invalid X-PagerDuty-Signature';
  }
  if (!opts.token) return 'alert webhooks are disabled: the server has no ALERT_WEBHOOK_TOKEN';
  return verifyBearerToken(header(req.headers, 'authorization'), opts.token)
    ? undefined
    : 'missing or invalid Authorization: Bearer token';
}

/**
 * The authentication problem of a delivery that can be judged from its headers alone (the bearer
 * token; everything but a signed PagerDuty delivery, whose signature covers the body), so the server
 * refuses it before reading the body; undefined when the headers are fine or the body is needed.
 */
export function headerAuthError(
  source: AlertSource,
  headers: WebhookRequest['headers'],
  opts: Pick<IntakeOptions, 'token' | 'pagerdutySecret'>,
): string | undefined {
  if (source === 'pagerduty' && opts.pagerdutySecret) return undefined;
  return authenticate(source, { headers, rawBody: EMPTY }, opts);
}
const EMPTY = Buffer.alloc(0);

function convert(
  source: AlertSource,
  json: unknown,
  opts: ToBatchOptions,
): AlertBatch | Ignored | z.ZodError {
  switch (source) {
    case 'alertmanager': {
      const r = alertmanager.AlertmanagerWebhook.safeParse(json);
      return r.success ? alertmanager.toAlertBatch(r.data, opts) : r.error;
    }
    case 'grafana': {
      const r = grafana.GrafanaWebhook.safeParse(json);
      return r.success ? grafana.toAlertBatch(r.data, opts) : r.error;
    }
    case 'pagerduty': {
      const r = pagerduty.PagerDutyWebhook.safeParse(json);
      return r.success ? pagerduty.toAlertBatch(r.data, opts) : r.error;
    }
    case 'generic': {
      const r = generic.GenericWebhook.safeParse(json);
      return r.success ? generic.toAlertBatch(r.data, opts) : r.error;
    }
  }
}

/**
 * Handles one alert webhook delivery, framework-free: 413 over the body limit, 401 without valid
 * auth (Bearer token; PagerDuty: its signature when a secret is set), 400 `{ error, issues }` for
 * bad UTF-8/JSON or a payload that does not match the source's format, 200 `{ ignored }` for a
 * valid delivery without alert state, else 202 with the normalized batch and its group id.
 */
export function handleAlertWebhook(
  source: AlertSource,
  req: WebhookRequest,
  opts: IntakeOptions,
): IntakeResult {
  const limit = opts.limitBytes ?? MAX_BODY_BYTES;
  if (req.rawBody.length > limit) return payloadTooLarge(limit);

  const authError = authenticate(source, req, opts);
  if (authError) return { status: 401, body: { error: authError } };

  let json: unknown;
  try {
    json = JSON.parse(UTF8.decode(req.rawBody));
  } catch (err) {
    const message = err instanceof SyntaxError ? err.message : 'body is not valid UTF-8';
    return { status: 400, body: { error: 'body is not valid JSON', issues: [{ path: '(root)', message }] } };
  }

  const result = convert(source, json, { now: opts.now, mapping: opts.mapping });
  if (result instanceof z.ZodError) {
    const issues = issuesOf(result);
    const first = issues[0];
    const detail = first ? `: ${first.path}: ${first.message}` : '';
    return { status: 400, body: { error: `not a valid ${FORMAT_NAME[source]}${detail}`, issues } };
  }
  if (isIgnored(result)) return { status: 200, body: { ignored: result.ignored } };
  const id = groupId(source, result.groupKey);
  return {
    status: 202,
    body: { accepted: true, groupId: id, status: result.status, alerts: result.alerts.length },
    batch: result,
    groupId: id,
  };
}

/** Rejection of {@link readBody} when the body exceeds its limit; answer 413 and close the connection. */
export class BodyTooLargeError extends Error {
  readonly code = 'BODY_TOO_LARGE';
  constructor(readonly limitBytes: number) {
    super(`request body is larger than ${limitBytes} bytes`);
    this.name = 'BodyTooLargeError';
  }
}

/**
 * Reads a request body into a Buffer, up to `limitBytes`. Rejects with BodyTooLargeError as soon
 * as `Content-Length` or the bytes received exceed it, and stops reading (the stream is paused):
 * the caller should answer 413 with `Connection: close`. Rejects if the client aborts.
 */
export function readBody(req: IncomingMessage, limitBytes: number = MAX_BODY_BYTES): Promise<Buffer> {
  return new Promise((resolve, reject) => {
    const declared = Number(req.headers['content-length']);
    if (Number.isFinite(declared) && declared > limitBytes) {
      req.pause();
      reject(new BodyTooLargeError(limitBytes));
      return;
    }
    const reading = req as Reading;
    reading[READING] = { chunks: [], size: 0, limitBytes, resolve, reject };
    req.on('data', onBodyData);
    req.on('end', onBodyEnd);
    req.on('error', onBodyError);
    req.on('close', onBodyClose);
  });
}

// readBody's listeners are module functions (`this` is the request) and its state lives on the
// request: no closures to create per request (under tsx, each named closure also costs an
// Object.defineProperty for its name).
const READING = Symbol('readBody');
interface BodyRead {
  chunks: Buffer[];
  size: number;
  limitBytes: number;
  resolve: (body: Buffer) => void;
  reject: (err: Error) => void;
}
type Reading = IncomingMessage & { [READING]?: BodyRead | undefined };

function stopReading(req: Reading): BodyRead {
  const read = req[READING]!;
  req[READING] = undefined;
  req.off('data', onBodyData);
  req.off('end', onBodyEnd);
  req.off('error', onBodyError);
  req.off('close', onBodyClose);
  return read;
}
function onBodyData(this: Reading, chunk: Buffer) {
  const read = this[READING]!;
  read.size += chunk.length;
  if (read.size > read.limitBytes) {
    stopReading(this);
    this.pause();
    read.reject(new BodyTooLargeError(read.limitBytes));
    return;
  }
  read.chunks.push(chunk);
}
function onBodyEnd(this: Reading) {
  const read = stopReading(this);
  read.resolve(Buffer.concat(read.chunks, read.size));
}
function onBodyError(this: Reading, err: Error) {
  stopReading(this).reject(err);
}
function onBodyClose(this: Reading) {
  stopReading(this).reject(new Error('request closed before its body was complete'));
}
