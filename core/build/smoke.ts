// The smoke test every binary must pass before it is kept: it reports exactly the requested
// features, and a script can require each of them (which extracts the wasm and loads native
// addons, the parts most likely to break when bundled).
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RedoxError } from '../errors';

const run = promisify(execFile);

export interface Expected {
  distro: string | null;
  features: string[];
}

function smokeError(binary: string, what: string, err?: unknown): RedoxError {
  const e = err as { stderr?: string; stdout?: string; message?: string } | undefined;
  const out = e ? `\n  ${String(e.stderr || e.stdout || e.message).trim().split('\n').slice(0, 8).join('\n  ')}` : '';
  return new RedoxError('REDOX_BUILD_SMOKE', `${path.basename(binary)} failed its smoke test: ${what}${out}`,
    'the binary was deleted; rerun with --no-strip, or report the output above with the command you ran');
}

export function smokeScript(features: string[]): string {
  return [
    `local names = { ${features.map((f) => JSON.stringify(f)).join(', ')} }`,
    'for _, name in ipairs(names) do',
    '  local ok, mod = pcall(require, name)',
    '  if not ok or mod == nil then error("feature " .. name .. " did not load: " .. tostring(mod)) end',
    'end',
    'print("smoke ok")',
    '',
  ].join('\n');
}

export async function smokeTest(binary: string, expected: Expected, workDir: string): Promise<void> {
  const env = { ...process.env, REDOX_CACHE_DIR: path.join(workDir, 'cache'), NODE_OPTIONS: '' };
  let reported: unknown;
  try {
    const { stdout } = await run(binary, ['features', '--json'], { env, cwd: workDir, timeout: 60_000 });
    reported = JSON.parse(stdout);
  } catch (err) {
    throw smokeError(binary, '`features --json` did not run', err);
  }
  const want = JSON.stringify({ distro: expected.distro, features: [...expected.features].sort() });
  if (JSON.stringify(reported) !== want) throw smokeError(binary, `\`features --json\` printed ${JSON.stringify(reported)}, expected ${want}`);
  const script = path.join(workDir, 'smoke.lua');
  fs.writeFileSync(script, smokeScript(expected.features));
  try {
    const { stdout } = await run(binary, ['run', script], { env, cwd: workDir, timeout: 60_000 });
    if (!stdout.includes('smoke ok')) throw smokeError(binary, `the smoke script printed ${JSON.stringify(stdout)}`);
  } catch (err) {
    if (err instanceof RedoxError) throw err;
    throw smokeError(binary, 'requiring its features failed', err);
  }
}
