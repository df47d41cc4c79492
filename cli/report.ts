// How the CLI shows a failure: the message, the hint, the code. Used by every entry point.
import { ERRORS, isRedoxError } from '../core/errors';

export function reportError(err: unknown, write: (text: string) => void = (t) => process.stderr.write(t)): number {
  if (isRedoxError(err)) {
    let text = `error: ${err.message}\n`;
    if (err.hint) text += `  hint: ${err.hint}\n`;
    text += `  (${err.code}: ${ERRORS[err.code].summary})\n`;
    write(text);
    return err.exitCode;
  }
  const e = err as Error;
  write(`internal error: ${e?.stack ?? String(err)}\n  This is a bug in redox; please report it with the command you ran.\n`);
  return 70;
}
