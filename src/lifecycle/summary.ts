/**
 * Dashboard counts (DESIGN §11 summary) are a read of the run read model: each tile counts the
 * rows of the list it opens (src/runs/run-summary.ts). Kept here for the process wiring that
 * shares one TerminalCountsCache.
 */
export { type Summary, summarize, TerminalCountsCache } from '../runs/run-summary.js';
