// What a built binary carries beside its bundle: the SEA asset keys and the build info it reads
// at startup. Shared by the builder and cli/binary-main.ts, so it imports nothing.

export const MANIFEST_ASSET = 'redox/manifest.json';
export const WASM_ASSET = 'redox/glue.wasm';
export const APP_ASSET = 'redox/app.json';
/** Bytecode of the core and feature Lua chunks (core/lua/chunks.ts), made at build time. */
export const LUA_CHUNKS_ASSET = 'redox/lua-chunks.json';
/** Static files built in with --static: where each file is, and the bytes. */
export const STATIC_INDEX_ASSET = 'redox/static/index.json';
export const STATIC_DATA_ASSET = 'redox/static/data';
/** Key of a feature asset (features.json "assets"), e.g. better_sqlite3.node. */
export const featureAssetKey = (name: string) => `redox/assets/${name}`;

export interface EmbeddedAsset {
  sha256: string;
  bytes: number;
}

/** The manifest inside the binary. Nothing here depends on where or when it was built, so
 *  the same inputs give the same bytes. */
export interface BuildInfo {
  name: string;
  /** The redox version the binary was built from. */
  redox: string;
  distro: string | null;
  features: string[];
  /** Every feature that existed at build time (built-in and local), for "not included" errors. */
  catalogue: string[];
  /** Base Node binary: version (v20.20.2), platform and arch. */
  node: { version: string; platform: string; arch: string };
  /** npm packages whose code or files are in the binary, with their versions. */
  packages: Record<string, string>;
  /** SEA assets by key. */
  assets: Record<string, EmbeddedAsset>;
  /** The embedded app, when built with --app. */
  app: { main: string; attr: string | null; files: string[] } | null;
  /** Static files embedded with --static (absent in binaries built before it existed). */
  static?: { files: number; bytes: number } | null;
}

/** The embedded app's Lua files (APP_ASSET). */
export interface EmbeddedApp {
  main: string;
  attr: string | null;
  files: Record<string, string>;
}
