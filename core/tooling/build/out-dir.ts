// The output folder: created if missing and proven writable before minutes of work go into it.
import path from 'node:path';
import { RedoxError } from '../../errors';
import { makeWritableDir } from '../../make-dirs';

export function prepareOutDir(given: string, cwd: string): string {
  const dir = path.resolve(cwd, given);
  try {
    makeWritableDir(dir);
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RedoxError('REDOX_BUILD_OUT', `cannot write to --out ${given} (${dir}): ${e.code ?? e.message}`,
      'choose a folder you can write to, e.g. --out dist');
  }
  return dir;
}
