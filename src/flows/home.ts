import { createHash } from 'node:crypto';
import { RetryLater } from '../core/errors.js';
import { homeView } from '../slack/home-render.js';
import { type Deps, slackOf } from './deps.js';
import { CLOSED_SHOWN, listIncidents } from './list-incidents.js';

/** Changes within one window refresh each viewer's Home tab once, at the window's end (ms). */
export const HOME_DEBOUNCE_MS = 5_000;
/** Viewers who opened the Home tab within this long (ms) get refreshes; others see it fresh on their next open. */
const VIEWER_DAYS_MS = 30 * 86_400_000;
/** How long the digest of the last published view is kept (s). */
const DIGEST_TTL_S = 30 * 24 * 3600;
const LOCK_MS = 15_000;

const bucketOf = (ms: number) => Math.floor(ms / HOME_DEBOUNCE_MS);

/**
 * `app_home_opened` (web process): remembers the viewer and queues their Home tab's publish. The job
 * id is per viewer and debounce window, so repeated opens within it publish once.
 */
export async function homeOpened(deps: Deps, userId: string): Promise<void> {
  const now = deps.now().getTime();
  await deps.store.addHomeViewer(userId, now);
  await deps.jobs.enqueue('refresh-home', { userId }, { jobId: `home-${userId}-${bucketOf(now)}` });
}

/**
 * An incident changed: queues one fan-out at the end of the current debounce window (its id is the
 * window, so every change within it shares the job).
 */
export async function requestHomeRefresh(deps: Deps): Promise<void> {
  const now = deps.now().getTime();
  const b = bucketOf(now);
  await deps.jobs.enqueue(
    'home-fanout',
    {},
    { jobId: `home-fanout-${b}`, delay: Math.max(0, (b + 1) * HOME_DEBOUNCE_MS - now) },
  );
}

/** The `home-fanout` job: queues one refresh per recent viewer (ids per viewer and window). Returns how many. */
export async function fanOutHome(deps: Deps): Promise<number> {
  const now = deps.now().getTime();
  const viewers = await deps.store.homeViewers(now - VIEWER_DAYS_MS);
  for (const userId of viewers)
    await deps.jobs.enqueue('refresh-home', { userId }, { jobId: `home-${userId}-${bucketOf(now)}` });
  return viewers.length;
}

/**
 * The `refresh-home` job: renders the viewer's Home tab (what `visibleTo` lets them see) and
 * publishes it with views.publish, under a per-viewer lock and only when it differs from the view
 * last published to them, so two workers refreshing one viewer at once publish once. A busy lock
 * puts the job back (RetryLater).
 */
export async function refreshHome(deps: Deps, userId: string): Promise<'published' | 'unchanged'> {
  const lock = { kind: 'home', userId } as const;
  const token = await deps.store.acquireLock(lock, LOCK_MS);
  if (!token) throw new RetryLater(`Home tab of ${userId} is being published`, 500);
  try {
    const view = homeView(await listIncidents(deps, userId, CLOSED_SHOWN));
    const digest = createHash('sha256').update(JSON.stringify(view)).digest('hex');
    if ((await deps.store.homeDigest(userId)) === digest) return 'unchanged';
    await slackOf(deps).publishHome(userId, view);
    await deps.store.setHomeDigest(userId, digest, DIGEST_TTL_S);
    return 'published';
  } finally {
    await deps.store.releaseLock(lock, token);
  }
}
