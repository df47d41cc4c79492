// The Lua side of the runtime: sandboxing of the standard library, coroutine wrappers that let
// host waits cross user coroutines, `require`, the error value convention, and the core
// modules' Lua parts. Runs once per VM, before any feature or app code.
export const PRELUDE_LUA = String.raw`
local host = ...
local SENTINEL = host.sentinel
local traceback = debug.traceback
local raw_load = load
local co_create, co_resume, co_yield, co_status = coroutine.create, coroutine.resume, coroutine.yield, coroutine.status
host.set_registry(host.keys.coresume, co_resume)

-- Expected failures are returned as nil, err where err is one of these.
local error_mt = {__name = "redox.error"}
error_mt.__index = error_mt
error_mt.__tostring = function(e)
  if e.code then return tostring(e.code) .. ": " .. tostring(e.message) end
  return tostring(e.message)
end
-- "failed: " .. err works as with lua-resty-* string errors.
error_mt.__concat = function(a, b) return tostring(a) .. tostring(b) end
host.set_registry(host.keys.errorMt, error_mt)
local array_mt = {__name = "json.array"}
host.set_registry(host.keys.arrayMt, array_mt)

-- Sandbox: Lua reaches the host only through features. No files, processes, environment,
-- native libraries or bytecode.
os = { time = os.time, clock = os.clock, date = os.date, difftime = os.difftime }
debug = { traceback = traceback }
string.dump = nil
dofile, loadfile = nil, nil
-- load answers as stock Lua does (nil, message) but never loads bytecode: whatever the mode,
-- the chunk is loaded as text, after peeking at its first byte to give stock Lua's messages.
function load(chunk, chunkname, mode, env)
  mode = mode == nil and "bt" or mode
  if type(mode) ~= "string" then error("bad argument #3 to 'load' (string expected, got " .. type(mode) .. ")", 2) end
  local first, reader = chunk, chunk
  if type(chunk) == "function" then
    local piece = chunk()
    first, reader = piece or "", function()
      if piece == nil then return chunk() end
      local p = piece
      piece = nil
      return p
    end
  elseif type(chunk) ~= "string" then
    error("bad argument #1 to 'load' (string expected, got " .. type(chunk) .. ")", 2)
  end
  if type(first) == "string" and first:byte(1) == 27 then
    return nil, "attempt to load a binary chunk (bytecode is not allowed in redox)"
  end
  if not mode:find("t", 1, true) then return nil, "attempt to load a text chunk (mode is '" .. mode .. "')" end
  if env ~= nil then return raw_load(reader, chunkname, "t", env) end
  return raw_load(reader, chunkname, "t")
end
math.randomseed(host.random_seed())
local raw_collectgarbage = collectgarbage
host.set_registry(host.keys.collect, raw_collectgarbage)
local gc_allowed = { collect = true, count = true, step = true, isrunning = true }
function collectgarbage(opt, ...)
  opt = opt or "collect"
  if not gc_allowed[opt] then error("collectgarbage('" .. tostring(opt) .. "') is not allowed; use collect, count, step or isrunning", 2) end
  return raw_collectgarbage(opt, ...)
end
print = host.print

-- A host wait inside a user coroutine yields to that coroutine's resumer. These wrappers pass
-- such yields up to the runtime's driver and hand the result back down.
local function relay(co, ok, ...)
  if ok and (...) == SENTINEL and select("#", ...) == 1 and co_status(co) == "suspended" then
    return relay(co, co_resume(co, co_yield(SENTINEL)))
  end
  return ok, ...
end
function coroutine.resume(co, ...)
  return relay(co, co_resume(co, ...))
end
-- Every chunk runs in a coroutine made by the host's driver. Like stock Lua, report that as the
-- main thread: only coroutines made by Lua code are "not main".
local user_threads = setmetatable({}, { __mode = "k" })
local co_running = coroutine.running
function coroutine.create(f)
  local co = co_create(f)
  user_threads[co] = true
  return co
end
function coroutine.running()
  local co = co_running()
  return co, not user_threads[co]
end
local function unwrap(ok, ...)
  if not ok then error((...), 0) end
  return ...
end
function coroutine.wrap(f)
  local co = coroutine.create(f)
  return function(...) return unwrap(relay(co, co_resume(co, ...))) end
end

-- Modules: the app's own files (through the host, confined to the app folder), the core
-- modules and the features of this build.
local loaded, preload, loading = {}, {}, {}
package = { loaded = loaded, preload = preload }
for _, name in ipairs({ "string", "table", "math", "utf8", "coroutine", "os", "debug" }) do loaded[name] = _G[name] end
loaded._G = _G

function require(name)
  if type(name) ~= "string" then error("bad argument #1 to 'require' (string expected, got " .. type(name) .. ")", 2) end
  local m = loaded[name]
  if m ~= nil then return m end
  if loading[name] then error("module '" .. name .. "' is required again while it loads (circular require)", 2) end
  local loader, extra = preload[name], nil
  if loader == nil then
    local missing = host.missing_feature(name)
    if missing then error(missing, 2) end
    local src, chunkname = host.read_module(name)
    if src == nil then error(chunkname, 2) end
    local fn, err = raw_load(src, "@" .. chunkname, "t")
    if not fn then error(err, 0) end
    loader, extra = fn, chunkname
  end
  loading[name] = true
  local result = loader(name, extra)
  loading[name] = nil
  if result == nil then result = loaded[name] or true end
  loaded[name] = result
  return result
end

-- Reading a global named after a feature that this build lacks says so, instead of
-- "attempt to index a nil value".
setmetatable(_G, { __index = function(_, key)
  if type(key) == "string" then
    local missing = host.missing_feature(key)
    if missing then error(missing, 2) end
  end
end })

local internal = {}

--- Registers core modules (name -> compiled chunk) in package.preload, so they require one
--- another by name. Each chunk receives the host and internal tables, which no app reaches.
function internal.preload(modules)
  for name, chunk in pairs(modules) do
    preload[name] = function() return chunk(host, internal) end
  end
end

--- Makes a module available as require(name) and as the global of the same name.
function internal.provide(name, value)
  loaded[name] = value
  rawset(_G, name, value)
end

internal.error_mt = error_mt
internal.array_mt = array_mt
internal.traceback = traceback
return internal
`;
