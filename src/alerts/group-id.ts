import { createHash } from 'node:crypto';
import type { AlertSource } from '../core/alert.js';

/**
 * A stable short id for an alert group, safe in Redis keys and BullMQ job ids:
 * `<source>-<first 16 hex of sha256(source NUL groupKey)>`, e.g. `alertmanager-3fa9c0d1e2b4a5c6`
 * (no `:`, never all digits; group keys themselves hold `:`, `{}` and quotes).
 */
export function groupId(source: AlertSource, groupKey: string): string {
  const hex = createHash('sha256').update(`${source}\0${groupKey}`, 'utf8').digest('hex');
  return `${source}-${hex.slice(0, 16)}`;
}
