import { ELB_FAIL_OPEN_DOC, type Elbv2Target } from './sources/aws-elbv2.js';
import type { EnvoyCluster } from './sources/envoy-clusters.js';

/** Envoy's panic threshold doc: below 50% healthy hosts (the default) Envoy balances over every host. */
const ENVOY_PANIC_DOC =
  'https://www.envoyproxy.io/docs/envoy/latest/intro/arch_overview/upstream/load_balancing/panic_threshold';

/**
 * What Envoy's `/clusters` says beyond each host's health: connect failures it counted (`cx_connect_fail`), and
 * clusters below the default panic threshold, where Envoy ignores health and sends requests to every host.
 */
export function envoyFindings(clusters: EnvoyCluster[]): { findings: string[] } {
  const findings: string[] = [];
  for (const c of clusters) {
    for (const h of c.hosts) {
      const fails = h.stats.cx_connect_fail ?? 0;
      if (fails > 0)
        findings.push(
          `${c.name}/${h.address}: Envoy counted ${fails} failed connection attempt${fails === 1 ? '' : 's'} (cx_connect_fail) since it started`,
        );
    }
    const healthy = c.hosts.filter((h) => h.health === 'healthy').length;
    if (c.hosts.length > 0 && healthy / c.hosts.length < 0.5)
      findings.push(
        `${c.name}: ${healthy} of ${c.hosts.length} hosts healthy, under Envoy's default panic threshold (50%): Envoy then sends requests to all hosts, healthy or not (${ENVOY_PANIC_DOC})`,
      );
  }
  return { findings };
}

/** What each ELB reason code means for the people reading the checklist. */
const REASONS: Record<string, string> = {
  'Target.FailedHealthChecks': 'the target failed its health checks',
  'Target.ResponseCodeMismatch': 'health checks got an HTTP status the target group does not accept',
  'Target.Timeout': 'health checks timed out',
  'Elb.InternalError': 'health checks failed from an internal ELB error, not from the target',
  'Elb.RegistrationInProgress': 'the target is still being registered',
  'Elb.InitialHealthChecking': 'the target has not passed its first health checks yet',
  'Target.NotInUse': 'the target group is not used by any listener rule, or the target is in a disabled zone',
  'Target.DeregistrationInProgress': 'the target is being deregistered (draining)',
  'Target.NotRegistered': 'the target is not registered in the group',
  'Target.InvalidState': 'the target is stopped or terminated',
  'Target.IpUnusable': 'the target IP address is reserved by a load balancer',
  'Target.HealthCheckDisabled': 'health checks are disabled: ELB routes to the target without checking it',
};

/**
 * What a target group's health says beyond each target: an empty group (nowhere to send requests), one whose
 * every in-service target is unhealthy (ELB fails open and routes to all of them), and each reason code seen.
 */
export function elbv2Findings(targets: Elbv2Target[]): {
  findings: string[];
  empty?: string;
  headline?: string;
} {
  if (targets.length === 0)
    return {
      findings: [],
      empty:
        'the target group has no registered targets: the load balancer has nowhere to send its requests (an ALB answers 503)',
    };
  const findings: string[] = [];
  let headline: string | undefined;
  const inService = targets.filter((t) => t.state !== 'unused' && t.state !== 'draining');
  if (
    inService.length > 0 &&
    inService.every((t) => t.state === 'unhealthy' || t.state === 'unhealthy.draining')
  ) {
    findings.push(
      `every target is unhealthy, so ELB fails open and routes requests to ${inService.length === 1 ? 'it' : `all ${inService.length} of them`} regardless of health (${ELB_FAIL_OPEN_DOC})`,
    );
    headline = `ELB fails open: it still routes requests to ${inService.length === 1 ? 'that one unhealthy target' : `all ${inService.length} unhealthy targets`}`;
  }
  const byReason = new Map<string, number>();
  for (const t of targets) if (t.reason) byReason.set(t.reason, (byReason.get(t.reason) ?? 0) + 1);
  for (const [reason, n] of byReason)
    findings.push(
      `${n} target${n === 1 ? '' : 's'} ${reason}${REASONS[reason] ? `: ${REASONS[reason]}` : ''}`,
    );
  return { findings, headline };
}
