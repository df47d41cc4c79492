-- luacheck settings for every Lua source in the repository. test/lua-lint.test.ts extracts the
-- Lua held in TypeScript (the *.lua.ts constants and strings marked /* lua */) to files named
-- after their TypeScript file, so the `files` patterns below name the TypeScript paths.

std = "lua54"
max_line_length = false -- the TypeScript style allows long lines; Lua follows it
unused_args = false     -- handlers and callbacks take arguments they may not need

-- One global per feature: test/lua-lint.test.ts appends the names (features.json and each
-- feature's extraModules) to its copy of this file, so adding a feature touches nothing here.
stds.redox_features = { read_globals = {} }
-- What an app sees: core's modules as globals (json, redox, log), print, the global route
-- functions of http.install_globals, and the features.
stds.redox_app = {
  read_globals = { "redox", "json", "log", "logger", "get", "post", "put", "patch", "delete", "options", "head", "all", "use" },
}
-- `redox test` files: the test library's globals (core/tooling/testing/test-module.ts), added to the
-- std of their folder (a second `std` would replace it).
local test_globals = { "t", "test", "describe", "it", "before_each", "after_each" }

-- Apps, fixtures and templates.
files["templates"] = { std = "lua54+redox_app+redox_features" }
files["test/fixtures"] = { std = "lua54+redox_app+redox_features" }
files["features/*/fixtures"] = { std = "lua54+redox_app+redox_features" }
files["**/*_test.lua"] = { read_globals = test_globals }
files["**/*.test.lua"] = { read_globals = test_globals }
-- README examples (```lua blocks): apps and test files.
files["docs"] = { std = "lua54+redox_app+redox_features", read_globals = test_globals }
files["features/*/README"] = { std = "lua54+redox_app+redox_features", read_globals = test_globals }
files["README"] = { std = "lua54+redox_app+redox_features", read_globals = test_globals }

-- Core chunks that build the sandbox replace standard globals on purpose.
files["core/lua/prelude"] = {
  globals = { "os", "debug", "string", "dofile", "loadfile", "load", "collectgarbage", "print", "coroutine", "package", "require" },
}
files["core/lua/boot"] = { globals = { "print" } }
files["core/lua/alloc-check"] = { globals = { "string", "table" } } -- wraps string.rep (and table.concat)
-- The heap calibration keeps its garbage in a global so it survives between the two calls.
files["core/lua/vm.ts"] = { globals = { "KEEP" } }
