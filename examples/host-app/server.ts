/** `DATABASE_URL=postgres://… npx tsx examples/host-app/server.ts` (see README.md here). */
import { startHostApp } from './app.js';

const databaseUrl = process.env.DATABASE_URL;
if (!databaseUrl) {
  console.error('Set DATABASE_URL to a PostgreSQL database (Runwarden creates its tables there).');
  process.exit(1);
}
const host = await startHostApp({
  databaseUrl,
  port: Number(process.env.PORT ?? 4000),
  host: process.env.HOST ?? '127.0.0.1',
});
console.log(`Northwind (the host) at ${host.url} — sign in, then open ${host.url}/ops/`);
for (const signal of ['SIGINT', 'SIGTERM'] as const)
  process.once(signal, () => {
    void host.close().then(() => process.exit(0));
  });
