import { cpSync, existsSync, readdirSync, readFileSync, utimesSync, writeFileSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';

const MONTHS = ['Jan', 'Feb', 'Mar', 'Apr', 'May', 'Jun', 'Jul', 'Aug', 'Sep', 'Oct', 'Nov', 'Dec'];
const ACCEPT_DATE = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2})\.(\d{3})\]/;

function parseAcceptDate(m: RegExpExecArray): number {
  return Date.UTC(
    Number(m[3]),
    MONTHS.indexOf(m[2]!),
    Number(m[1]),
    Number(m[4]),
    Number(m[5]),
    Number(m[6]),
    Number(m[7]),
  );
}

function formatAcceptDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number, w = 2) => String(n).padStart(w, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())}.${p(d.getUTCMilliseconds(), 3)}]`;
}

/** A recording copied into `dir` and moved in time so its traffic ends at `endAt`; backends listening again. */
export interface Replay {
  kind: 'haproxy' | 'nginx';
  dir: string;
  targets: string;
  close(): Promise<void>;
}

function listen(): Promise<Server> {
  return new Promise((resolve, reject) => {
    // A backend that accepts connections and answers like the lab's did; only TCP connect is probed.
    const s = createServer((sock) => {
      // Probes connect and hang up at once; a reset is expected, not an error.
      sock.on('error', () => {});
      sock.end('HTTP/1.1 200 OK\r\ncontent-length: 2\r\nconnection: close\r\n\r\nok');
    });
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => resolve(s));
  });
}

/**
 * Copies a recording made by `test/fixtures/diagnostics/record.ts` into `dir` and makes it
 * replayable: HAProxy log accept-dates moved so the last request is at `endAt` (spread over `spanMs`), the config's
 * modification time set to just before the first request (when the lab loaded it), and the recorded backend servers listening again on fresh loopback ports (the config is
 * rewritten to point at them), so TCP checks see the servers as they were while recording.
 */
export async function replayRecording(
  recording: string,
  dir: string,
  endAt: Date,
  spanMs = 0,
): Promise<Replay> {
  cpSync(recording, dir, { recursive: true });
  if (existsSync(join(dir, 'access.log'))) return replayNginx(dir, endAt, spanMs);
  const log = join(dir, 'haproxy.log');
  const lines = readFileSync(log, 'utf8').split('\n');
  let last = 0;
  let first = Number.POSITIVE_INFINITY;
  for (const line of lines) {
    const m = ACCEPT_DATE.exec(line);
    if (m) {
      last = Math.max(last, parseAcceptDate(m));
      first = Math.min(first, parseAcceptDate(m));
    }
  }
  // Lab recordings are a few hundred requests in about a second; `spanMs` spreads them evenly
  // (order kept) over the minutes before `endAt`, as the same traffic would arrive in production.
  const stretch = last > first && spanMs > 0 ? spanMs / (last - first) : 1;
  const replayed = (t: number) => Math.round(endAt.getTime() - (last - t) * stretch);
  writeFileSync(
    log,
    lines
      .map((line) =>
        line.replace(ACCEPT_DATE, (_all, ...g) =>
          formatAcceptDate(replayed(parseAcceptDate([_all, ...g] as unknown as RegExpExecArray))),
        ),
      )
      .join('\n'),
  );

  const servers: Server[] = [];
  const cfgPath = join(dir, 'haproxy.cfg');
  const ports = new Map<string, number>();
  let cfg = readFileSync(cfgPath, 'utf8');
  for (const m of cfg.matchAll(/^\s*server\s+\S+\s+127\.0\.0\.1:(\d+)/gm)) {
    if (m[1] && !ports.has(m[1])) {
      const s = await listen();
      servers.push(s);
      ports.set(m[1], (s.address() as { port: number }).port);
    }
  }
  cfg = cfg.replace(
    /^(\s*server\s+\S+\s+127\.0\.0\.1:)(\d+)/gm,
    (_all, head: string, port: string) => `${head}${ports.get(port) ?? port}`,
  );
  writeFileSync(cfgPath, cfg);
  // The lab wrote the config and started HAProxy just before the recorded traffic (git does not
  // keep file times, so the log's first request stands for the moment of the change).
  const mtime = new Date(replayed(first) - 1000);
  utimesSync(cfgPath, mtime, mtime);
  for (const f of readdirSync(dir)) {
    if (f.startsWith('stats')) utimesSync(join(dir, f), endAt, endAt);
  }
  return {
    kind: 'haproxy',
    dir,
    targets: join(dir, 'targets.yml'),
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(null)))));
    },
  };
}

const CLF_DATE = /\[(\d{2})\/([A-Z][a-z]{2})\/(\d{4}):(\d{2}):(\d{2}):(\d{2}) ([+-]\d{4})\]/;

function formatClfDate(ms: number): string {
  const d = new Date(ms);
  const p = (n: number) => String(n).padStart(2, '0');
  return `[${p(d.getUTCDate())}/${MONTHS[d.getUTCMonth()]}/${d.getUTCFullYear()}:${p(d.getUTCHours())}:${p(d.getUTCMinutes())}:${p(d.getUTCSeconds())} +0000]`;
}

/**
 * The nginx side of {@link replayRecording}: `$time_local` has whole seconds, so the recorded lines
 * (a second or two of traffic) are spread evenly, in order, over `spanMs` ending at `endAt`; the
 * upstream servers listen again on fresh loopback ports, rewritten in nginx.conf and in the log's
 * `$upstream_addr` alike (the checks map addresses to upstream groups through the config).
 * Log format: https://nginx.org/en/docs/http/ngx_http_log_module.html#log_format
 */
async function replayNginx(dir: string, endAt: Date, spanMs: number): Promise<Replay> {
  const cfgPath = join(dir, 'nginx.conf');
  const logPath = join(dir, 'access.log');
  let cfg = readFileSync(cfgPath, 'utf8');
  const servers: Server[] = [];
  const ports = new Map<string, number>();
  for (const m of cfg.matchAll(/^\s*server\s+127\.0\.0\.1:(\d+)/gm)) {
    if (m[1] && !ports.has(m[1])) {
      const s = await listen();
      servers.push(s);
      ports.set(m[1], (s.address() as { port: number }).port);
    }
  }
  const remap = (text: string) =>
    text.replace(/127\.0\.0\.1:(\d+)/g, (all, port: string) =>
      ports.has(port) ? `127.0.0.1:${ports.get(port)}` : all,
    );
  cfg = cfg.replace(
    /^(\s*server\s+)(127\.0\.0\.1:\d+)/gm,
    (_all, head: string, addr: string) => `${head}${remap(addr)}`,
  );
  writeFileSync(cfgPath, cfg);
  const lines = readFileSync(logPath, 'utf8').split('\n');
  const dated = lines.filter((l) => CLF_DATE.test(l)).length;
  let i = 0;
  const end = endAt.getTime();
  const out = lines.map((line) => {
    if (!CLF_DATE.test(line)) return line;
    const at = dated > 1 ? end - Math.round((spanMs * (dated - 1 - i)) / (dated - 1)) : end;
    i += 1;
    return remap(line.replace(CLF_DATE, formatClfDate(at)));
  });
  writeFileSync(logPath, out.join('\n'));
  const mtime = new Date(end - spanMs - 1000);
  utimesSync(cfgPath, mtime, mtime);
  return {
    kind: 'nginx',
    dir,
    targets: join(dir, 'targets.yml'),
    close: async () => {
      await Promise.all(servers.map((s) => new Promise((r) => s.close(() => r(null)))));
    },
  };
}
