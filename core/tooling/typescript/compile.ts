// TypeScript -> Lua for Redox apps, with TypeScriptToLua (build and development time only: no
// distro binary contains this). An app and its local imports become one Lua file whose line
// numbers are the TypeScript ones (see printer.ts), so runtime errors point at app.ts.
import fs from 'node:fs';
import path from 'node:path';
import * as ts from 'typescript';
import * as tstl from 'typescript-to-lua';
import { RedoxError } from '../../errors';
import { allDeclarations, runtimeModuleNames } from './declarations';
import { redoxPlugin } from './plugin';
import { LuaModule, renderBundle } from './bundle';
import { adaptLualib, MODULE_PREFIX, SUPPORT_LUA } from './support.lua';

export interface CompiledApp {
  /** One Lua file: support code, lualib and every module; returns the app. */
  lua: string;
  /** The TypeScript files that went into it (absolute paths). */
  files: string[];
  /** Each compiled module, for tools that want them separately. */
  modules: LuaModule[];
  /** For a faster recompile of the same app (`redox dev`); absent when it came from the
   *  compile cache (compile-cache.ts). */
  program?: ts.Program;
  /** True when it came from the compile cache. */
  cached?: boolean;
}

export interface CompileOptions {
  /** The previous compile of this app: unchanged files are not parsed again. */
  previous?: CompiledApp;
  /** Where file names in messages are relative to (default: the current folder). */
  cwd?: string;
}

/** The compiler options Redox compiles with; a project's tsconfig.json is for its editor and
 *  `redox init` writes one with the same settings. */
export function compilerOptions(rootDir: string): tstl.CompilerOptions {
  return {
    target: ts.ScriptTarget.ESNext,
    module: ts.ModuleKind.ESNext,
    moduleResolution: ts.ModuleResolutionKind.Bundler,
    lib: ['lib.esnext.d.ts'],
    types: [],
    strict: true,
    skipDefaultLibCheck: true,
    rootDir,
    outDir: rootDir,
    luaTarget: tstl.LuaTarget.Lua54,
    luaLibImport: tstl.LuaLibImportKind.RequireMinimal,
    noImplicitSelf: true,
    noHeader: true,
    noResolvePaths: runtimeModuleNames(),
    luaPlugins: [{ plugin: redoxPlugin() }],
  };
}

/** TypeScript's own lib files and Redox's declarations, parsed once per process: they are most
 *  of what a compile parses, the same for every app (the second of two compiles in one
 *  process: about 0.42 CPU s without them kept, 0.11 with, side by side). Only the app's own files are read again; a declaration
 *  is parsed again when its mtime changes. */
const libraryFiles = new Map<string, { mtimeMs: number; file: ts.SourceFile }>();

function sharedLibraryHost(options: ts.CompilerOptions, declarationFiles: string[]): ts.CompilerHost {
  const host = ts.createCompilerHost(options);
  const libDir = path.dirname(ts.getDefaultLibFilePath(options)) + path.sep;
  const declarations = new Set(declarationFiles);
  const getSourceFile = host.getSourceFile.bind(host);
  host.getSourceFile = (fileName, languageVersion, onError, shouldCreate) => {
    const resolved = path.resolve(fileName);
    const isLib = resolved.startsWith(libDir);
    if (!isLib && !declarations.has(resolved)) return getSourceFile(fileName, languageVersion, onError, shouldCreate);
    // TypeScript's own lib files do not change while a process runs; a declaration may.
    const mtimeMs = isLib ? 0 : fs.statSync(resolved, { throwIfNoEntry: false })?.mtimeMs ?? -1;
    const key = `${JSON.stringify(languageVersion)} ${resolved}`;
    const kept = libraryFiles.get(key);
    if (kept && kept.mtimeMs === mtimeMs) return kept.file;
    const file = getSourceFile(fileName, languageVersion, onError, shouldCreate);
    if (file) libraryFiles.set(key, { mtimeMs, file });
    return file;
  };
  return host;
}

const toolVersion = () => `TypeScriptToLua ${tstl.version}, TypeScript ${ts.version}`;

/** Compiles `file` and its local imports. Type errors throw REDOX_COMPILE with file:line:col. */
export function compileApp(file: string, options: CompileOptions = {}): CompiledApp {
  const entry = path.resolve(file);
  if (!fs.existsSync(entry) || !fs.statSync(entry).isFile()) {
    throw new RedoxError('REDOX_APP_NOT_FOUND', `app file ${file} not found (looked in ${path.dirname(entry)})`,
      'check the path, or create a TypeScript app with `redox init <dir> --template typescript`');
  }
  const rootDir = path.dirname(entry);
  const compilerOpts = compilerOptions(rootDir);
  const declarations = allDeclarations().map((d) => path.resolve(d.path));
  const program = ts.createProgram({
    rootNames: [entry, ...declarations],
    options: compilerOpts,
    host: sharedLibraryHost(compilerOpts, declarations),
    oldProgram: options.previous?.program,
  });
  const outputs = new Map<string, { code: string; sources: readonly ts.SourceFile[] }>();
  const emitted = new tstl.Transpiler().emit({
    program,
    writeFile: (name, code, _bom, _onError, sources) => outputs.set(path.resolve(name), { code, sources: sources ?? [] }),
  });
  const errors = [...ts.getPreEmitDiagnostics(program), ...emitted.diagnostics]
    .filter((d) => d.category === ts.DiagnosticCategory.Error);
  if (errors.length > 0) {
    const cwd = options.cwd ?? process.cwd();
    const shown = ts.sortAndDeduplicateDiagnostics(errors).map((d) => formatDiagnostic(d, cwd));
    throw new RedoxError('REDOX_COMPILE',
      `${path.relative(cwd, entry) || entry} has ${errors.length === 1 ? 'an error' : `${errors.length} errors`}:\n${shown.join('\n')}`,
      'fix the errors above; the Redox API is declared in the types/ folder that `redox init` creates');
  }

  const reserved = new Set(runtimeModuleNames());
  const modules: LuaModule[] = [{ name: 'redox_ts', chunkName: '[redox ts]', source: SUPPORT_LUA }];
  let main: LuaModule | undefined;
  const files: string[] = [];
  for (const [outPath, { code, sources }] of outputs) {
    if (!outPath.endsWith('.lua')) continue;
    const rel = path.relative(rootDir, outPath).split(path.sep).join('/');
    const name = rel.replace(/\.lua$/, '').replace(/\//g, '.');
    if (rel === 'lualib_bundle.lua') {
      modules.push({ name, chunkName: '[lualib]', source: adaptLualib(code) });
      continue;
    }
    const source = sources[0]?.fileName ? path.resolve(sources[0].fileName) : path.join(rootDir, rel.replace(/\.lua$/, '.ts'));
    if (reserved.has(name)) {
      throw new RedoxError('REDOX_COMPILE', `${path.relative(options.cwd ?? process.cwd(), source)} would be module "${name}", which is a Redox module (${name} is built in)`,
        `rename the file: require("${name}") always gives the built-in module`);
    }
    files.push(source);
    const mod = { name, chunkName: path.relative(rootDir, source).split(path.sep).join('/'), source: MODULE_PREFIX + code };
    if (source === entry) main = mod;
    else modules.push(mod);
  }
  if (!main) throw new RedoxError('REDOX_COMPILE', `TypeScriptToLua produced no Lua for ${file}`, 'is it a declaration (.d.ts) file?');
  const header = `${main.chunkName} compiled to Lua by redox (${toolVersion()}).\n` +
    'Do not edit: change the TypeScript and compile again. Line N of each module is line N of its .ts file.';
  return { lua: renderBundle({ header, modules, main }), files, modules: [...modules, main], program };
}

/** "app.ts:3:7 - error TS2322: Type 'number' is not assignable to type 'string'." */
export function formatDiagnostic(d: ts.Diagnostic, cwd: string): string {
  const text = ts.flattenDiagnosticMessageText(d.messageText, '\n  ');
  const code = d.source === 'typescript-to-lua' ? 'TSTL' : `TS${d.code}`;
  if (!d.file || d.start === undefined) return `error ${code}: ${text}`;
  const { line, character } = d.file.getLineAndCharacterOfPosition(d.start);
  const name = path.relative(cwd, d.file.fileName) || d.file.fileName;
  return `${name}:${line + 1}:${character + 1} - error ${code}: ${text}`;
}
