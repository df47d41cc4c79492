// `redox init`: a new service from templates/<name>/, plus editor declarations in types/ (the
// .d.ts files for TypeScript; LuaLS ---@meta files rendered from the same .d.ts for Lua).
import fs from 'node:fs';
import path from 'node:path';
import { RedoxError } from '../errors';
import { projectRoot } from './catalogue/packages';
import { allDeclarations, coreDeclaration, featureDeclarations } from './typescript/declarations';
import { renderLuaMetaCached } from './typescript/luals-cache';
import { byName } from '../order';
import { makeDirs } from '../make-dirs';

export const TEMPLATES = ['lua', 'typescript'] as const;
export type TemplateName = (typeof TEMPLATES)[number];

export interface InitOptions {
  dir: string;
  template: string;
  force?: boolean;
  /** The redox version the CI workflow installs. */
  version: string;
  /** The npm package the `redox` command comes from. */
  packageName: string;
  /** What the CI workflow and README install (`npm install --global SPEC`): a registry
   *  version, a tarball or a git URL. Default: packageName@version. */
  install?: string;
}

/** Placeholders a template file may use. */
export interface TemplateValues {
  name: string;
  version: string;
  package: string;
  install: string;
}

export interface InitResult {
  dir: string;
  template: TemplateName;
  /** Files written, relative to dir, sorted. */
  files: string[];
}

/** Template names starting with "_" stand for dot-files (npm drops .gitignore from packages). */
function targetName(name: string): string {
  return name.startsWith('_') ? '.' + name.slice(1) : name;
}

function isText(file: string): boolean {
  return !/\.(png|ico|jpg|gif|woff2?)$/i.test(file);
}

export function projectName(dir: string): string {
  const base = path.basename(path.resolve(dir)).toLowerCase().replace(/[^a-z0-9-]+/g, '-').replace(/^-+|-+$/g, '');
  return base || 'service';
}

/** Every file `redox init` would write for this template: relative path -> content. */
export function renderTemplate(template: TemplateName, values: TemplateValues, root = projectRoot()): Map<string, string | Buffer> {
  const fill = (text: string) => text.replace(/\{\{(name|version|package|install)\}\}/g, (_, key: keyof TemplateValues) => values[key]);
  const files = new Map<string, string | Buffer>();
  const base = path.join(root, 'templates', template);
  const walk = (dir: string, rel: string) => {
    for (const entry of fs.readdirSync(dir, { withFileTypes: true }).sort(byName)) {
      const src = path.join(dir, entry.name);
      const out = rel ? `${rel}/${targetName(entry.name)}` : targetName(entry.name);
      if (entry.isDirectory()) walk(src, out);
      else if (isText(entry.name)) files.set(out, fill(fs.readFileSync(src, 'utf8')));
      else files.set(out, fs.readFileSync(src));
    }
  };
  walk(base, '');
  if (template === 'typescript') {
    for (const d of allDeclarations(root)) files.set(`types/${d.name}`, fs.readFileSync(d.path, 'utf8'));
  } else {
    const sources = [coreDeclaration(root), ...featureDeclarations(root)]
      .map((d) => ({ name: d.name, text: fs.readFileSync(d.path, 'utf8'), module: d.feature }));
    for (const meta of renderLuaMetaCached(sources)) files.set(`types/${meta.name}`, meta.text);
  }
  return files;
}

export function initProject(options: InitOptions): InitResult {
  if (!(TEMPLATES as readonly string[]).includes(options.template)) {
    throw new RedoxError('REDOX_USAGE', `unknown template "${options.template}"`, `choose one of: ${TEMPLATES.join(', ')}`);
  }
  const template = options.template as TemplateName;
  const dir = path.resolve(options.dir);
  if (fs.existsSync(dir)) {
    if (!fs.statSync(dir).isDirectory()) {
      throw new RedoxError('REDOX_INIT_NOT_EMPTY', `${options.dir} exists and is not a directory`, 'choose another path');
    }
    const present = fs.readdirSync(dir);
    if (present.length > 0 && !options.force) {
      throw new RedoxError('REDOX_INIT_NOT_EMPTY', `${options.dir} is not empty (${present.length} ${present.length === 1 ? 'entry' : 'entries'}, e.g. ${present.slice(0, 3).join(', ')})`,
        'choose a new or empty directory, or pass --force to write the template files over it (other files are kept)');
    }
  }
  const install = options.install ?? `${options.packageName}@${options.version}`;
  if (/\s/.test(install) || install === '') {
    throw new RedoxError('REDOX_USAGE', `--redox must be one npm install spec without spaces, got "${install}"`,
      `for example ${options.packageName}@${options.version}, ./redox-lua-${options.version}.tgz, https://host/redox-lua-${options.version}.tgz or git+https://host/owner/redox.git`);
  }
  const files = renderTemplate(template, { name: projectName(dir), version: options.version, package: options.packageName, install });
  try {
    for (const [rel, content] of files) {
      const out = path.join(dir, rel);
      makeDirs(path.dirname(out));
      fs.writeFileSync(out, content);
    }
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    throw new RedoxError('REDOX_BUILD_OUT', `cannot write the project to ${options.dir} (${dir}): ${e.code ?? e.message}`, 'choose a folder you can write to');
  }
  return { dir, template, files: [...files.keys()].sort() };
}
