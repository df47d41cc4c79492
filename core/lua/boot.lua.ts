// The last core chunk to run at boot: registers the core modules in package.preload (they
// require one another by name), builds the modules apps see (json, redox, log, print, the
// global route functions), and returns the host's entry points.
export const BOOT_LUA = String.raw`
local host, internal, modules = ...
internal.preload(modules)
local json = require("redox.core.json")
local router = require("redox.core.router")
local response = require("redox.core.response")
local http = require("redox.core.http")
internal.provide("json", json)
internal.provide("redox", {
  router = router.router, abort = response.abort, sleep = host.sleep, now = host.now, env = host.env,
  version = host.version, features = host.features, null = json.null,
})
local log = {}
for _, level in ipairs({ "debug", "info", "warn", "error" }) do
  log[level] = function(msg, fields)
    if fields ~= nil and type(fields) ~= "table" then error("log." .. level .. ": fields must be a table, got " .. type(fields), 2) end
    host.log(level, tostring(msg), fields)
  end
end
internal.provide("log", log)
print = function(...)
  local n, parts = select("#", ...), {}
  for i = 1, n do parts[i] = tostring((select(i, ...))) end
  host.write(table.concat(parts, "\t") .. "\n")
end
http.install_globals()
function internal.install_feature(name, chunk, fns)
  local mod = fns
  if chunk then mod = chunk(fns) end
  internal.provide(name, mod)
end
return http.run, http.load_app, internal.install_feature
`;
