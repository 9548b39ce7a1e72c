/** One proxied request from any access log, normalized: what the checks need and nothing more. */
export interface AccessRecord {
  /** Request time, epoch ms. */
  time: number;
  /** Client address without port. */
  client: string;
  /** HAProxy frontend or nginx `$server_name`/`$host`, when the log has it. */
  frontend?: string;
  /** HAProxy backend, or the nginx upstream group the request went to (when known). */
  backend?: string;
  /** Server that answered (HAProxy server name, nginx upstream `addr:port`); `undefined` when no server was available. */
  server?: string;
  /** True when the proxy had no server for the request (`<NOSRV>`, nginx upstream group name in `$upstream_addr`). */
  noServer: boolean;
  /** HTTP status sent to the client; 0 when unknown. */
  status: number;
  method?: string;
  path?: string;
  /** HAProxy termination state (`----`, `SC--`, `CR--`, ...); absent for nginx. */
  termination?: string;
  /** Why this request is client noise (see client-noise.ts), when it is: reported, never a finding. */
  noise?: string;
  /** nginx: upstream addresses tried before the one that answered and that failed (502/504 or no answer): retried elsewhere. */
  failedUpstreams?: string[];
  /** nginx: what the server that answered said (the last `$upstream_status`), when the log has it; its 5xx count against it. */
  serverStatus?: number;
  /**
   * The request's session cookie as `name=value`, when the log carries one: HAProxy's captured request cookie
   * (`capture cookie <name> len <n>`, the `%CC` field), nginx's first non-empty `$cookie_<name>` variable.
   */
  cookie?: string;
}
