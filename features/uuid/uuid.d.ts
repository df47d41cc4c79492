// TypeScriptToLua declarations for the `uuid` feature: the global `uuid` and require("uuid").
// All functions are free functions, called with "." (this: void).

interface UuidModule {
  /** A random UUID (version 4), lower-case canonical form. */
  v4(this: void): string;
  /** A time-ordered UUID (version 7): later calls sort after earlier ones, even within one ms. */
  v7(this: void): string;
  /** True when s is a UUID in canonical 8-4-4-4-12 form (either case), including nil and max. */
  validate(this: void, s: unknown): boolean;
  /** The version number (1-8; 0 for the nil UUID, 15 for max), or undefined (nil) when s is not a UUID. */
  version(this: void, s: unknown): number | undefined;
}

declare const uuid: UuidModule;

declare module 'uuid' {
  const uuid: UuidModule;
  export = uuid;
}
