// `redox test`: each test file in its own fresh VM, one after another, reported as it goes.
import path from 'node:path';
import { RuntimeProfile } from '../../runtime/launch';
import { AppSource } from '../../runtime/app-source';
import { Logger } from '../../runtime/log';
import { Reporter, Totals } from './reporters';
import { runTestFile } from './run-file';

export interface RunTestsOptions {
  profile: RuntimeProfile;
  files: string[];
  /** Turns a file into runnable Lua (TypeScript is compiled). */
  load(file: string): AppSource;
  /** The app the in-process client talks to, loaded afresh for every file. */
  app?: () => AppSource;
  appName?: string;
  filter?: string;
  reporter: Reporter;
  log: Logger;
  cwd?: string;
}

export async function runTests(o: RunTestsOptions): Promise<Totals> {
  const start = performance.now();
  const totals: Totals = { passed: 0, failed: 0, skipped: 0, files: o.files.length, ms: 0 };
  for (const abs of o.files) {
    const file = path.relative(o.cwd ?? process.cwd(), abs) || path.basename(abs);
    let test: AppSource;
    let app: AppSource | undefined;
    try {
      test = o.load(abs);
      app = o.app?.();
    } catch (err) {
      totals.failed++;
      o.reporter.fileError(file, (err as Error).message);
      continue;
    }
    const run = await runTestFile({
      profile: o.profile, test, file, app, appName: o.appName, filter: o.filter, log: o.log,
      write: (bytes) => o.reporter.output(file, bytes.toString()),
      onReport: (f, r) => {
        if (r.status === 'pass') totals.passed++;
        else if (r.status === 'fail') totals.failed++;
        else totals.skipped++;
        o.reporter.test(f, r);
      },
    });
    if (run.loadError) {
      totals.failed++;
      o.reporter.fileError(file, run.loadError);
    }
  }
  totals.ms = Math.round(performance.now() - start);
  o.reporter.end(totals);
  return totals;
}
