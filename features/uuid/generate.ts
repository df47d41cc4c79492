// The uuid package's functions this feature exposes, in a module of their own so index.ts can
// require it at install (the CLI loads index.ts for every process) and the bundler can still
// tree-shake the package's ESM build down to these four.
export { v4, v7, validate, version } from 'uuid';
