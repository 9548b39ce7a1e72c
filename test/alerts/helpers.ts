import { readFileSync } from 'node:fs';
import { join } from 'node:path';
import { expect } from 'vitest';
import { handleAlertWebhook, type IntakeOptions, type IntakeResult } from '../../src/alerts/intake.js';
import type { AlertSource } from '../../src/core/alert.js';
import { AlertBatch, DEFAULT_SEVERITY_MAPPING } from '../../src/core/alert.js';

export const FIXTURES = join(import.meta.dirname, 'fixtures');
export const NOW = new Date('2024-05-01T10:01:00.000Z');
export const TOKEN = 'test-token-0123456789abcdef';
export const PD_SECRET = 'pd-subscription-secret';
export const OPTS: IntakeOptions = { now: NOW, mapping: DEFAULT_SEVERITY_MAPPING, token: TOKEN };

/** A fixture file's text. */
export function fixtureText(name: string): string {
  return readFileSync(join(FIXTURES, name), 'utf8');
}

/** A fixture file parsed as JSON (a fresh copy each call, so tests may mutate it). */
// biome-ignore lint/suspicious/noExplicitAny: fixtures are edited freely by tests
export function fixture(name: string): any {
  return JSON.parse(fixtureText(name));
}

/** Sends a body (object → JSON, or raw string/Buffer) with the test bearer token. */
export function deliver(
  source: AlertSource,
  body: unknown,
  opts: Partial<IntakeOptions> = {},
  headers: Record<string, string> = { authorization: `Bearer ${TOKEN}` },
): IntakeResult {
  const rawBody = Buffer.isBuffer(body)
    ? body
    : Buffer.from(typeof body === 'string' ? body : JSON.stringify(body), 'utf8');
  return handleAlertWebhook(source, { headers, rawBody }, { ...OPTS, ...opts });
}

/** Asserts a 202 and returns its batch, checked against the AlertBatch schema. */
export function accepted(result: IntakeResult): AlertBatch {
  if (result.status !== 202) expect.fail(`expected 202, got ${result.status} ${JSON.stringify(result.body)}`);
  return AlertBatch.parse(result.batch);
}
