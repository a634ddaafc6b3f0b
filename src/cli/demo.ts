import { randomBytes } from 'node:crypto';
import type { Config } from '../config.js';
import { DEMO_LOGINS } from './demo-seed/index.js';

/** The demo's own workspace: a database holding it (and no managed directory) is the demo. */
export const DEMO_WORKSPACE = 'contoso';

export interface DemoPassword {
  value: string;
  fromEnv: boolean;
}

/** RUNWARDEN_DEMO_PASSWORD, else a fresh one (it is stored hashed, so it is printed only once). */
export function demoPassword(config: Config): DemoPassword {
  return config.demoPassword
    ? { value: config.demoPassword, fromEnv: true }
    : { value: randomBytes(9).toString('base64url'), fromEnv: false };
}

/** The demo logins on stdout (not the log: the password must not land in log storage). */
export function printDemoLogins(password: DemoPassword | undefined, url?: string): void {
  const lines = [''];
  if (url) lines.push(`  Runwarden is running: ${url}`, '');
  lines.push('  Demo logins:');
  for (const login of DEMO_LOGINS) lines.push(`    ${login.email.padEnd(22)} ${login.description}`);
  lines.push(
    password
      ? `  Password for all of them: ${password.value}`
      : '  Password: the one printed when the demo was seeded (set RUNWARDEN_DEMO_PASSWORD to choose one).',
    '',
  );
  process.stdout.write(`${lines.join('\n')}\n`);
}
