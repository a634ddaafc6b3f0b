// The in-flight run ids, shared between a worker's main thread and its heartbeat thread through
// memory instead of a message per change: a message woke the heartbeat thread for every run
// started (a measurable share of a short run's cost), and the thread needs the set only when it
// beats. One writer (the main thread); readers retry while a write is under way (a seqlock).

const HEADER = 2; // Int32 slots: [sequence (odd while writing), byte length]
const encoder = new TextEncoder();
const decoder = new TextDecoder();

/** Bytes the ids of `count` runs take (uuids and separators), with room to spare. */
export function sharedIdsBytes(count: number): number {
  return HEADER * 4 + Math.max(64, count * 2) * 37;
}

/** Writes `ids` into `buffer`; false when they do not fit (the caller grows the buffer). */
export function writeSharedIds(buffer: SharedArrayBuffer, ids: string[]): boolean {
  const header = new Int32Array(buffer, 0, HEADER);
  const bytes = new Uint8Array(buffer, HEADER * 4);
  const text = ids.join(',');
  if (text.length > bytes.length) return false; // ids are ASCII: one byte per character
  Atomics.add(header, 0, 1);
  const { written } = encoder.encodeInto(text, bytes);
  Atomics.store(header, 1, written);
  Atomics.add(header, 0, 1);
  return true;
}

/** The ids last written to `buffer` (a consistent copy, never half of one write). */
export function readSharedIds(buffer: SharedArrayBuffer): string[] {
  const header = new Int32Array(buffer, 0, HEADER);
  const bytes = new Uint8Array(buffer, HEADER * 4);
  for (;;) {
    const before = Atomics.load(header, 0);
    if (before % 2 === 1) continue; // a write is under way on the other thread
    const copy = bytes.slice(0, Atomics.load(header, 1));
    if (Atomics.load(header, 0) !== before) continue;
    const text = decoder.decode(copy);
    return text === '' ? [] : text.split(',');
  }
}
