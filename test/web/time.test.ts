import { describe, expect, it } from 'vitest';
import {
  dayLabel,
  formatAbsolute,
  formatAgo,
  formatClock,
  formatDuration,
  runTimePhrases,
} from '../../src/web/components/time.js';

const now = Date.parse('2026-12-03T12:00:00.000Z');
const ago = (seconds: number) => new Date(now - seconds * 1000).toISOString();

describe('formatDuration', () => {
  it.each([
    [0, '0 s'],
    [-5_000, '0 s'],
    [12_400, '12 s'],
    [59_999, '59 s'],
    [60_000, '1 min'],
    [3 * 60_000 + 10_000, '3 min'],
    [3600_000, '1 h'],
    [3600_000 + 5 * 60_000, '1 h 5 min'],
    [24 * 3600_000, '1 d'],
    [2 * 24 * 3600_000 + 3 * 3600_000 + 59_000, '2 d 3 h'],
  ])('%d ms is "%s"', (ms, text) => {
    expect(formatDuration(ms)).toBe(text);
  });
});

describe('formatAgo', () => {
  it('reads relative to the given now', () => {
    expect(formatAgo(ago(180), now)).toBe('3 min ago');
    expect(formatAgo(ago(40), now)).toBe('40 s ago');
    expect(formatAgo(ago(2 * 3600), now)).toBe('2 h ago');
  });

  it('says "just now" for the last few seconds and for a time ahead of ours (skew)', () => {
    expect(formatAgo(ago(1), now)).toBe('just now');
    expect(formatAgo(ago(-30), now)).toBe('just now');
  });
});

describe('formatAbsolute', () => {
  it('gives the full date and time, and a dash for no time', () => {
    expect(formatAbsolute('2026-12-03T12:00:00.000Z', 'en-GB')).toMatch(/3 Dec 2026/);
    expect(formatAbsolute(null)).toBe('—');
  });
});

describe('runTimePhrases', () => {
  const texts = (run: Parameters<typeof runTimePhrases>[0]) =>
    runTimePhrases(run, now).map((p) => p.text);

  it('a run not yet started: when it was created', () => {
    expect(
      texts({ createdAt: ago(300), startedAt: null, lastHeartbeatAt: null, completedAt: null }),
    ).toEqual(['created 5 min ago']);
  });

  it('a started run: when it started and its last heartbeat', () => {
    expect(
      texts({
        createdAt: ago(400),
        startedAt: ago(180),
        lastHeartbeatAt: ago(40),
        completedAt: null,
      }),
    ).toEqual(['started 3 min ago', 'last heartbeat 40 s ago']);
  });

  it('a finished run: when it finished and how long it ran, hovering the span', () => {
    const phrases = runTimePhrases(
      { createdAt: ago(100), startedAt: ago(72), lastHeartbeatAt: ago(61), completedAt: ago(60) },
      now,
    );
    expect(phrases.map((p) => p.text)).toEqual(['finished 1 min ago', 'ran 12 s']);
    expect(phrases[1]).toMatchObject({ from: ago(72), at: ago(60) });
  });

  it('a run that ended without starting says so instead of a duration', () => {
    expect(
      texts({ createdAt: ago(900), startedAt: null, lastHeartbeatAt: null, completedAt: ago(60) }),
    ).toEqual(['finished 1 min ago', 'never started']);
  });
});

describe('dayLabel', () => {
  it('today, yesterday, else the date', () => {
    const local = new Date(2026, 11, 3, 15, 0).getTime();
    expect(dayLabel(new Date(2026, 11, 3, 0, 5).toISOString(), local)).toBe('Today');
    expect(dayLabel(new Date(2026, 11, 2, 23, 55).toISOString(), local)).toBe('Yesterday');
    expect(dayLabel(new Date(2026, 10, 30, 9, 0).toISOString(), local, 'en-GB')).toMatch(
      /30 Nov 2026/,
    );
  });
});

describe('formatClock', () => {
  it('is the time alone on the same day, with the date on another', () => {
    const soon = new Date(now + 60_000).toISOString();
    expect(formatClock(soon, now, 'en-GB')).toMatch(/^\d{2}:\d{2}$/);
    const later = new Date(now + 3 * 86_400_000).toISOString();
    expect(formatClock(later, now, 'en-GB')).toMatch(/^\d{1,2} Dec 2026, \d{2}:\d{2}$/);
  });
});
