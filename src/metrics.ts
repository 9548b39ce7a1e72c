import { Counter, collectDefaultMetrics, Gauge, Histogram, Registry } from 'prom-client';

/** A closed incident's response durations (seconds), as the reports measure them. */
export interface FiguresForMetrics {
  severity: string;
  seconds: Partial<Record<'detect' | 'acknowledge' | 'identify' | 'mitigate' | 'resolve', number>>;
  misleadingSeconds: number;
}

/**
 * Prometheus metrics for one process (https://prometheus.io/docs/instrumenting/exposition_formats/).
 * `closedFigures` feeds the incident-duration histogram at each scrape.
 */
export function createMetrics(
  openIncidents?: () => Promise<number>,
  closedFigures?: () => Promise<FiguresForMetrics[]>,
) {
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
    // Added for issue 13: the reports' durations over every closed incident, rebuilt at each scrape
    // from Redis (so every web process reports the same figures, and retention removes them).
    incidentDurations: new Histogram({
      name: 'incident_bot_incident_duration_seconds',
      help: 'Closed incidents: time to acknowledge, identify, mitigate and resolve, and time on ruled-out hypotheses, by severity (same definitions as the postmortem metrics)',
      labelNames: ['metric', 'severity'] as const,
      buckets: [60, 300, 900, 1800, 3600, 7200, 14400, 28800, 86400, 259200],
      registers: [registry],
      async collect() {
        if (!closedFigures) return;
        let all: FiguresForMetrics[];
        try {
          all = await closedFigures();
        } catch {
          return; // Redis away: keep the last figures; /healthz reports the outage.
        }
        this.reset();
        for (const f of all) {
          for (const metric of ['acknowledge', 'identify', 'mitigate', 'resolve'] as const) {
            const v = f.seconds[metric];
            if (v !== undefined) this.observe({ metric, severity: f.severity }, v);
          }
          this.observe({ metric: 'misleading', severity: f.severity }, f.misleadingSeconds);
        }
      },
    }),
  };
  return m;
}
export type Metrics = ReturnType<typeof createMetrics>;
