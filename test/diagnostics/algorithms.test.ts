import { describe, expect, it } from 'vitest';
import {
  checkTrafficDistribution,
  keyCookieName,
  type ObservedCount,
  promisesWeights,
} from '../../src/diagnostics/checks/traffic-distribution.js';
import type { Pool, PoolServer } from '../../src/diagnostics/model.js';
import { parseHaproxyConfig } from '../../src/diagnostics/sources/haproxy-config.js';

const server = (name: string, over: Partial<PoolServer> = {}): PoolServer => ({
  name,
  status: 'UP',
  usable: true,
  weight: 1,
  backup: false,
  ...over,
});
const pool = (algo: string, servers: PoolServer[], over: Partial<Pool> = {}): Pool => ({
  name: 'app',
  algo,
  servers,
  ...over,
});
const counts = (c: Record<string, number>, backend = 'app'): ObservedCount[] =>
  Object.entries(c).map(([server, requests]) => ({ backend, server, requests }));

describe('traffic-distribution knows the balancing algorithm', () => {
  it('says which algorithms promise shares by weight', () => {
    expect(promisesWeights({ algo: 'roundrobin' })).toBe(true);
    expect(promisesWeights({ algo: 'static-rr' })).toBe(true);
    expect(promisesWeights({ algo: 'round-robin' })).toBe(true);
    for (const algo of [
      'leastconn',
      'least_conn',
      'source',
      'uri',
      'hdr(host)',
      'url_param id',
      'random',
      'hash $request_uri consistent',
      'ip_hash',
      'first',
    ])
      expect(promisesWeights({ algo })).toBe(false);
    expect(promisesWeights({ algo: 'roundrobin', persistence: 'cookie SRV insert indirect nocache' })).toBe(
      false,
    );
  });

  it('passes leastconn sending less to a slower server, with a note, where roundrobin would fail', () => {
    const observed = counts({ web1: 450, web2: 450, web3: 100 });
    const servers = ['web1', 'web2', 'web3'].map((n) => server(n));
    const lc = checkTrafficDistribution({
      target: 'lb',
      pools: [pool('leastconn', servers)],
      observed,
      source: 'test',
      distinctClients: 400,
    });
    expect(lc.verdict).toBe('pass');
    expect(lc.notes.join('\n')).toContain('uneven by design');
    expect(lc.notes.join('\n')).toContain('leastconn sends less to a server that is slower');
    expect(lc.evidence.join('\n')).toContain('observed shares web1 45%, web2 45%, web3 10%');
    const rr = checkTrafficDistribution({
      target: 'lb',
      pools: [pool('roundrobin', servers)],
      observed,
      source: 'test',
    });
    expect(rr.verdict).toBe('fail');
  });

  it('fails balance source when one client address sends nearly everything to one server, naming the reason', () => {
    const r = checkTrafficDistribution({
      target: 'lb',
      pools: [
        pool(
          'source',
          ['web1', 'web2', 'web3'].map((n) => server(n)),
        ),
      ],
      observed: counts({ web1: 0, web2: 300, web3: 0 }),
      source: 'test',
      distinctClients: 1,
      topClients: [{ client: '10.0.0.5', requests: 300 }],
    });
    expect(r.verdict).toBe('fail');
    expect(r.summary).toBe(
      'app/web2 takes 100% of requests: "balance source" sends each client address to one server, and 10.0.0.5 sent 100% of the requests (a proxy or NAT in front?)',
    );
  });

  it('warns about a concentration under balance source when there is no log to say which clients sent it', () => {
    const r = checkTrafficDistribution({
      target: 'lb',
      pools: [
        pool(
          'source',
          ['web1', 'web2', 'web3'].map((n) => server(n)),
        ),
      ],
      observed: counts({ web1: 0, web2: 300, web3: 0 }),
      source: 'stot deltas between two stats samples 5.00 s apart',
    });
    expect(r.verdict).toBe('warn');
    expect(r.summary).toContain('add the access log to see whether a few client addresses explain it');
  });

  it('knows which persistence and hashing key on a client cookie, and that an inserted server cookie does not', () => {
    expect(keyCookieName({ algo: 'roundrobin', persistence: 'stick on req.cook(session)' })).toBe('session');
    expect(keyCookieName({ algo: 'roundrobin', persistence: 'stick match cook(JSESSIONID)' })).toBe(
      'JSESSIONID',
    );
    expect(keyCookieName({ algo: 'roundrobin', persistence: 'cookie JSESSIONID prefix nocache' })).toBe(
      'JSESSIONID',
    );
    expect(keyCookieName({ algo: 'hash $cookie_session consistent' })).toBe('session');
    expect(
      keyCookieName({ algo: 'roundrobin', persistence: 'cookie SRV insert indirect nocache' }),
    ).toBeUndefined();
    expect(keyCookieName({ algo: 'hash $request_uri consistent' })).toBeUndefined();
    expect(keyCookieName({ algo: 'source' })).toBeUndefined();
  });

  describe('a concentration under cookie keying, judged by the session cookies in the log', () => {
    const stick = () =>
      pool(
        'roundrobin',
        ['web1', 'web2', 'web3'].map((n) => server(n)),
        { persistence: 'stick on req.cook(session)' },
      );
    const base = {
      target: 'lb',
      observed: counts({ web1: 20, web2: 260, web3: 20 }),
      source: 'the access log',
      // many client addresses: the addresses do not explain it
      distinctClients: 40,
      topClients: [{ client: '10.0.0.5', requests: 12 }],
    };

    it('fails when one cookie sent most of the requests to the busy server, naming it', () => {
      const r = checkTrafficDistribution({
        ...base,
        pools: [stick()],
        topCookies: [
          { cookie: 'session=loadtest-1', requests: 240, backend: 'app', server: 'web2', onServer: 240 },
          { cookie: 'session=u-1', requests: 3, backend: 'app', server: 'web1', onServer: 3 },
        ],
        distinctCookies: 30,
      });
      expect(r.verdict).toBe('fail');
      expect(r.summary).toBe(
        'app/web2 takes 87% of requests: "stick on req.cook(session)" keeps each session on one server, and one cookie (session=loadtest-1) sent 80% of them (a load test, a bot or a shared session?)',
      );
      expect(r.evidence.join('\n')).toContain('session=loadtest-1 sent 240 of 300 requests, all to web2');
    });

    it('passes when many sessions share the busy server and none sent half of the requests', () => {
      const r = checkTrafficDistribution({
        ...base,
        pools: [stick()],
        topCookies: [{ cookie: 'session=u-7', requests: 40, backend: 'app', server: 'web2', onServer: 40 }],
        distinctCookies: 60,
      });
      expect(r.verdict).toBe('pass');
      expect(r.evidence.join('\n')).toContain('60 distinct session cookies in the window');
      expect(r.notes.join('\n')).toContain('the key diversity does not explain it');
    });

    it('does not count a cookie of another name, and warns that the key cookie is not logged', () => {
      const r = checkTrafficDistribution({
        ...base,
        pools: [stick()],
        topCookies: [{ cookie: 'SRV=web2', requests: 260, backend: 'app', server: 'web2', onServer: 260 }],
        distinctCookies: 1,
      });
      expect(r.verdict).toBe('warn');
      expect(r.summary).toContain(
        'keys on the cookie "session": log it (HAProxy `capture cookie session= len 64`',
      );
    });

    it('ignores an inserted server cookie: its value names the server, not a client', () => {
      const r = checkTrafficDistribution({
        ...base,
        pools: [{ ...stick(), persistence: 'cookie SRV insert indirect nocache' }],
        topCookies: [{ cookie: 'SRV=web2', requests: 260, backend: 'app', server: 'web2', onServer: 260 }],
        distinctCookies: 1,
      });
      expect(r.verdict).toBe('pass');
    });

    it('says it cannot count past the cap, and judges by the addresses', () => {
      const r = checkTrafficDistribution({
        ...base,
        pools: [stick()],
        topCookies: [],
        distinctCookies: 100_000,
        cookiesCapped: true,
      });
      expect(r.verdict).toBe('pass');
      expect(r.notes.join('\n')).toContain('more than 100000 distinct session cookies');
    });

    it('fails nginx hash $cookie_session the same way', () => {
      const r = checkTrafficDistribution({
        ...base,
        pools: [
          pool(
            'hash $cookie_session consistent',
            ['web1', 'web2', 'web3'].map((n) => server(n)),
          ),
        ],
        topCookies: [{ cookie: 'session=bot', requests: 250, backend: 'app', server: 'web2', onServer: 250 }],
        distinctCookies: 5,
      });
      expect(r.verdict).toBe('fail');
      expect(r.summary).toContain('"hash $cookie_session consistent" keeps each session on one server');
    });
  });

  it('passes balance uri concentrating on a few hot paths when many clients send them', () => {
    const r = checkTrafficDistribution({
      target: 'lb',
      pools: [
        pool(
          'uri',
          ['web1', 'web2', 'web3'].map((n) => server(n)),
        ),
      ],
      observed: counts({ web1: 800, web2: 150, web3: 50 }),
      source: 'test',
      distinctClients: 500,
      topClients: [{ client: '10.0.0.5', requests: 20 }],
    });
    expect(r.verdict).toBe('pass');
    expect(r.notes.join('\n')).toContain(
      'app/web1 takes 80% of requests ("uri" promises no shares by weight)',
    );
  });

  it('leaves backups, weight 0, DRAIN and servers in slowstart out of the expected shares', () => {
    const servers = [
      server('web1'),
      server('web2'),
      server('web3', { status: 'DRAIN', usable: false, weight: 0 }),
      server('web4', { weight: 0, usable: false }),
      server('web5', { lastChangeSec: 3, slowstartMs: 10_000 }),
      server('spare', { backup: true }),
    ];
    const r = checkTrafficDistribution({
      target: 'lb',
      pools: [pool('roundrobin', servers)],
      observed: counts({ web1: 480, web2: 470, web3: 12, web5: 40 }),
      source: 'test',
    });
    expect(r.verdict).toBe('pass');
    expect(r.servers.find((s) => s.server === 'web1')?.expectedShare).toBe(0.5);
    expect(r.notes.join('\n')).toContain('app/web5 is in slowstart (up 3 s of 10 s)');
    expect(r.notes.join('\n')).toContain('a drained server takes no new load-balanced requests');
  });

  it('reads slowstart and cookie persistence from a HAProxy config', () => {
    const cfg = parseHaproxyConfig(
      'backend app\n  balance roundrobin\n  cookie SRV insert indirect nocache\n  server web1 10.0.1.11:80 check slowstart 10s\n',
    );
    expect(cfg.proxies[0]?.persistence).toBe('cookie SRV insert indirect nocache');
    expect(cfg.proxies[0]?.servers[0]?.slowstartMs).toBe(10_000);
  });
});

describe('traffic-distribution from an access log alone', () => {
  it('passes an even spread over the upstreams the log saw, with their shares', () => {
    const r = checkTrafficDistribution({
      target: 'lb',
      pools: [],
      weightsKnown: false,
      observed: counts({ '10.0.1.11:80': 330, '10.0.1.12:80': 340, '10.0.1.13:80': 330 }, ''),
      source: 'test',
    });
    expect(r.verdict).toBe('pass');
    expect(r.evidence.join('\n')).toContain('upstream: weights unknown; observed shares 10.0.1.11:80 33%');
  });

  it('warns when one upstream takes far more than an even split, saying the weights are unknown', () => {
    const r = checkTrafficDistribution({
      target: 'lb',
      pools: [],
      weightsKnown: false,
      observed: counts({ '10.0.1.11:80': 900, '10.0.1.12:80': 50, '10.0.1.13:80': 50 }, ''),
      source: 'test',
    });
    expect(r.verdict).toBe('warn');
    expect(r.summary).toBe(
      'upstream/10.0.1.11:80 takes 90% of requests, 2.7x an even split (weights unknown: add `config` to compare with them)',
    );
  });
});
