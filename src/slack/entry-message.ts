import type { TimelineEntry } from '../core/timeline.js';
import type { SlackMessage } from '../flows/deps.js';
import { alertEntryMessage } from './alert-render.js';
import { confirmationFor } from './render.js';

/** The channel message for a timeline entry: its confirmation or its alert post; null for entries with their own message (summary, checklist, postmortem file). */
export function entryMessage(e: TimelineEntry): SlackMessage | null {
  return confirmationFor(e) ?? alertEntryMessage(e);
}
