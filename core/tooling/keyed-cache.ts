// A folder of JSON entries named by a content key, for results that only save time (compiled
// TypeScript, rendered LuaLS annotations): written atomically, the oldest pruned past a limit,
// and any failure to read or write means "compute it again", never an error.
import fs from 'node:fs';
import path from 'node:path';
import { writeAtomic } from './write-atomic';

export class KeyedCache<T> {
  constructor(
    private readonly dir: string,
    private readonly maxEntries: number,
    /** Whether what was read is a complete entry (a file from another version may not be). */
    private readonly valid: (entry: unknown) => entry is T,
  ) {}

  read(key: string): T | null {
    try {
      const entry: unknown = JSON.parse(fs.readFileSync(path.join(this.dir, `${key}.json`), 'utf8'));
      return this.valid(entry) ? entry : null;
    } catch {
      return null;
    }
  }

  write(key: string, entry: T): void {
    try {
      writeAtomic(path.join(this.dir, `${key}.json`), JSON.stringify(entry), { mkdir: true });
      this.prune();
    } catch {
      // read-only or full disk: computed every time
    }
  }

  private prune(): void {
    const names = fs.readdirSync(this.dir).filter((n) => n.endsWith('.json'));
    if (names.length <= this.maxEntries) return;
    const byAge = names.map((n) => ({ n, t: fs.statSync(path.join(this.dir, n)).mtimeMs })).sort((a, b) => a.t - b.t);
    for (const { n } of byAge.slice(0, names.length - this.maxEntries)) fs.rmSync(path.join(this.dir, n), { force: true });
  }
}
