// `npm run bench -- <name>`: runs one benchmark (or all with no name). Each prints its figures
// and, last, its ratio against the raw library underneath measured in the same run.
const benches: Record<string, () => Promise<void>> = {
  ledger: async () => (await import('./ledger.js')).main(),
  throughput: async () => (await import('./throughput.js')).main(),
  pickup: async () => (await import('./pickup.js')).main(),
  crash: async () => (await import('./crash.js')).main(),
  browser: async () => (await import('./browser.js')).main(),
  push: async () => (await import('./push.js')).main(),
  api: async () => (await import('./api.js')).main(),
  reconcile: async () => (await import('./reconcile.js')).main(),
  outage: async () => (await import('./outage.js')).main(),
  flow: async () => (await import('./flow.js')).main(),
  fleet: async () => (await import('./fleet.js')).main(),
  bulk: async () => (await import('./bulk.js')).main(),
  logs: async () => (await import('./logs.js')).main(),
};

const requested = process.argv.slice(2).filter((a) => !a.startsWith('-'));
const names = requested.length ? requested : Object.keys(benches);
for (const name of names) {
  const bench = benches[name];
  if (!bench) {
    console.error(`unknown benchmark "${name}"; available: ${Object.keys(benches).join(', ')}`);
    process.exit(2);
  }
  console.log(`\n== bench: ${name}`);
  await bench();
}
