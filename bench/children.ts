// Every child the bench starts (servers, wrk), killed with its descendants when the bench exits
// or is interrupted, so an aborted run leaves nothing behind.
import { ChildProcess } from 'node:child_process';
import { descendants } from './machine';

const live = new Set<ChildProcess>();

export function track(child: ChildProcess): void {
  live.add(child);
  child.once('exit', () => live.delete(child));
}

function killAll(): void {
  for (const c of live) {
    if (c.pid === undefined) continue;
    for (const pid of [...descendants(c.pid), c.pid]) {
      try { process.kill(pid, 'SIGKILL'); } catch { /* already gone */ }
    }
  }
}

process.on('exit', killAll);
for (const [sig, code] of [['SIGINT', 130], ['SIGTERM', 143], ['SIGHUP', 129]] as const) {
  process.once(sig, () => {
    process.stderr.write(`\nbench interrupted (${sig}); stopping its servers\n`);
    process.exit(code); // the 'exit' handlers kill the children and remove the scratch folder
  });
}
