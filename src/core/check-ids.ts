/** Every automated check, in checklist order: the one list of check ids. */
export const CHECK_IDS = [
  'pool-health',
  'traffic-distribution',
  'routing',
  'recent-change',
  'traffic-volume',
  'backend-connect',
  'database',
  'endpoints',
] as const;
export type CheckId = (typeof CHECK_IDS)[number];

/**
 * What each check runs against (once per load balancer, or once for the probe target of that name) and
 * whether its failure is evidence for the load-balancer hypothesis (the other checks weigh the red herrings).
 */
const CHECK_SCOPE: Record<
  CheckId,
  { runsOn: 'load-balancer' | 'database' | 'endpoints'; judgesLb: boolean }
> = {
  'pool-health': { runsOn: 'load-balancer', judgesLb: true },
  'traffic-distribution': { runsOn: 'load-balancer', judgesLb: true },
  routing: { runsOn: 'load-balancer', judgesLb: true },
  'recent-change': { runsOn: 'load-balancer', judgesLb: true },
  'traffic-volume': { runsOn: 'load-balancer', judgesLb: false },
  'backend-connect': { runsOn: 'load-balancer', judgesLb: false },
  database: { runsOn: 'database', judgesLb: false },
  endpoints: { runsOn: 'endpoints', judgesLb: false },
};

/** True for a known check id (`pool-health`, …); narrows a string read from a job or a template. */
export function isCheckId(id: string): id is CheckId {
  return (CHECK_IDS as readonly string[]).includes(id);
}

/** True when the check runs once per configured load balancer (target: the load balancer's name). */
export function runsPerLoadBalancer(id: string): boolean {
  return isCheckId(id) && CHECK_SCOPE[id].runsOn === 'load-balancer';
}

/** True when a failing or warning result of this check is evidence that the load balancer is at fault. */
export function judgesLoadBalancer(id: string): boolean {
  return isCheckId(id) && CHECK_SCOPE[id].judgesLb;
}
