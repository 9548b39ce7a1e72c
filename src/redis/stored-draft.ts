import { z } from 'zod';
import type { PostmortemView } from '../core/postmortem/index.js';
import type { StoredPostmortemDraft } from '../flows/deps.js';

// The view is plain JSON built by core; its own shape is pinned by the postmortem tests, so a read
// checks the envelope and that the view is the incident's.
const Stored = z.object({
  fileName: z.string().regex(/^INC-\d+-[a-z0-9-]+\.md$/),
  markdown: z.string(),
  view: z.looseObject({ incidentId: z.string(), title: z.string() }),
  people: z.record(z.string(), z.string()),
  renderedAt: z.iso.datetime({ offset: true }),
  sha256: z.string().regex(/^[0-9a-f]{64}$/),
});

/** Parses a stored postmortem draft (JSON) of incident `id`; throws naming the incident when it is malformed. */
export function parseStoredDraft(raw: string, id: string): StoredPostmortemDraft {
  const parsed = Stored.safeParse(JSON.parse(raw));
  if (!parsed.success || parsed.data.view.incidentId !== id) {
    throw new Error(
      `${id}: the stored postmortem draft is malformed (${parsed.success ? 'another incident’s view' : parsed.error.message}); run /incident postmortem to render it again`,
    );
  }
  return { ...parsed.data, view: parsed.data.view as unknown as PostmortemView };
}
