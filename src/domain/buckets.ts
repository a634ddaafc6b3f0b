/** The run list's buckets (DESIGN §11): each run's `truth.bucket` names the one it belongs to. */
export const LIST_BUCKETS = [
  'active',
  'active_stale',
  'terminal_follow_up',
  'reconciled',
  'succeeded',
  'all',
] as const;
export type ListBucket = (typeof LIST_BUCKETS)[number];
