// Requests on the Lua side: the req object handlers see (its fields come from the host only
// when read), the entry the host calls per request, and the choice of the app's handler.
export const HTTP_LUA = String.raw`
local host, internal = ...
local json = require("redox.core.json")
local router = require("redox.core.router")
local response = require("redox.core.response")
local M = {}

-- Requests --------------------------------------------------------------------------------
-- A request is { _slot = n }: each field is fetched from the host the first time it is read.
local Request = {}
local lazy = {}

function lazy.method(self) return host.req_method(rawget(self, "_slot")) end
function lazy.path(self) return host.req_path(rawget(self, "_slot")) end
function lazy.id(self) return host.req_id(rawget(self, "_slot")) end
function lazy.ip(self) return host.req_ip(rawget(self, "_slot")) end
function lazy.params(self) return host.req_params(rawget(self, "_slot")) or {} end
function lazy.headers(self) return host.req_headers(rawget(self, "_slot")) or {} end

local function query_decode(s)
  s = s:gsub("+", " ")
  return router.url_decode(s)
end

function lazy.query(self)
  local q = {}
  local raw = host.req_query(rawget(self, "_slot"))
  if raw and raw ~= "" then
    for pair in raw:gmatch("[^&]+") do
      local k, v = pair:match("^([^=]*)=(.*)$")
      if not k then k, v = pair, "" end
      k, v = query_decode(k), query_decode(v)
      local old = q[k]
      if old == nil then q[k] = v
      elseif type(old) == "table" then old[#old + 1] = v
      else q[k] = { old, v } end
    end
  end
  return q
end

local req_mt = { __name = "redox.request" }
req_mt.__index = function(self, k)
  local m = Request[k]
  if m ~= nil then return m end
  local f = lazy[k]
  if f then
    local v = f(self)
    rawset(self, k, v)
    return v
  end
end

--- The raw request body as a string ("" when there is none).
function Request:body()
  local body = rawget(self, "_body")
  if body == nil then
    body = host.req_body(rawget(self, "_slot")) or ""
    rawset(self, "_body", body)
  end
  return body
end

--- The request body decoded as JSON; an invalid or empty body answers 400.
function Request:json()
  local cached = rawget(self, "_json")
  if cached ~= nil then return cached end
  local body = Request.body(self)
  if body == "" then response.abort(400, "request body is empty; expected JSON") end
  local ok, value = pcall(json.decode, body)
  if not ok then response.abort(400, "invalid JSON body: " .. tostring(value):gsub("^json%.decode: ", "")) end
  rawset(self, "_json", value)
  return value
end

M.abort = response.abort

-- Dispatch --------------------------------------------------------------------------------
local http_error_mt, invalid_mt, shape = response.http_error_mt, response.invalid_mt, response.shape

local function on_error(e)
  local mt = getmetatable(e)
  if mt == http_error_mt then return e end
  local message = tostring(e)
  if mt == invalid_mt then return { invalid = message } end
  return { message = message, traceback = internal.traceback(message, 2) }
end

local function respond(handler, req)
  return shape(handler(req))
end

local function reply(res, extra_log)
  return res.status, res.body, nil, res.headers, extra_log
end

local function finish(req, ok, status, body, ctype, headers)
  if ok then return status, body, ctype, headers end
  local res = status
  if getmetatable(res) == http_error_mt then
    return reply(response.error_response(res.status, res.message, req, res.headers))
  end
  if res.invalid then
    return reply(response.error_response(500, "internal server error", req), "invalid response from " .. req.method .. " " .. req.path .. ": " .. res.invalid)
  end
  local public = host.dev and res.message or "internal server error"
  local r = response.error_response(500, public, req)
  if host.dev then r.body = json.encode({ error = res.message, traceback = res.traceback, request_id = req.id }) end
  return reply(r, res.traceback)
end

--- The host's entry, once per request, in a pooled coroutine: runs the handler the host routed
--- to. Returns status, body, content type (CT_*), headers and a line to log, any of them nil.
function M.run(handler, slot)
  local req = setmetatable({ _slot = slot }, req_mt)
  return finish(req, xpcall(respond, on_error, handler, req))
end

-- Apps ------------------------------------------------------------------------------------
local default_app

--- The seed's style: global get/post/... register on a default app when the file returns nothing.
function M.install_globals()
  default_app = router.router()
  for _, m in ipairs({ "get", "post", "put", "patch", "delete", "options", "head" }) do
    rawset(_G, m, function(path, fn) return default_app[m](default_app, path, fn) end)
  end
  rawset(_G, "all", function(path, fn) return default_app:all(path, fn) end)
  rawset(_G, "use", function(fn) return default_app:use(fn) end)
end

local function has_routes(r)
  return next(r._static) ~= nil or #r._dynamic > 0
end

-- Hands the app to the host: a router without middleware as its route list (routed on the
-- host), anything else as one handler that routes in Lua.
local function export(r)
  if r._middleware[1] == nil then
    host.set_routes("routes", r._routes)
  else
    host.set_routes("handler", function(req) return r:handle(req) end)
  end
end

local current

--- Picks the handler from what the app file returned (attr: the name after ':' in a target).
function M.set_app(value, attr, where)
  local chosen = value
  if attr and attr ~= "" then
    if type(value) == "table" and not router.is_router(value) and value[attr] ~= nil then chosen = value[attr]
    elseif value == nil or value == true or (attr ~= "app") then chosen = rawget(_G, attr) end
    if chosen == nil and attr == "app" then chosen = value end
  end
  if chosen == nil or chosen == true then
    if default_app and has_routes(default_app) then chosen = default_app
    else error(where .. " returned nothing and registered no routes; return redox.router() or a function(req), or call get(path, fn)", 0) end
  end
  if current then current._on_change = nil end
  if router.is_router(chosen) then
    current = chosen
    chosen._on_change = export
    export(chosen)
  elseif type(chosen) == "function" then
    current = nil
    host.set_routes("handler", chosen)
  else
    error(where .. (attr and (":" .. attr) or "") .. " is a " .. type(chosen) .. "; expected a router (redox.router()) or a function(req)", 0)
  end
end

function M.load_app(chunk, attr, where)
  return M.set_app(chunk(), attr, where)
end

return M
`;
