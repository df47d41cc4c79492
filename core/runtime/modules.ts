// Where `require` finds an app's own Lua modules: files under the app folder, or the files
// embedded in a single executable. Names are dotted paths; nothing outside the root is reachable.
import fs from 'node:fs';
import path from 'node:path';

export interface ModuleFile {
  source: Buffer;
  /** Path relative to the app root, used as the chunk name in errors ("lib/util.lua:3: ..."). */
  chunkName: string;
}

export interface ModuleSource {
  readonly root: string;
  /** The module, or a message saying where it was looked for. */
  read(name: string): ModuleFile | string;
}

const MODULE_NAME = /^[A-Za-z_][\w-]*(\.[A-Za-z_][\w-]*)*$/;

function candidates(name: string): string[] {
  const rel = name.split('.').join('/');
  return [`${rel}.lua`, `${rel}/init.lua`];
}

function badName(name: string): string {
  return `module '${name}' not found: module names are dotted paths inside the app folder (require("lib.util") loads lib/util.lua)`;
}

export class FileModules implements ModuleSource {
  readonly root: string;
  constructor(root: string) {
    this.root = fs.realpathSync(root);
  }
  read(name: string): ModuleFile | string {
    if (!MODULE_NAME.test(name)) return badName(name);
    const tried: string[] = [];
    for (const rel of candidates(name)) {
      const file = path.join(this.root, rel);
      tried.push(rel);
      let real: string;
      try {
        real = fs.realpathSync(file);
      } catch {
        continue;
      }
      // A symlink must not lead out of the app folder.
      if (real !== this.root && !real.startsWith(this.root + path.sep)) continue;
      return { source: fs.readFileSync(real), chunkName: rel };
    }
    return `module '${name}' not found (looked for ${tried.join(', ')} in ${this.root})`;
  }
}

/** Modules carried inside a built binary: relative path -> source. */
export class EmbeddedModules implements ModuleSource {
  readonly root = '(embedded app)';
  constructor(private readonly files: Record<string, string>) {}
  read(name: string): ModuleFile | string {
    if (!MODULE_NAME.test(name)) return badName(name);
    for (const rel of candidates(name)) {
      const src = this.files[rel];
      if (src !== undefined) return { source: Buffer.from(src, 'utf8'), chunkName: rel };
    }
    return `module '${name}' not found in the embedded app (looked for ${candidates(name).join(', ')})`;
  }
}
