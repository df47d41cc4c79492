// The router as apps build it (redox.router(), app:get(...)). Apps without middleware are routed
// on the host (core/runtime/routes.ts mirrors match() below, from the list in _routes); apps
// with middleware run the chain and match() here, in Lua.
export const ROUTER_LUA = String.raw`
local response = require("redox.core.response")
local M = {}
local Router = {}
Router.__index = Router
Router.__name = "redox.router"

local METHODS = { "GET", "POST", "PUT", "PATCH", "DELETE", "OPTIONS", "HEAD" }

local function split_path(path)
  local parts, n = {}, 0
  for seg in path:gmatch("[^/]+") do n = n + 1; parts[n] = seg end
  return parts, n
end

local byte = string.byte
local function trim_slash(path)
  if byte(path, -1) == 47 and #path > 1 then return (path:gsub("/+$", "")) end
  return path
end

local function url_decode(s)
  if not s:find("%", 1, true) then return s end
  return (s:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end
M.url_decode = url_decode

local function compile(path)
  if type(path) ~= "string" or path:sub(1, 1) ~= "/" then
    error("route path must be a string starting with '/', got " .. (type(path) == "string" and ("'" .. path .. "'") or type(path)), 3)
  end
  local segs, dynamic = {}, false
  local parts, n = split_path(path)
  for i = 1, n do
    local seg = parts[i]
    local first = seg:sub(1, 1)
    if first == ":" then
      if #seg < 2 then error("route '" .. path .. "': a parameter needs a name (':id')", 3) end
      segs[i] = { param = seg:sub(2) }
      dynamic = true
    elseif first == "*" then
      if i ~= n then error("route '" .. path .. "': '*' must be the last segment", 3) end
      segs[i] = { splat = #seg > 1 and seg:sub(2) or "*" }
      dynamic = true
    else
      segs[i] = { lit = seg }
    end
  end
  return segs, dynamic
end

function M.router()
  return setmetatable({ _static = {}, _dynamic = {}, _middleware = {}, _routes = {} }, Router)
end

function M.is_router(v)
  return getmetatable(v) == Router
end

local function is_callable(fn)
  if type(fn) == "function" then return true end
  local mt = getmetatable(fn)
  return mt ~= nil and mt.__call ~= nil
end

function Router:route(method, path, fn)
  if not is_callable(fn) then error("handler for " .. method .. " " .. tostring(path) .. " must be a function, got " .. type(fn), 3) end
  local segs, dynamic = compile(path)
  if dynamic then
    local list = self._dynamic
    list[#list + 1] = { segs = segs, n = #segs, method = method, fn = fn }
  else
    local key = trim_slash(path)
    local entry = self._static[key]
    if not entry then entry = {}; self._static[key] = entry end
    entry[method] = fn
  end
  local routes = self._routes
  routes[#routes + 1] = { method, path, fn }
  -- Routes added after the app was loaded reach the host's copy too.
  if self._on_change then self._on_change(self) end
  return self
end

for _, m in ipairs(METHODS) do
  Router[m:lower()] = function(self, path, fn) return Router.route(self, m, path, fn) end
end
function Router:all(path, fn) return Router.route(self, "*", path, fn) end

--- Adds middleware: function(req, next) ... return next() end
function Router:use(fn)
  if not is_callable(fn) then error("middleware must be a function(req, next), got " .. type(fn), 2) end
  local list = self._middleware
  list[#list + 1] = fn
  if self._on_change then self._on_change(self) end
  return self
end

local function match_segs(segs, nsegs, parts, nparts)
  local params
  for i = 1, nsegs do
    local s = segs[i]
    if s.splat then
      params = params or {}
      params[s.splat] = table.concat(parts, "/", i, nparts)
      return params
    end
    local p = parts[i]
    if p == nil then return nil end
    if s.lit then
      if s.lit ~= p then return nil end
    else
      params = params or {}
      params[s.param] = url_decode(p)
    end
  end
  if nparts ~= nsegs then return nil end
  return params or {}
end

local function pick(entry, method)
  return entry[method] or entry["*"] or (method == "HEAD" and entry.GET) or nil
end

local function add_allowed(allowed, entry_method)
  if entry_method == "*" then
    for _, m in ipairs(METHODS) do allowed[m] = true end
  else
    allowed[entry_method] = true
    if entry_method == "GET" then allowed.HEAD = true end
  end
end

--- Finds the handler for method and path. Returns fn, params; or nil, nil, allowed (a set of
--- methods) when the path exists for other methods; or nil when nothing matches.
function Router:match(method, path)
  local p = trim_slash(path)
  local allowed
  local entry = self._static[p]
  if entry then
    local fn = pick(entry, method)
    if fn then return fn, {} end
    allowed = {}
    for m in pairs(entry) do add_allowed(allowed, m) end
  end
  local dyn = self._dynamic
  if #dyn > 0 then
    local parts, nparts = split_path(p)
    for i = 1, #dyn do
      local r = dyn[i]
      local params = match_segs(r.segs, r.n, parts, nparts)
      if params then
        local rm = r.method
        if rm == method or rm == "*" or (method == "HEAD" and rm == "GET") then return r.fn, params end
        allowed = allowed or {}
        add_allowed(allowed, rm)
      end
    end
  end
  return nil, nil, allowed
end

local function allow_header(allowed)
  local list = {}
  for m in pairs(allowed) do list[#list + 1] = m end
  if not allowed.OPTIONS then list[#list + 1] = "OPTIONS" end
  table.sort(list)
  return table.concat(list, ", ")
end

--- Routes a request through the middleware chain to its handler.
function Router:handle(req)
  local mw = self._middleware
  if mw[1] == nil then
    -- No middleware: route directly, without building the chain.
    local handler, params = self:match(req.method, req.path)
    if handler then
      req.params = params
      return response.normalize(handler(req), req)
    end
  end
  local i = 0
  local function next_step()
    i = i + 1
    local fn = mw[i]
    if fn then return response.normalize(fn(req, next_step), req) end
    local handler, params, allowed = self:match(req.method, req.path)
    if handler then
      req.params = params
      return response.normalize(handler(req), req)
    end
    if allowed then
      local allow = allow_header(allowed)
      if req.method == "OPTIONS" then return response.normalize({ status = 204, headers = { allow = allow } }, req) end
      return response.error_response(405, "method " .. req.method .. " not allowed", req, { allow = allow })
    end
    return response.error_response(404, "not found", req)
  end
  return next_step()
end

return M
`;
