// Every key the runtime keeps in the Lua registry, in one place: the host and the core Lua
// modules reach shared values through these names (Lua code cannot read the registry).
export const REGISTRY = {
  /** Metatable that marks a table as a JSON array (json.array). */
  arrayMt: 'redox.array_mt',
  /** Metatable of the error values host functions return as `nil, err`. */
  errorMt: 'redox.error_mt',
  /** The json.null sentinel. */
  jsonNull: 'redox.json_null',
  /** The original collectgarbage, which the app cannot replace. */
  collect: 'redox.collect',
  /** The standard library's coroutine.resume (the budget finds resumed coroutines by it). */
  coresume: 'redox.coresume',
} as const;

export type RegistryKey = (typeof REGISTRY)[keyof typeof REGISTRY];
