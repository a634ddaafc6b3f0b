import { Histogram, Registry } from 'prom-client';

/** Metrics this process records as it works (exposed by `/metrics` where the API runs). */
export const processMetrics = new Registry();

export const handlerSeconds = new Histogram({
  name: 'runwarden_handler_duration_seconds',
  help: 'How long operation handlers ran in this process, by type.',
  labelNames: ['type'] as const,
  buckets: [0.01, 0.05, 0.1, 0.5, 1, 5, 15, 60, 300, 1800],
  registers: [processMetrics],
});
