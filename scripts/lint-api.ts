// `npm run lint:api` (part of `npm run lint`): the OpenAPI document `/api/openapi.json` serves,
// built without listening and without a database, checked by `redocly lint` (rules: redocly.yaml).
// `--out <file>` only writes the document.
import { execFileSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { openApiDocument } from './generate-client.js';

const ROOT = path.resolve(import.meta.dirname, '..');

async function main(): Promise<void> {
  const document = `${JSON.stringify(await openApiDocument(), null, 2)}\n`;
  const out = process.argv.indexOf('--out');
  if (out !== -1) {
    await writeFile(path.resolve(process.argv[out + 1] ?? 'openapi.json'), document);
    return;
  }
  const dir = await mkdtemp(path.join(tmpdir(), 'runwarden-openapi-'));
  const file = path.join(dir, 'openapi.json');
  try {
    await writeFile(file, document);
    execFileSync(
      process.execPath,
      [path.join(ROOT, 'node_modules/@redocly/cli/bin/cli.js'), 'lint', file],
      { cwd: ROOT, stdio: 'inherit', env: { ...process.env, REDOCLY_TELEMETRY: 'off' } },
    );
  } catch {
    process.exitCode = 1;
  } finally {
    await rm(dir, { recursive: true, force: true });
  }
}

await main();
