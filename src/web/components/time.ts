// How a person reads time on every surface (DESIGN §12, issue #14 point 9): durations and
// relative times ("started 3 min ago", "ran 12 s"), the absolute time on hover. Pure functions:
// `now` is a parameter, so tests pin it and components pass the ticking clock of `useNow`.

const SECOND = 1000;
const MINUTE = 60 * SECOND;
const HOUR = 60 * MINUTE;
const DAY = 24 * HOUR;

/** A span of time in the largest units that matter: "12 s", "3 min", "1 h 5 min", "2 d 3 h". */
export function formatDuration(ms: number): string {
  const span = Math.max(0, ms);
  if (span < MINUTE) return `${Math.floor(span / SECOND)} s`;
  if (span < HOUR) return `${Math.floor(span / MINUTE)} min`;
  if (span < DAY) {
    const hours = Math.floor(span / HOUR);
    const minutes = Math.floor((span % HOUR) / MINUTE);
    return minutes ? `${hours} h ${minutes} min` : `${hours} h`;
  }
  const days = Math.floor(span / DAY);
  const hours = Math.floor((span % DAY) / HOUR);
  return hours ? `${days} d ${hours} h` : `${days} d`;
}

/** "3 min ago"; under five seconds, or a time ahead of ours (clock skew), "just now". */
export function formatAgo(iso: string, now: number): string {
  const span = now - Date.parse(iso);
  if (span < 5 * SECOND) return 'just now';
  return `${formatDuration(span)} ago`;
}

/** The absolute time for a hover: "3 Dec 2026, 14:05:09" in the reader's locale and zone. */
export function formatAbsolute(iso: string | null, locale?: string): string {
  if (!iso) return '—';
  return new Date(iso).toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'medium' });
}

/**
 * A time ahead or behind, as a clock in the reader's zone: "18:40" on the same day, with the date
 * ("3 Dec 2026, 18:40") on another.
 */
export function formatClock(iso: string, now: number, locale?: string): string {
  const at = new Date(iso);
  const sameDay = at.toDateString() === new Date(now).toDateString();
  return sameDay
    ? at.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
    : at.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
}

/** A chart bar's window in the reader's zone: "3 Dec 2026, 14:00 – 14:15" (the end's date if it differs). */
export function endedWindowLabel(fromIso: string, toIso: string, locale?: string): string {
  const from = new Date(fromIso);
  const to = new Date(toIso);
  const start = from.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  const end =
    from.toDateString() === to.toDateString()
      ? to.toLocaleTimeString(locale, { hour: '2-digit', minute: '2-digit' })
      : to.toLocaleString(locale, { dateStyle: 'medium', timeStyle: 'short' });
  return `${start} – ${end}`;
}

/** One phrase about a run's time, and the absolute instant it refers to (for the hover). */
export interface TimePhrase {
  key: 'created' | 'started' | 'heartbeat' | 'ran' | 'finished';
  text: string;
  /** The ISO instant the phrase is about (a duration gives its end). */
  at: string;
  /** For a duration, where it started. */
  from?: string;
}

/** The run's timestamps as the list and detail views carry them. */
export interface RunTimes {
  createdAt: string;
  startedAt: string | null;
  lastHeartbeatAt: string | null;
  completedAt: string | null;
}

/**
 * What a run's timestamps say, in reading order. Only which timestamps exist is looked at: whether
 * the run is active, stale or done is its truth's to say, never this function's.
 */
export function runTimePhrases(run: RunTimes, now: number): TimePhrase[] {
  const phrases: TimePhrase[] = [];
  if (run.completedAt) {
    phrases.push({
      key: 'finished',
      text: `finished ${formatAgo(run.completedAt, now)}`,
      at: run.completedAt,
    });
    if (run.startedAt) {
      const ran = Date.parse(run.completedAt) - Date.parse(run.startedAt);
      phrases.push({
        key: 'ran',
        text: `ran ${formatDuration(ran)}`,
        at: run.completedAt,
        from: run.startedAt,
      });
    } else {
      phrases.push({ key: 'created', text: 'never started', at: run.createdAt });
    }
    return phrases;
  }
  if (run.startedAt) {
    phrases.push({
      key: 'started',
      text: `started ${formatAgo(run.startedAt, now)}`,
      at: run.startedAt,
    });
    if (run.lastHeartbeatAt) {
      phrases.push({
        key: 'heartbeat',
        text: `last heartbeat ${formatAgo(run.lastHeartbeatAt, now)}`,
        at: run.lastHeartbeatAt,
      });
    }
    return phrases;
  }
  phrases.push({
    key: 'created',
    text: `created ${formatAgo(run.createdAt, now)}`,
    at: run.createdAt,
  });
  return phrases;
}

/** A day heading for grouped lists: "Today", "Yesterday", else "Mon, 30 Nov 2026". */
export function dayLabel(iso: string, now: number, locale?: string): string {
  const day = (t: number) => {
    const d = new Date(t);
    return new Date(d.getFullYear(), d.getMonth(), d.getDate()).getTime();
  };
  const diff = Math.round((day(now) - day(Date.parse(iso))) / DAY);
  if (diff <= 0) return 'Today';
  if (diff === 1) return 'Yesterday';
  return new Date(iso).toLocaleDateString(locale, {
    weekday: 'short',
    day: 'numeric',
    month: 'short',
    year: 'numeric',
  });
}
