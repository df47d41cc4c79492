// The one catalogue of coded errors. Every error a user can see from the CLI, the builder or
// the runtime's host side is listed here with its exit code; docs/errors.md documents each code
// and a test keeps the two equal.

export interface ErrorSpec {
  /** Process exit code when this error ends a CLI command. */
  exit: number;
  /** What the user should read first: a one-line summary of the kind of failure. */
  summary: string;
}

export const ERRORS = {
  REDOX_USAGE: { exit: 2, summary: 'the command line is invalid' },
  REDOX_UNKNOWN_FEATURE: { exit: 2, summary: 'a requested feature does not exist' },
  REDOX_UNKNOWN_DISTRO: { exit: 2, summary: 'a requested distro does not exist' },
  REDOX_CATALOGUE_INVALID: { exit: 2, summary: 'features.json or a distro file is malformed' },
  REDOX_FEATURE_INVALID: { exit: 2, summary: 'a feature folder does not follow the feature contract' },
  REDOX_APP_NOT_FOUND: { exit: 1, summary: 'the app file or module does not exist' },
  REDOX_APP_LOAD: { exit: 1, summary: 'the Lua app failed to load: a syntax error, an error while it ran, or it returned neither a router nor a handler' },
  REDOX_LUA_ERROR: { exit: 1, summary: 'a Lua script raised an uncaught error' },
  REDOX_FEATURE_INSTALL: { exit: 1, summary: 'a feature failed to start' },
  REDOX_PORT_IN_USE: { exit: 1, summary: 'the port is already taken' },
  REDOX_LISTEN: { exit: 1, summary: 'the server could not listen on the address' },
  REDOX_PROJECT_INVALID: { exit: 2, summary: 'redox.json is malformed' },
  REDOX_BUILD_NODE: { exit: 1, summary: 'the base Node binary cannot be used for a single executable' },
  REDOX_NODE_VERSION: { exit: 2, summary: '--node-version names no supported Node release (or none the registry has for the target)' },
  REDOX_BUILD_TARGET: { exit: 2, summary: '--target names no target the npm registry has a Node package for' },
  REDOX_NODE_DOWNLOAD: { exit: 1, summary: 'the base Node package could not be downloaded (registry unreachable and nothing cached)' },
  REDOX_NODE_INTEGRITY: { exit: 1, summary: 'the downloaded Node package does not match the registry\'s integrity checksum' },
  REDOX_BUILD_ADDON: { exit: 1, summary: 'a feature\'s native addon cannot be built for the base Node or target' },
  REDOX_BUILD_OUT: { exit: 1, summary: 'the output folder cannot be written' },
  REDOX_BUILD_CACHE: { exit: 1, summary: 'the build cache folder cannot be written' },
  REDOX_BUILD_BUNDLE: { exit: 1, summary: 'esbuild failed to bundle the runtime' },
  REDOX_BUILD_INJECT: { exit: 1, summary: 'the SEA blob could not be generated or injected' },
  REDOX_BUILD_SMOKE: { exit: 1, summary: 'the built binary failed its smoke test and was deleted' },
  REDOX_BUILD_BUDGET: { exit: 1, summary: 'a binary is larger than its distro size budget' },
  REDOX_ASSET_CACHE: { exit: 1, summary: 'a built binary cannot extract its wasm or native addons to the cache folder' },
  REDOX_COMPILE: { exit: 1, summary: 'TypeScript failed to compile to Lua' },
  REDOX_INIT_NOT_EMPTY: { exit: 1, summary: 'redox init refuses a non-empty directory' },
  REDOX_IMAGE: { exit: 1, summary: 'the container image could not be prepared or built' },
  REDOX_STATIC_DIR: { exit: 2, summary: 'the --static folder does not exist or is not a folder' },
  REDOX_TLS_FILE: { exit: 1, summary: 'a --tls-cert or --tls-key file cannot be read' },
  REDOX_TLS_INVALID: { exit: 1, summary: 'the TLS certificate or key is not valid PEM, or the key does not belong to the certificate' },
  REDOX_TEST_NOT_FOUND: { exit: 1, summary: 'redox test found no test files, or a path it was given does not exist' },
} as const satisfies Record<string, ErrorSpec>;

export type ErrorCode = keyof typeof ERRORS;

/** An error meant for a person: a code from the catalogue, a message that says what was wrong
 *  and a hint that says how to fix it. The CLI entry point prints it and exits with its code. */
export class RedoxError extends Error {
  readonly code: ErrorCode;
  readonly hint?: string;
  constructor(code: ErrorCode, message: string, hint?: string) {
    super(message);
    this.name = 'RedoxError';
    this.code = code;
    this.hint = hint;
  }
  get exitCode(): number {
    return ERRORS[this.code].exit;
  }
}

export function isRedoxError(err: unknown): err is RedoxError {
  return err instanceof RedoxError;
}
