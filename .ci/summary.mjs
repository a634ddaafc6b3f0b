// Prints one line per lane and then `tests: N passed, N failed`, summed over the Vitest JSON
// reports named on the command line; fails when a report is missing, a lane ran nothing, or any
// test failed.
import { readFileSync } from 'node:fs';

const files = process.argv.length > 2 ? process.argv.slice(2) : ['reports/vitest.json'];
let passed = 0;
let failed = 0;
let ok = true;
for (const file of files) {
  let report;
  try {
    report = JSON.parse(readFileSync(file, 'utf8'));
  } catch {
    console.log(`${file}: no Vitest report (lint, typecheck or the lane's set-up failed first?)`);
    ok = false;
    continue;
  }
  const lanePassed = report.numPassedTests ?? 0;
  const laneFailed = report.numFailedTests ?? 0;
  const skipped = (report.numPendingTests ?? 0) + (report.numTodoTests ?? 0);
  passed += lanePassed;
  failed += laneFailed;
  if (lanePassed === 0 || laneFailed > 0 || report.success === false) ok = false;
  const note = skipped > 0 ? ` (${skipped} skipped)` : '';
  console.log(`${file}: ${lanePassed} passed, ${laneFailed} failed${note}`);
}
console.log(`tests: ${passed} passed, ${failed} failed`);
process.exit(ok && failed === 0 ? 0 : 1);
