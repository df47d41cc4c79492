// Packages that a dependency require()s inside try/catch and that are not installed (debug's
// `supports-color`, pg's `pg-native`). esbuild would leave such a require() external; inside
// a single executable, Node's require then prints a warning about loading modules from disk at
// every start. Resolve them to a module that throws MODULE_NOT_FOUND, as Node would, so the
// try/catch takes its fallback silently.
import type { Plugin } from 'esbuild';

const NAMESPACE = 'redox-missing';
const RETRY = Symbol('optional-requires');

export function optionalRequires(): Plugin {
  return {
    name: 'optional-requires',
    setup(build) {
      build.onResolve({ filter: /^[^./]/ }, async (args) => {
        if (args.kind !== 'require-call' || args.pluginData === RETRY || args.path.startsWith('node:')) return undefined;
        const found = await build.resolve(args.path, { kind: args.kind, resolveDir: args.resolveDir, importer: args.importer, pluginData: RETRY });
        if (found.errors.length === 0) return { path: found.path, external: found.external, namespace: found.namespace, sideEffects: found.sideEffects };
        return { path: args.path, namespace: NAMESPACE };
      });
      build.onLoad({ filter: /.*/, namespace: NAMESPACE }, (args) => ({
        contents: `throw Object.assign(new Error(${JSON.stringify(`Cannot find module '${args.path}' (not installed when this binary was built)`)}), { code: 'MODULE_NOT_FOUND' });`,
        loader: 'js',
      }));
    },
  };
}
