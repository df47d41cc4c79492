// Runs one test file in a fresh VM: the profile's features, the test library, the app (when
// there is one) and then the file; its tests run after the whole file has loaded.
import path from 'node:path';
import { RuntimeProfile } from '../../runtime/launch';
import { AppSource } from '../../runtime/app-source';
import { ModuleFile, ModuleSource } from '../../runtime/modules';
import { Logger } from '../../runtime/log';
import { luaErrorText, openTestVM, TestVM } from './engine-adapter';
import { TEST_LIBRARY_LUA, testHostFunctions, TestReport } from './test-module';

export interface FileRun {
  /** The test file as shown in reports (relative to the current folder). */
  file: string;
  reports: TestReport[];
  /** Set when the file (or the app) failed before its tests could run. */
  loadError?: string;
}

export interface RunFileOptions {
  profile: RuntimeProfile;
  /** The test file, compiled when it is TypeScript. */
  test: AppSource;
  file: string;
  /** The app the in-process client talks to; absent for pure unit tests. */
  app?: AppSource;
  appName?: string;
  filter?: string;
  log: Logger;
  write: (bytes: Buffer) => void;
  onReport(file: string, r: TestReport): void;
  requestTimeoutMs?: number;
}

/** `require` looks in the app's folder first, then beside the test file. */
class ChainedModules implements ModuleSource {
  readonly root: string;
  constructor(private readonly sources: ModuleSource[]) {
    this.root = sources.map((s) => s.root).join(', ');
  }
  read(name: string): ModuleFile | string {
    const misses: string[] = [];
    for (const s of this.sources) {
      const found = s.read(name);
      if (typeof found !== 'string') return found;
      misses.push(found);
    }
    return misses.join('; ');
  }
}

const RUNNER: ModuleFile = { source: Buffer.from('return t._run(...)'), chunkName: '[redox test]' };

export async function runTestFile(o: RunFileOptions): Promise<FileRun> {
  const run: FileRun = { file: o.file, reports: [] };
  const report = (r: TestReport) => {
    run.reports.push(r);
    o.onReport(o.file, r);
  };
  const sources = o.app && o.app.modules.root !== o.test.modules.root ? [o.app.modules, o.test.modules] : [o.test.modules];
  let vm: TestVM | undefined;
  let appLoaded = false;
  const hooks = {
    dispatch: (req: Parameters<TestVM['dispatch']>[0]) => {
      if (!appLoaded) {
        throw new Error('no app to send requests to: pass --app app.lua, set "app" in redox.json, or keep the app in app.lua (or app.ts) beside the tests');
      }
      return vm!.dispatch(req);
    },
    report,
  };
  try {
    vm = await openTestVM({
      profile: o.profile, library: { lua: TEST_LIBRARY_LUA, chunkName: '[t]', functions: testHostFunctions(hooks) }, modules: new ChainedModules(sources), log: o.log, write: o.write,
      requestTimeoutMs: o.requestTimeoutMs ?? 30_000,
    });
  } catch (err) {
    run.loadError = `cannot start a VM: ${(err as Error).message}`;
    return run;
  }
  try {
    if (o.app) {
      try {
        await vm.loadApp(o.app.main, o.app.attr);
        appLoaded = true;
      } catch (err) {
        run.loadError = `the app ${o.appName ?? o.app.main.chunkName} failed to load: ${(err as Error).message}`;
        return run;
      }
    }
    try {
      await vm.run(o.test.main, []);
    } catch (err) {
      run.loadError = `${path.basename(o.file)} failed while loading (before its tests ran): ${luaErrorText(err)}`;
      return run;
    }
    try {
      await vm.run(RUNNER, o.filter ? [o.filter] : []);
    } catch (err) {
      run.loadError = `the test runner failed: ${luaErrorText(err)}`;
    }
    return run;
  } finally {
    await vm.close();
  }
}
