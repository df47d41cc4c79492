// The smoke test every binary must pass before it is kept, in one run of the binary (a start
// costs 0.3-0.5 CPU s): a script requires each feature (which extracts the wasm and loads native
// addons, the parts most likely to break when bundled), then prints the features the binary's
// engine has, which must be exactly the requested ones.
import { execFile } from 'node:child_process';
import fs from 'node:fs';
import path from 'node:path';
import { promisify } from 'node:util';
import { RedoxError } from '../../errors';
import { seaBlobResource } from './pe';

const run = promisify(execFile);

export interface Expected {
  features: string[];
}

const MARK = 'smoke ok ';

function smokeError(binary: string, what: string, err?: unknown): RedoxError {
  const e = err as { stderr?: string; stdout?: string; message?: string } | undefined;
  const out = e ? `\n  ${String(e.stderr || e.stdout || e.message).trim().split('\n').slice(0, 8).join('\n  ')}` : '';
  return new RedoxError('REDOX_BUILD_SMOKE', `${path.basename(binary)} failed its smoke test: ${what}${out}`,
    'the binary was deleted; rerun with --no-strip, or report the output above with the command you ran');
}

export function smokeScript(features: string[]): string {
  return /* lua */ `local names = { ${features.map((f) => JSON.stringify(f)).join(', ')} }
for _, name in ipairs(names) do
  local ok, mod = pcall(require, name)
  if not ok or mod == nil then error("feature " .. name .. " did not load: " .. tostring(mod)) end
end
print(${JSON.stringify(MARK)} .. json.encode({ features = json.array(redox.features) }))
`;
}

/** `runner` prefixes the command (qemu-user for another Linux CPU). */
export async function smokeTest(binary: string, expected: Expected, workDir: string, runner: string[] = []): Promise<void> {
  const env = { ...process.env, REDOX_CACHE_DIR: path.join(workDir, 'cache'), NODE_OPTIONS: '' };
  // Emulated, the binary starts about 20x slower.
  const timeout = runner.length ? 600_000 : 60_000;
  const [cmd, ...pre] = [...runner, binary];
  const script = path.join(workDir, 'smoke.lua');
  fs.writeFileSync(script, smokeScript(expected.features));
  let stdout: string;
  try {
    ({ stdout } = await run(cmd, [...pre, 'run', script], { env, cwd: workDir, timeout }));
  } catch (err) {
    throw smokeError(binary, 'its smoke script (require each feature) failed', err);
  }
  const line = stdout.split('\n').find((l) => l.startsWith(MARK));
  if (line === undefined) throw smokeError(binary, `the smoke script printed ${JSON.stringify(stdout)}`);
  const reported = line.slice(MARK.length);
  const want = JSON.stringify({ features: [...expected.features].sort() });
  if (reported !== want) throw smokeError(binary, `it has the features ${reported}, expected ${want}`);
}

/** The check for a binary this machine cannot run (Windows from Linux): its PE resource table
 *  holds the SEA blob, byte for byte the blob that was generated. */
export function checkInjectedPe(binary: string, blob: Buffer): void {
  let found: Buffer | null;
  try {
    found = seaBlobResource(binary);
  } catch (err) {
    throw smokeError(binary, (err as Error).message);
  }
  if (!found) throw smokeError(binary, 'its PE resource table has no NODE_SEA_BLOB resource');
  if (!found.equals(blob)) throw smokeError(binary, `its NODE_SEA_BLOB resource (${found.length} bytes) differs from the generated blob (${blob.length} bytes)`);
}
