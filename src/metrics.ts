import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** Prometheus metrics for one process (https://prometheus.io/docs/instrumenting/exposition_formats/). */
export function createMetrics(openIncidents?: () => Promise<number>) {
  const registry = new Registry();
  collectDefaultMetrics({ register: registry, prefix: 'incident_bot_' });
  const m = {
    registry,
    requests: new Counter({
      name: 'incident_bot_requests_total',
      help: 'Slack requests and alert webhooks handled, by kind and HTTP status',
      labelNames: ['kind', 'status'] as const,
      registers: [registry],
    }),
    ackSeconds: new Histogram({
      name: 'incident_bot_ack_seconds',
      help: 'Time from receiving a Slack request to acknowledging it, by kind',
      labelNames: ['kind'] as const,
      buckets: [0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5],
      registers: [registry],
    }),
    rejected: new Counter({
      name: 'incident_bot_rejected_requests_total',
      help: 'Requests rejected before processing: bad signature, stale timestamp, bad token, too large, malformed',
      labelNames: ['endpoint', 'reason'] as const,
      registers: [registry],
    }),
    jobs: new Counter({
      name: 'incident_bot_jobs_total',
      help: 'BullMQ jobs processed, by queue, job name and outcome',
      labelNames: ['queue', 'name', 'outcome'] as const,
      registers: [registry],
    }),
    alertsLost: new Counter({
      name: 'incident_bot_alert_deliveries_lost_total',
      help: 'Alert webhook deliveries whose ingest-alert job failed for good: their alerts may be on no timeline',
      registers: [registry],
    }),
    open: new Gauge({
      name: 'incident_bot_open_incidents',
      help: 'Incidents not yet closed',
      registers: [registry],
      async collect() {
        if (openIncidents) {
          try {
            this.set(await openIncidents());
          } catch {
            // Redis away: leave the last value; /healthz reports the outage.
          }
        }
      },
    }),
  };
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;
