/**
 * The five postmortems incident-bot was built from (`src/demo/seeds/*.txt`, copied from the
 * project's seeds), as stories the demo replays through the real bot on a virtual clock: when the
 * alerts fired, what the team did and said at the times the postmortem gives, which load-balancer
 * fault the checks look at (a recording of a real HAProxy or nginx made by
 * test/fixtures/diagnostics/record.ts) and the recording after the fix.
 */

/** One thing that happens at a time of the story. */
export type SeedStep =
  /** A `/incident …` command typed by `who` (without `/incident`); `<@name>` mentions a demo person. */
  | { at: string; who: Person; say: string }
  /** The load-balancer fix: the next recording (even spread) replaces the faulty one and the team re-runs the check. */
  | { at: string; who: Person; fix: string }
  /** Alertmanager sends the group as resolved. */
  | { at: string; resolveAlerts: true };

/** The demo's people: alice the on-call SRE, bob backend/database, carol infrastructure, dave network, erin engineering manager. */
export type Person = 'alice' | 'bob' | 'carol' | 'dave' | 'erin';

/** A misleading path the seed's team took: the hypothesis' category and how long the team spent on it. */
export interface MisleadingPath {
  category: 'database' | 'traffic-surge' | 'network';
  /** As the draft prints it, e.g. `2 h 15 min`. */
  timeSpent: string;
}

/** One seed postmortem as a replayable story. */
export interface SeedStory {
  id: '000' | '001' | '002' | '003' | '004';
  /** The postmortem file under src/demo/seeds/. */
  file: string;
  title: string;
  service: string;
  /** When the alerts started (Alertmanager `startsAt`): the start of the impact. */
  startsAt: string;
  /** When Alertmanager's notification reached the bot (detection). */
  notifiedAt: string;
  /** Recording of the faulty load balancer, and the one after the fix. */
  fault:
    | 'haproxy-skewed-weights'
    | 'haproxy-empty-pool-route'
    | 'haproxy-pinned'
    | 'nginx-skewed-weights'
    | 'nginx-pinned';
  /** Same kind (HAProxy or nginx) as the fault. */
  fixed: 'haproxy-healthy-even' | 'nginx-healthy-even';
  /** What the fault is, in the seed's words. */
  faultText: string;
  steps: SeedStep[];
  /** When the seed's team found the load balancer was the cause, and how the seed says it. */
  teamFoundAt: string;
  teamFoundNote: string;
  misleading: MisleadingPath[];
  /** The draft's whole duration (first alert to resolved), as it prints it. */
  duration: string;
  /** The seed's impact figure, which must reach the draft. */
  impactFigure: string;
}

const followups = (who: Person, tasks: string[]): SeedStep[] =>
  tasks.map((t, i) => ({
    at: '',
    who: i % 2 === 0 ? who : 'alice',
    say: `followup ${t} <@${i % 2 === 0 ? who : 'alice'}>`,
  }));

/** Sets `at` of the follow-up steps (added just before close) to `at`. */
function at(time: string, steps: SeedStep[]): SeedStep[] {
  return steps.map((s) => ({ ...s, at: time }));
}

export const SEEDS: readonly SeedStory[] = [
  {
    id: '000',
    file: '000_3d7ed0d341a01fa1.txt',
    title: 'Web stack outage: routing rules from a deployment send users to an unhealthy pool',
    service: 'web',
    startsAt: '2024-02-27T10:00:00Z',
    notifiedAt: '2024-02-27T10:00:30Z',
    fault: 'haproxy-empty-pool-route',
    fixed: 'haproxy-healthy-even',
    faultText:
      'a recent deployment introduced incorrect routing rules sending requests to an unhealthy backend pool',
    steps: [
      { at: '2024-02-27T10:06:00Z', who: 'alice', say: 'lead <@alice>' },
      {
        at: '2024-02-27T10:15:00Z',
        who: 'bob',
        say: 'suspect the database: connectivity or performance of the database layer',
      },
      { at: '2024-02-27T10:45:00Z', who: 'bob', say: 'note Optimizing the slowest queries on the primary' },
      {
        at: '2024-02-27T11:40:00Z',
        who: 'bob',
        say: 'note Scaling the database servers: two more read replicas',
      },
      {
        at: '2024-02-27T13:10:00Z',
        who: 'bob',
        say: 'note Query optimizations and the database scale-up changed nothing',
      },
      {
        at: '2024-02-27T14:00:00Z',
        who: 'alice',
        say: 'note Escalated to the infrastructure team (carol)',
      },
      {
        at: '2024-02-27T14:00:30Z',
        who: 'bob',
        say: 'rule-out H1 hours of query optimization and database scaling did not help; database metrics normal',
      },
      {
        at: '2024-02-27T14:20:00Z',
        who: 'carol',
        say: 'suspect load-balancer: the routing rules of this morning’s deployment send requests to an unhealthy pool',
      },
      {
        at: '2024-02-27T14:40:00Z',
        who: 'carol',
        say: 'confirm H2 haproxy.cfg from the 09:55 deployment routes requests to backend app, whose servers are unhealthy',
      },
      { at: '2024-02-27T14:45:00Z', who: 'alice', say: 'status identified' },
      {
        at: '2024-02-27T15:30:00Z',
        who: 'carol',
        fix: 'Routing rules corrected and the app pool restored; rolling the fix out incrementally',
      },
      { at: '2024-02-27T15:40:00Z', who: 'alice', say: 'status monitoring' },
      {
        at: '2024-02-27T16:00:00Z',
        who: 'alice',
        say: 'impact Intermittent downtime and slow responses; some features unreachable; approximately 30% of users affected',
      },
      {
        at: '2024-02-27T22:00:00Z',
        who: 'carol',
        say: 'note Fix rolled out to half of the fleet; error rate falling',
      },
      {
        at: '2024-02-28T08:00:00Z',
        who: 'carol',
        say: 'note Fix on every server; watching the remaining latency',
      },
      { at: '2024-02-28T14:00:00Z', resolveAlerts: true },
      { at: '2024-02-28T14:00:10Z', who: 'alice', say: 'status resolved' },
      ...at(
        '2024-02-28T14:10:00Z',
        followups('carol', [
          'Review the deployment process: stricter checks for load balancer configuration changes',
          'Add monitoring checks for load balancer health and configuration consistency',
          'Write and test a rollback plan for load balancer configuration changes',
          'Post-incident review with the engineering and infrastructure teams',
        ]),
      ),
      {
        at: '2024-02-28T14:15:00Z',
        who: 'alice',
        say: 'close Routing rules corrected and the backend pool restored; fix deployed incrementally',
      },
    ],
    teamFoundAt: '2024-02-27T14:00:00Z',
    teamFoundNote:
      'after the escalation to the infrastructure team at 14:00 (the postmortem gives no exact time)',
    misleading: [{ category: 'database', timeSpent: '3 h 45 min' }],
    duration: '1 d 4 h',
    impactFigure: '30% of users',
  },
  {
    id: '001',
    file: '001_d01cdc62747c0a92.txt',
    title: 'Web stack outage: the load balancer distributes traffic unevenly',
    service: 'web',
    startsAt: '2023-11-10T13:45:00Z',
    notifiedAt: '2023-11-10T13:50:00Z',
    fault: 'haproxy-skewed-weights',
    fixed: 'haproxy-healthy-even',
    faultText: 'the load balancer was misconfigured to distribute traffic unevenly',
    steps: [
      { at: '2023-11-10T14:00:00Z', who: 'alice', say: 'lead <@alice>' },
      { at: '2023-11-10T14:15:00Z', who: 'bob', say: 'suspect the database is overloaded' },
      { at: '2023-11-10T15:00:00Z', who: 'alice', say: 'note Database team engaged (bob)' },
      { at: '2023-11-10T16:30:30Z', who: 'bob', say: 'rule-out H1 no improvement after the database work' },
      { at: '2023-11-10T16:31:00Z', who: 'dave', say: 'suspect network issues between the app servers' },
      { at: '2023-11-10T17:00:00Z', who: 'alice', say: 'note Network team brought in (dave)' },
      { at: '2023-11-10T17:45:30Z', who: 'dave', say: 'rule-out H2 no packet loss or errors on the network' },
      {
        at: '2023-11-10T17:45:45Z',
        who: 'carol',
        say: 'suspect load-balancer: traffic is distributed unevenly, one app server takes nearly everything',
      },
      { at: '2023-11-10T17:46:00Z', who: 'carol', say: 'confirm H3 HAProxy weights web1=100 web2=1 web3=1' },
      { at: '2023-11-10T17:47:00Z', who: 'alice', say: 'status identified' },
      {
        at: '2023-11-10T18:00:00Z',
        who: 'carol',
        fix: 'Load balancer weights corrected to 1/1/1 and HAProxy reloaded',
      },
      { at: '2023-11-10T18:05:00Z', who: 'alice', say: 'status monitoring' },
      {
        at: '2023-11-10T18:10:00Z',
        who: 'alice',
        say: 'impact Complete service outage for 80% of our user base: the web application was inaccessible',
      },
      { at: '2023-11-10T18:30:00Z', resolveAlerts: true },
      { at: '2023-11-10T18:30:10Z', who: 'alice', say: 'status resolved' },
      ...at(
        '2023-11-10T18:35:00Z',
        followups('carol', [
          'Update the documentation on load balancer configuration best practices',
          'Training session on load balancer troubleshooting for the operations and network teams',
          'Post-incident review meeting',
        ]),
      ),
      {
        at: '2023-11-10T18:40:00Z',
        who: 'alice',
        say: 'close Load balancer settings corrected to spread traffic evenly',
      },
    ],
    teamFoundAt: '2023-11-10T17:45:00Z',
    teamFoundNote: '“Realized load balancer misconfiguration as the actual cause” at 17:45',
    misleading: [
      { category: 'database', timeSpent: '2 h 15 min' },
      { category: 'network', timeSpent: '1 h 14 min' },
    ],
    duration: '4 h 45 min',
    impactFigure: '80% of our user base',
  },
  {
    id: '002',
    file: '002_b25f2cc5d2afa695.txt',
    title: 'Authentication outage: the load balancer sends the traffic to a single server',
    service: 'auth',
    startsAt: '2024-02-17T22:00:00Z',
    notifiedAt: '2024-02-17T22:30:00Z',
    fault: 'nginx-skewed-weights',
    fixed: 'nginx-healthy-even',
    faultText: 'excessive traffic redirected to a single authentication server',
    steps: [
      { at: '2024-02-17T22:35:00Z', who: 'alice', say: 'lead <@alice>' },
      { at: '2024-02-17T22:45:00Z', who: 'bob', say: 'suspect database overload due to increased traffic' },
      {
        at: '2024-02-17T23:00:30Z',
        who: 'bob',
        say: 'rule-out H1 database performance within normal parameters',
      },
      {
        at: '2024-02-17T23:30:00Z',
        who: 'carol',
        say: 'suspect load-balancer: uneven distribution, one authentication server takes the traffic',
      },
      {
        at: '2024-02-17T23:31:00Z',
        who: 'carol',
        say: 'confirm H2 load balancer configuration sends nearly all requests to one server',
      },
      { at: '2024-02-17T23:32:00Z', who: 'alice', say: 'status identified' },
      {
        at: '2024-02-17T23:45:00Z',
        who: 'alice',
        say: 'note Escalated to the senior engineering team (erin)',
      },
      {
        at: '2024-02-18T01:00:00Z',
        who: 'carol',
        fix: 'Load balancer settings adjusted to spread traffic over all authentication servers',
      },
      { at: '2024-02-18T01:05:00Z', who: 'alice', say: 'status monitoring' },
      {
        at: '2024-02-18T02:00:00Z',
        who: 'alice',
        say: 'note Services gradually restored; logins working again',
      },
      {
        at: '2024-02-18T02:10:00Z',
        who: 'alice',
        say: 'impact Authentication service down for about 5 hours; 80% of users could not log in',
      },
      { at: '2024-02-18T03:00:00Z', resolveAlerts: true },
      { at: '2024-02-18T03:00:10Z', who: 'alice', say: 'status resolved' },
      ...at(
        '2024-02-18T03:05:00Z',
        followups('carol', [
          'Review and document the load balancer configurations',
          'Automated tests of load balancer behaviour on configuration changes',
          'Regular load testing exercises',
          'Training for operations on load balancer management',
        ]),
      ),
      {
        at: '2024-02-18T03:10:00Z',
        who: 'alice',
        say: 'close Load balancer settings adjusted; traffic spread over all servers',
      },
    ],
    teamFoundAt: '2024-02-17T23:30:00Z',
    teamFoundNote: '“Load balancer configuration checked, revealing misconfiguration” at 23:30',
    misleading: [{ category: 'database', timeSpent: '15 min' }],
    duration: '5 h',
    impactFigure: '80% of users',
  },
  {
    id: '003',
    file: '003_fd0bf3760cdb6fad.txt',
    title: 'E-commerce outage: all traffic routed to a single web server',
    service: 'shop',
    startsAt: '2024-06-05T14:30:00Z',
    notifiedAt: '2024-06-05T14:30:30Z',
    fault: 'nginx-pinned',
    fixed: 'nginx-healthy-even',
    faultText: 'the load balancer routed all incoming traffic to a single web server',
    steps: [
      { at: '2024-06-05T14:32:00Z', who: 'alice', say: 'lead <@alice>' },
      { at: '2024-06-05T14:35:00Z', who: 'alice', say: 'note Logs show overload on the web servers' },
      { at: '2024-06-05T14:40:00Z', who: 'dave', say: 'suspect a DDoS attack; starting mitigation' },
      {
        at: '2024-06-05T14:50:00Z',
        who: 'alice',
        say: 'note Escalated to the network operations team (dave)',
      },
      { at: '2024-06-05T15:00:30Z', who: 'dave', say: 'rule-out H1 no signs of an external attack' },
      {
        at: '2024-06-05T15:10:00Z',
        who: 'carol',
        say: 'suspect load-balancer: the last update routes all traffic to a single web server',
      },
      {
        at: '2024-06-05T15:10:30Z',
        who: 'carol',
        say: 'confirm H2 load balancer logs: one web server gets every request',
      },
      { at: '2024-06-05T15:11:00Z', who: 'alice', say: 'status identified' },
      {
        at: '2024-06-05T15:15:00Z',
        who: 'carol',
        fix: 'Round-robin reinstated and weights adjusted; traffic distribution normalized',
      },
      { at: '2024-06-05T15:20:00Z', who: 'alice', say: 'status monitoring' },
      {
        at: '2024-06-05T15:25:00Z',
        who: 'alice',
        say: 'impact The e-commerce website was completely inaccessible; approximately 85% of users affected',
      },
      { at: '2024-06-05T15:45:00Z', resolveAlerts: true },
      { at: '2024-06-05T15:45:10Z', who: 'alice', say: 'status resolved' },
      ...at(
        '2024-06-05T15:50:00Z',
        followups('carol', [
          'Checklist with peer review for load balancer configuration changes',
          'Automated health checks that verify the traffic distribution',
          'Share this postmortem with the engineering team',
          'Automated configuration drift checks',
        ]),
      ),
      {
        at: '2024-06-05T15:55:00Z',
        who: 'alice',
        say: 'close Round-robin reinstated; traffic spread over all web servers',
      },
    ],
    teamFoundAt: '2024-06-05T15:10:00Z',
    teamFoundNote: '“Load balancer logs reviewed; misconfiguration identified” at 15:10',
    misleading: [{ category: 'traffic-surge', timeSpent: '20 min' }],
    duration: '1 h 15 min',
    impactFigure: '85% of users',
  },
  {
    id: '004',
    file: '004_2f641e0c39aa2eca.txt',
    title: 'Web application outage: the load balancer favours one server',
    service: 'web',
    startsAt: '2024-03-10T13:45:00Z',
    notifiedAt: '2024-03-10T13:45:30Z',
    fault: 'haproxy-skewed-weights',
    fixed: 'haproxy-healthy-even',
    faultText: 'excessive traffic redirected to a single server',
    steps: [
      { at: '2024-03-10T13:50:00Z', who: 'alice', say: 'lead <@alice>' },
      {
        at: '2024-03-10T13:55:00Z',
        who: 'bob',
        say: 'note Checking the backend services and the database health',
      },
      {
        at: '2024-03-10T14:20:00Z',
        who: 'bob',
        say: 'suspect database overload due to the recent schema changes',
      },
      {
        at: '2024-03-10T14:45:00Z',
        who: 'alice',
        say: 'note Escalated to senior engineering management (erin)',
      },
      {
        at: '2024-03-10T15:30:00Z',
        who: 'carol',
        say: 'note Load balancer configurations reviewed, no abnormalities found at first',
      },
      { at: '2024-03-10T16:00:30Z', who: 'bob', say: 'rule-out H1 the schema change is not it' },
      {
        at: '2024-03-10T16:00:45Z',
        who: 'carol',
        say: 'suspect load-balancer: misconfigured settings cause a traffic imbalance',
      },
      {
        at: '2024-03-10T16:01:00Z',
        who: 'carol',
        say: 'confirm H2 the load balancer favours one server over the others',
      },
      { at: '2024-03-10T16:02:00Z', who: 'alice', say: 'status identified' },
      {
        at: '2024-03-10T17:15:00Z',
        who: 'carol',
        fix: 'Load balancer settings corrected; traffic redistributed',
      },
      { at: '2024-03-10T17:20:00Z', who: 'alice', say: 'status monitoring' },
      {
        at: '2024-03-10T17:30:00Z',
        who: 'alice',
        say: 'impact Degraded performance and intermittent disruptions for approximately 30% of users',
      },
      {
        at: '2024-03-10T22:00:00Z',
        who: 'alice',
        say: 'note Traffic stabilizing; latency still above normal',
      },
      { at: '2024-03-11T02:30:00Z', resolveAlerts: true },
      { at: '2024-03-11T02:30:10Z', who: 'alice', say: 'status resolved' },
      ...at(
        '2024-03-11T02:35:00Z',
        followups('carol', [
          'Scripts for automated load balancer configuration validation',
          'Dashboard with real-time traffic distribution across servers',
          'Recurring reviews of load balancer settings',
        ]),
      ),
      {
        at: '2024-03-11T02:40:00Z',
        who: 'alice',
        say: 'close Load balancer settings adjusted to spread traffic evenly',
      },
    ],
    teamFoundAt: '2024-03-10T16:00:00Z',
    teamFoundNote:
      '“Further investigation revealed misconfigured settings causing traffic imbalance” at 16:00',
    misleading: [{ category: 'database', timeSpent: '1 h 40 min' }],
    duration: '12 h 45 min',
    impactFigure: '30% of users',
  },
];

/** The story `npm run demo` replays without `--seed`: 001, the database, then the network, then the load balancer. */
export const DEFAULT_SEED = '001';

/** The seed with this id (`000`…`004`, `0`…`4` too); throws naming the known ids. */
export function seedStory(id: string): SeedStory {
  const s = SEEDS.find((x) => x.id === id.padStart(3, '0'));
  if (!s) throw new Error(`no seed ${id}; the seeds are ${SEEDS.map((x) => x.id).join(', ')}`);
  return s;
}
