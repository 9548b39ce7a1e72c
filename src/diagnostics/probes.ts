import { connect } from 'node:net';
import pg from 'pg';

/** Outcome of one probe: `ok` with elapsed ms, or the error text. */
export type ProbeResult =
  | { ok: true; ms: number; detail?: string }
  | { ok: false; ms: number; error: string };

function message(err: unknown): string {
  if (err instanceof Error) {
    const code = (err as Error & { code?: string }).code;
    return code && !err.message.includes(code) ? `${code} ${err.message}` : err.message;
  }
  return String(err);
}

/** Opens a TCP connection to `host:port` and closes it; resolves with the connect time in ms, never rejects. */
export function probeTcp(host: string, port: number, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  return new Promise((resolve) => {
    const sock = connect({ host, port });
    const done = (r: ProbeResult) => {
      clearTimeout(timer);
      sock.destroy();
      resolve(r);
    };
    const timer = setTimeout(
      () => done({ ok: false, ms: performance.now() - start, error: `no connection within ${timeoutMs} ms` }),
      timeoutMs,
    );
    sock.once('connect', () => done({ ok: true, ms: performance.now() - start }));
    sock.once('error', (err) => done({ ok: false, ms: performance.now() - start, error: message(err) }));
  });
}

/** Connects to PostgreSQL at `url` and runs `select 1`; resolves with the total ms (connect + query), never rejects. */
export async function probePostgres(url: string, timeoutMs: number): Promise<ProbeResult> {
  const start = performance.now();
  const client = new pg.Client({
    connectionString: url,
    connectionTimeoutMillis: timeoutMs,
    query_timeout: timeoutMs,
  });
  // A failed connection emits 'error' later too; without a listener that would crash the process.
  client.on('error', () => {});
  try {
    await client.connect();
    const connected = performance.now() - start;
    await client.query('select 1');
    const ms = performance.now() - start;
    return {
      ok: true,
      ms,
      detail: `connect ${connected.toFixed(1)} ms, select 1 ${(ms - connected).toFixed(1)} ms`,
    };
  } catch (err) {
    return { ok: false, ms: performance.now() - start, error: message(err) };
  } finally {
    client.end().catch(() => {});
  }
}

/** GETs `url`; resolves with the status (ok when 2xx/3xx) and elapsed ms, never rejects. */
export async function probeHttp(url: string, timeoutMs: number): Promise<ProbeResult & { status?: number }> {
  const start = performance.now();
  try {
    const res = await fetch(url, { signal: AbortSignal.timeout(timeoutMs), redirect: 'manual' });
    await res.arrayBuffer();
    const ms = performance.now() - start;
    if (res.status >= 400) return { ok: false, ms, status: res.status, error: `HTTP ${res.status}` };
    return { ok: true, ms, status: res.status, detail: `HTTP ${res.status}` };
  } catch (err) {
    const cause = (err as { cause?: unknown }).cause;
    return { ok: false, ms: performance.now() - start, error: message(cause ?? err) };
  }
}

/** Splits `host:port` / `[v6]:port`; undefined when there is no numeric port. */
export function splitHostPort(addr: string): { host: string; port: number } | undefined {
  const m = /^\[?([^\]]+?)\]?:(\d+)$/.exec(addr.trim());
  if (!m) return undefined;
  return { host: m[1]!, port: Number(m[2]) };
}
