/**
 * Which logged requests are client noise: requests the load balancer answered without choosing a server because
 * of the client (a malformed request, a client that connected and sent nothing, a client too slow to send its
 * request, a client that gave up), or that the proxy answered itself on purpose (a deny rule, a redirect). They
 * are reported, never a finding: port scanners, TCP health probes and broken clients make them all day.
 */

/**
 * The noise reason of an HAProxy `<NOSRV>` line from its status and the first two characters of its
 * termination state, or `undefined` when the load balancer attributes it to itself or its servers (`SC--` 503
 * "no server available", `sQ--` queue timeout, `R`/`I` resource or internal errors).
 * Termination states: https://docs.haproxy.org/2.6/configuration.html#8.5
 */
export function haproxyNoise(status: number, t0: number, t1: number): string | undefined {
  // 'C' client aborted, 'c' client-side timeout, 'P' proxy rejected (syntax or deny), 'L' answered locally.
  if (t0 === 67 || t0 === 99) {
    if (status === 400) return 'malformed request rejected before routing';
    if (status === 408 || t0 === 99) return 'client too slow to send a request (408)';
    if (t1 === 82) return 'client closed the connection before sending a request';
    return 'client gave up before a server was chosen';
  }
  if (t0 === 80) {
    if (status === 400) return 'malformed request rejected before routing';
    return `request denied by a proxy rule (${status})`;
  }
  if (t0 === 76) return `request answered by the proxy itself (${status})`;
  // A request never completed ('R' = waiting for the request) cannot have been routed anywhere.
  if (t1 === 82 && status === 400) return 'malformed request rejected before routing';
  if (t1 === 82 && status === 408) return 'client too slow to send a request (408)';
  return undefined;
}

/**
 * The noise reason of an nginx line that reached no upstream (`$upstream_addr` is `-`), or `undefined`.
 * 400 bad request, 408 request timeout, 444 closed by `return 444`, 494 header too large, 499 client closed.
 * https://nginx.org/en/docs/http/ngx_http_upstream_module.html#var_upstream_addr
 */
export function nginxNoise(status: number): string | undefined {
  switch (status) {
    case 400:
    case 494:
      return 'malformed request rejected before routing';
    case 408:
      return 'client too slow to send a request (408)';
    case 499:
      return 'client closed the connection before an upstream was chosen';
    case 444:
      return 'connection closed by the proxy on purpose (444)';
    default:
      return undefined;
  }
}

/** "1 malformed request rejected before routing: ignored" lines for evidence; empty when there is no noise. */
export function noiseEvidence(noise: Record<string, number> | undefined): string[] {
  return Object.entries(noise ?? {}).map(
    ([reason, n]) =>
      `${n} ${n === 1 ? reason : plural(reason)}: client noise, ignored (the load balancer's log)`,
  );
}

function plural(reason: string): string {
  return reason.replace(
    /^(\w+ )?(request|client|connection)\b/,
    (_, adj: string | undefined, noun: string) => `${adj ?? ''}${noun}s`,
  );
}
