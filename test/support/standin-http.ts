import { createServer, type IncomingMessage, type Server, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';

/** A fault the next matching requests get instead of the stand-in's normal answer. */
export interface Fault {
  status?: number;
  headers?: Record<string, string>;
  body?: unknown;
  /** How many requests get it (default 1). */
  count?: number;
  /** Do the work (create the issue, record the event), then never answer: the client times out. */
  swallow?: boolean;
  /** Only requests whose `METHOD path` matches. */
  match?: RegExp;
}

/** One request the stand-in saw, with what it answered (`status` 0: swallowed). */
export interface SeenRequest {
  method: string;
  path: string;
  headers: IncomingMessage['headers'];
  body: unknown;
  status: number;
}

/** What a route handler returns. */
export interface Answer {
  status: number;
  body?: unknown;
  headers?: Record<string, string>;
}

/**
 * Base of the loopback vendor stand-ins: JSON in and out, a log of requests with their answers,
 * injectable faults (`failNext`) and `waitFor` on the log, so tests wait on requests, not sleeps.
 */
export abstract class StandIn {
  readonly seen: SeenRequest[] = [];
  private server?: Server;
  private faults: Fault[] = [];
  private waiters: { pred: (r: SeenRequest) => boolean; resolve: (r: SeenRequest) => void }[] = [];
  private readonly hanging = new Set<ServerResponse>();
  url = '';

  /** Answers one request (the body already parsed as JSON, or `undefined` when empty or not JSON). */
  protected abstract route(
    method: string,
    path: string,
    query: URLSearchParams,
    req: IncomingMessage,
    body: unknown,
  ): Answer;

  /** Starts listening on 127.0.0.1 at a free port. */
  async start(): Promise<this> {
    this.server = createServer((req, res) => {
      void this.handle(req, res);
    });
    await new Promise<void>((r) => this.server!.listen(0, '127.0.0.1', r));
    this.url = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
    return this;
  }

  /** The next `count` requests (matching `match`) get this fault. */
  failNext(f: Fault): void {
    this.faults.push({ count: 1, ...f });
  }

  /** Resolves with the first logged request (past or future) matching `pred`. */
  waitFor(pred: (r: SeenRequest) => boolean): Promise<SeenRequest> {
    const hit = this.seen.find(pred);
    if (hit) return Promise.resolve(hit);
    return new Promise((resolve) => this.waiters.push({ pred, resolve }));
  }

  async close(): Promise<void> {
    for (const res of this.hanging) res.destroy();
    await new Promise<void>((r) => (this.server ? this.server.close(() => r()) : r()));
  }

  private log(r: SeenRequest): void {
    this.seen.push(r);
    this.waiters = this.waiters.filter((w) => {
      if (!w.pred(r)) return true;
      w.resolve(r);
      return false;
    });
  }

  private async handle(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const chunks: Buffer[] = [];
    for await (const c of req) chunks.push(c as Buffer);
    const raw = Buffer.concat(chunks).toString('utf8');
    let body: unknown;
    try {
      body = raw ? JSON.parse(raw) : undefined;
    } catch {
      body = { __unparsable: raw };
    }
    const u = new URL(req.url ?? '/', 'http://x');
    const method = req.method ?? 'GET';
    const key = `${method} ${u.pathname}`;
    const fault = this.faults.find((f) => !f.match || f.match.test(key));
    if (fault) {
      fault.count = (fault.count ?? 1) - 1;
      if (fault.count <= 0) this.faults.splice(this.faults.indexOf(fault), 1);
    }
    let answer: Answer;
    if (fault && !fault.swallow) {
      answer = {
        status: fault.status ?? 500,
        body: fault.body ?? { message: 'Server Error' },
        headers: fault.headers,
      };
    } else {
      answer = this.route(method, u.pathname, u.searchParams, req, body);
    }
    if (fault?.swallow) {
      // The work is done; the answer never comes (a client timeout after which the issue exists).
      this.hanging.add(res);
      res.on('close', () => this.hanging.delete(res));
      this.log({ method, path: u.pathname + u.search, headers: req.headers, body, status: 0 });
      return;
    }
    this.log({ method, path: u.pathname + u.search, headers: req.headers, body, status: answer.status });
    res.writeHead(answer.status, { 'content-type': 'application/json; charset=utf-8', ...answer.headers });
    res.end(answer.body === undefined ? '' : JSON.stringify(answer.body));
  }
}
