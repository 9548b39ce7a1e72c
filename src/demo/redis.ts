import { type ChildProcess, spawn, spawnSync } from 'node:child_process';
import { createServer } from 'node:net';
import { Redis } from 'ioredis';

/** A Redis for the demo: the one at REDIS_URL or 127.0.0.1:6379, else a throwaway `redis-server`; `stop()` ends what was started. */
export interface DemoRedis {
  url: string;
  started: boolean;
  stop(): Promise<void>;
}

async function answers(url: string): Promise<boolean> {
  const r = new Redis(url, {
    lazyConnect: true,
    connectTimeout: 800,
    maxRetriesPerRequest: 0,
    retryStrategy: () => null,
  });
  r.on('error', () => {});
  try {
    await r.connect();
    await r.ping();
    return true;
  } catch {
    return false;
  } finally {
    r.disconnect();
  }
}

function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const port = (s.address() as { port: number }).port;
      s.close(() => resolve(port));
    });
  });
}

/**
 * Finds or starts a Redis: REDIS_URL when set (it must answer), else 127.0.0.1:6379, else a
 * throwaway `redis-server` on a free loopback port with persistence off. Throws with install
 * instructions when none can be had.
 */
export async function demoRedis(env: NodeJS.ProcessEnv = process.env): Promise<DemoRedis> {
  if (env.REDIS_URL) {
    if (!(await answers(env.REDIS_URL)))
      throw new Error(
        `REDIS_URL=${env.REDIS_URL} does not answer PING; start that Redis or unset REDIS_URL.`,
      );
    return { url: env.REDIS_URL, started: false, stop: async () => {} };
  }
  const local = 'redis://127.0.0.1:6379';
  if (await answers(local)) return { url: local, started: false, stop: async () => {} };
  if (spawnSync('redis-server', ['--version']).status !== 0) {
    throw new Error(
      'The demo needs Redis and none is running on 127.0.0.1:6379. Install it (Debian/Ubuntu: `sudo apt-get install redis-server`, macOS: `brew install redis`) or set REDIS_URL.',
    );
  }
  const port = await freePort();
  const child: ChildProcess = spawn(
    'redis-server',
    ['--port', String(port), '--bind', '127.0.0.1', '--save', '', '--appendonly', 'no'],
    {
      stdio: 'ignore',
    },
  );
  const url = `redis://127.0.0.1:${port}`;
  for (let i = 0; i < 100 && !(await answers(url)); i++) await new Promise((r) => setTimeout(r, 50));
  if (!(await answers(url))) {
    child.kill('SIGKILL');
    throw new Error('Started redis-server but it did not answer within 5 s.');
  }
  return {
    url,
    started: true,
    stop: () =>
      new Promise<void>((resolve) => {
        child.once('exit', () => resolve());
        child.kill('SIGTERM');
      }),
  };
}
