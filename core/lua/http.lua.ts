// Requests and responses on the Lua side: the req object handlers see, the rules that turn a
// handler's return value into a response, and the dispatcher the host calls per request.
export const HTTP_LUA = String.raw`
local host, router, json, internal, cookies = ...
local M = {}

-- Requests --------------------------------------------------------------------------------
local Request = {}
local lazy = {}

function lazy.headers(self)
  local h = {}
  local raw = rawget(self, "_raw_headers")
  if raw then
    for k, v in raw:gmatch("([^\n]*)\n([^\n]*)\n") do
      k = k:lower()
      local old = h[k]
      if old == nil then h[k] = v
      elseif k == "cookie" then h[k] = old .. "; " .. v
      else h[k] = old .. ", " .. v end
    end
  end
  return h
end

local function query_decode(s)
  s = s:gsub("+", " ")
  return router.url_decode(s)
end

function lazy.query(self)
  local q = {}
  local raw = rawget(self, "_raw_query")
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

--- Cookies the client sent (name -> value); malformed ones are left out.
function lazy.cookies(self)
  return cookies.parse(self.headers.cookie)
end

--- Whether the request came over TLS.
function lazy.secure()
  return host.secure == true
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
  return rawget(self, "_body") or ""
end

--- The request body decoded as JSON; an invalid or empty body answers 400.
function Request:json()
  local cached = rawget(self, "_json")
  if cached ~= nil then return cached end
  local body = rawget(self, "_body")
  if body == nil or body == "" then M.abort(400, "request body is empty; expected JSON") end
  local ok, value = pcall(json.decode, body)
  if not ok then M.abort(400, "invalid JSON body: " .. tostring(value):gsub("^json%.decode: ", "")) end
  rawset(self, "_json", value)
  return value
end

local FORM_OPTIONS = { max_field_size = true, max_file_size = true, max_parts = true }

--- The body as a form (urlencoded or multipart): { fields = {name = value or list},
--- files = {name = {filename, content_type, data}}, file_list = {...} }. A body that is not a form
--- answers 415, a malformed one 400, a part over the given limits 413.
function Request:form(opts)
  local cached = rawget(self, "_form")
  if cached ~= nil then return cached end
  if opts ~= nil then
    if type(opts) ~= "table" then error("req:form: options must be a table, got " .. type(opts), 2) end
    for k, v in pairs(opts) do
      if not FORM_OPTIONS[k] then error("req:form: unknown option '" .. tostring(k) .. "' (allowed: max_field_size, max_file_size, max_parts)", 2) end
      if math.type(v) ~= "integer" or v < 1 then error("req:form: " .. k .. " must be a positive integer", 2) end
    end
  else opts = {} end
  local form, status, message = host.parse_form(self.headers["content-type"] or "", rawget(self, "_body") or "",
    opts.max_field_size, opts.max_file_size, opts.max_parts)
  if form == nil then M.abort(status, message) end
  local files = {}
  for _, f in ipairs(form.file_list) do
    if files[f.field] == nil then files[f.field] = f end
  end
  form.files = files
  rawset(self, "_form", form)
  return form
end

-- HTTP errors a handler raises on purpose: redox.abort(404, "no such user").
local http_error_mt = { __name = "redox.http_error" }
http_error_mt.__tostring = function(e) return "HTTP " .. e.status .. ": " .. e.message end

function M.abort(status, message, headers)
  if math.type(status) ~= "integer" or status < 400 or status > 599 then
    error("redox.abort: status must be an integer from 400 to 599, got " .. tostring(status), 2)
  end
  error(setmetatable({ status = status, message = message and tostring(message) or "error", headers = headers }, http_error_mt), 2)
end

-- Responses -------------------------------------------------------------------------------
local response_mt = { __name = "redox.response" }
local RESPONSE_KEYS = { status = true, headers = true, body = true, json = true, cookies = true }
local TEXT = "text/plain; charset=utf-8"
local JSON_TYPE = "application/json; charset=utf-8"

local function invalid(msg) error(setmetatable({ message = msg }, { __name = "redox.invalid_response", __tostring = function(e) return e.message end }), 0) end

-- Framing headers belong to the server: it sets them from the body it sends.
local SERVER_HEADERS = { ["content-length"] = true, ["transfer-encoding"] = true, ["connection"] = true }

local function check_header(name, value)
  if type(name) ~= "string" or not name:find("^[!#$%%&'*+%-.^_|~%w]+$") then
    invalid("invalid header name " .. (type(name) == "string" and ("'" .. name .. "'") or type(name)))
  end
  local vt = type(value)
  if vt == "number" then return tostring(value) end
  if vt ~= "string" then invalid("header '" .. name .. "' must be a string, got " .. vt) end
  if value:find("[\r\n%z]") then invalid("header '" .. name .. "' contains CR, LF or NUL") end
  return value
end

--- Turns what a handler returned into {status=, headers=, body=} (headers keyed lower-case).
function M.normalize(res, req)
  local t = type(res)
  if t == "string" then
    return setmetatable({ status = 200, headers = { ["content-type"] = TEXT }, body = res }, response_mt)
  elseif res == nil then
    return setmetatable({ status = 204, headers = {} }, response_mt)
  elseif t ~= "table" then
    invalid("handler returned a " .. t .. "; return a string, a table {status=, headers=, body=} or {status=, json=}, or nil")
  end
  if getmetatable(res) == response_mt then return res end
  for k in pairs(res) do
    if not RESPONSE_KEYS[k] then invalid("unknown key '" .. tostring(k) .. "' in response table (allowed: status, headers, body, json, cookies)") end
  end
  local status = res.status or 200
  if math.type(status) ~= "integer" or status < 100 or status > 599 then
    invalid("status must be an integer from 100 to 599, got " .. tostring(status))
  end
  local headers = {}
  if res.headers ~= nil then
    if type(res.headers) ~= "table" then invalid("headers must be a table, got " .. type(res.headers)) end
    for name, value in pairs(res.headers) do
      if type(name) == "string" and SERVER_HEADERS[name:lower()] then
        -- skipped on purpose
      elseif type(value) == "table" then
        local list = {}
        for i, v in ipairs(value) do list[i] = check_header(name, v) end
        headers[name:lower()] = list
      else
        local v = check_header(name, value)
        headers[name:lower()] = v
      end
    end
  end
  if res.cookies ~= nil then
    local ok, list = pcall(cookies.headers, res.cookies, host.secure == true)
    if not ok then invalid(tostring(list)) end
    local old = headers["set-cookie"]
    if type(old) == "string" then table.insert(list, 1, old)
    elseif type(old) == "table" then for i = #old, 1, -1 do table.insert(list, 1, old[i]) end end
    if #list > 0 then headers["set-cookie"] = list end
  end
  local body = res.body
  if res.json ~= nil then
    if body ~= nil then invalid("a response has either body or json, not both") end
    local ok, encoded = pcall(json.encode, res.json)
    if not ok then invalid(tostring(encoded)) end
    body = encoded
    if headers["content-type"] == nil then headers["content-type"] = JSON_TYPE end
  elseif body ~= nil then
    if type(body) == "number" then body = tostring(body) end
    if type(body) ~= "string" then invalid("body must be a string, got " .. type(body) .. " (use json= for tables)") end
    if headers["content-type"] == nil then headers["content-type"] = TEXT end
  end
  return setmetatable({ status = status, headers = headers, body = body }, response_mt)
end

function M.error_response(status, message, req, headers)
  local h = headers or {}
  h["content-type"] = JSON_TYPE
  return setmetatable({ status = status, headers = h, body = json.encode({ error = message, request_id = req.id }) }, response_mt)
end
router.error_response = M.error_response
router.normalize = M.normalize

-- Dispatch --------------------------------------------------------------------------------
local app_handler

local function on_error(e)
  local mt = getmetatable(e)
  if mt == http_error_mt then return e end
  local message = tostring(e)
  if mt and mt.__name == "redox.invalid_response" then return { invalid = message } end
  return { message = message, traceback = internal.traceback(message, 2) }
end

local function handle(req)
  return M.normalize(app_handler(req), req)
end

-- The host reads the headers table itself: no flattening on the Lua side.
local function reply(res, extra_log)
  return res.status, res.body, extra_log, res.headers
end

--- Called by the host for each request. Returns status, body, log_error, headers.
function M.dispatch(method, path, raw_query, raw_headers, body, ip, id)
  local req = setmetatable({ method = method, path = path, params = {}, ip = ip, id = id,
    _raw_query = raw_query, _raw_headers = raw_headers, _body = body }, req_mt)
  local ok, res = xpcall(handle, on_error, req)
  if ok then return reply(res) end
  if getmetatable(res) == http_error_mt then
    return reply(M.error_response(res.status, res.message, req, res.headers))
  end
  if res.invalid then
    return reply(M.error_response(500, "internal server error", req), "invalid response from " .. method .. " " .. path .. ": " .. res.invalid)
  end
  local public = host.dev and res.message or "internal server error"
  local r = M.error_response(500, public, req)
  if host.dev then r.body = json.encode({ error = res.message, traceback = res.traceback, request_id = id }) end
  return reply(r, res.traceback)
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
  if router.is_router(chosen) then
    local r = chosen
    app_handler = function(req) return r:handle(req) end
  elseif type(chosen) == "function" then
    app_handler = chosen
  else
    error(where .. (attr and (":" .. attr) or "") .. " is a " .. type(chosen) .. "; expected a router (redox.router()) or a function(req)", 0)
  end
end

return M
`;
