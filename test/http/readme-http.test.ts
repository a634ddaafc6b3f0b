import { spawn } from 'node:child_process';
import { chmod, mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import path from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createDirectory } from '../../src/access/directory.js';
import { apiHarness } from '../support/http.js';

// The README's HTTP examples run as written. Each block fenced as "```sh http-example" runs in
// bash against a real server (the demo, plus the README's directory.json applied), with curl and
// the `runwarden` CLI; every `# → NNN` it states must be the status its curl got, in order.
const ROOT = path.resolve(import.meta.dirname, '../..');
const readme = await readFile(path.join(ROOT, 'README.md'), 'utf8');

interface Example {
  line: number;
  script: string;
  statuses: number[];
  /** The error code each stated answer names, if it names one. */
  codes: Array<string | undefined>;
}

function examples(text: string): Example[] {
  const found: Example[] = [];
  for (const match of text.matchAll(/^```sh http-example\n([\s\S]*?)^```$/gm)) {
    const script = match[1] as string;
    const stated = [...script.matchAll(/# → (\d{3})\b(.*)/g)];
    found.push({
      line: text.slice(0, match.index).split('\n').length,
      script,
      statuses: stated.map((m) => Number(m[1])),
      codes: stated.map((m) => /"code":"(\w+)"/.exec(m[2] as string)?.[1]),
    });
  }
  return found;
}

const h = await apiHarness();
let base: string;
let bin: string;

beforeAll(async () => {
  const section = readme.split('## Adopting Runwarden: the directory')[1] ?? '';
  const directoryJson = /```json\n([\s\S]+?)\n```/.exec(section)?.[1];
  if (!directoryJson) throw new Error("the README's directory.json example is missing");
  await createDirectory({ db: h.db }).sync(JSON.parse(directoryJson));
  base = await h.app.listen({ host: '127.0.0.1', port: 0 });
  bin = await mkdtemp(path.join(tmpdir(), 'runwarden-readme-'));
  const cli = path.join(bin, 'runwarden');
  await writeFile(
    cli,
    `#!/bin/sh\nexec "${process.execPath}" --import tsx "${ROOT}/src/cli/main.ts" "$@"\n`,
  );
  await chmod(cli, 0o755);
});
afterAll(async () => {
  if (bin) await rm(bin, { recursive: true, force: true });
});

/** Runs a block in bash; curl also prints `@status <code>` after each answer. */
function run(script: string): Promise<{ code: number | null; stdout: string; stderr: string }> {
  const prelude = `set -euo pipefail\ncurl() { command curl -w '\\n@status %{http_code}\\n' "$@"; }\n`;
  const { DATABASE_URL: _ignored, ...env } = process.env;
  const child = spawn(
    'bash',
    [
      '-c',
      prelude + script.replaceAll('http://localhost:3000', base).replaceAll('localhost:3000', base),
    ],
    {
      cwd: ROOT,
      env: { ...env, DATABASE_URL: h.t.url, LOG_LEVEL: 'warn', PATH: `${bin}:${env.PATH}` },
      stdio: ['ignore', 'pipe', 'pipe'],
    },
  );
  let stdout = '';
  let stderr = '';
  child.stdout.on('data', (c: Buffer) => {
    stdout += c.toString();
  });
  child.stderr.on('data', (c: Buffer) => {
    stderr += c.toString();
  });
  return new Promise((resolve) => child.once('exit', (code) => resolve({ code, stdout, stderr })));
}

describe("the README's HTTP examples", () => {
  const found = examples(readme);

  it('are marked, and each states the status of every call', () => {
    expect(found.length).toBeGreaterThanOrEqual(2);
    for (const example of found) {
      const calls = example.script.match(/^\s*curl /gm)?.length ?? 0;
      expect(example.statuses.length, `README line ${example.line}`).toBe(calls);
    }
  });

  for (const example of found) {
    it(`README line ${example.line} answers as it says`, async () => {
      const result = await run(example.script);
      const got = [...result.stdout.matchAll(/^@status (\d{3})$/gm)].map((m) => Number(m[1]));
      const transcript = `${result.stdout}\n${result.stderr}`;
      expect(got, transcript).toEqual(example.statuses);
      const answers = result.stdout.split(/^@status \d{3}$/m);
      example.codes.forEach((code, i) => {
        if (code) expect(answers[i], transcript).toContain(`"code":"${code}"`);
      });
      expect(result.code, transcript).toBe(0);
    }, 60_000);
  }
});
