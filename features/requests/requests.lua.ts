// The Lua face of requests: argument checks (so misuse raises at the caller's line), json=
// encoded with core's json.encode, and the response object. The host function `send` does the
// I/O; the calling coroutine waits on it while others run.
export const REQUESTS_LUA = String.raw`
local host = ...
local json = require("json")
local send = host.send
local type, pairs, ipairs, tostring, error, pcall, setmetatable, getmetatable = type, pairs, ipairs, tostring, error, pcall, setmetatable, getmetatable
local math_type, sort = math.type, table.sort

local M = {}

-- Option name -> expected kind. "seconds" are numbers > 0; "count" integers >= 0.
local OPTIONS = {
  headers = "table", body = "string", json = "any", query = "table", timeout = "seconds",
  connect_timeout = "seconds", max_size = "count", follow_redirects = "boolean",
  max_redirects = "count", decompress = "boolean",
}
local OPTION_LIST = "headers, body, json, query, timeout, connect_timeout, max_size, follow_redirects, max_redirects, decompress"
local TOKEN = "^[!#$%%&'*+%-.^_|~%w]+$"

local function describe(v)
  if type(v) == "string" then return "'" .. v .. "'" end
  return type(v)
end

local function header_value(name, v)
  local t = type(v)
  if t == "number" then return tostring(v) end
  if t ~= "string" then return nil, "header '" .. name .. "' must be a string, a number or a list of strings, got " .. t end
  if v:find("[\r\n%z]") then return nil, "header '" .. name .. "' contains CR, LF or NUL" end
  return v
end

-- headers = {Name = "v", ["X-Many"] = {"a", "b"}} -> {"name", "v", "x-many", "a", "x-many", "b"}
local function flat_headers(headers, out)
  for name, value in pairs(headers) do
    if type(name) ~= "string" or not name:find(TOKEN) then return "invalid header name " .. describe(name) end
    local lname = name:lower()
    if type(value) == "table" then
      for _, item in ipairs(value) do
        local v, err = header_value(name, item)
        if not v then return err end
        out[#out + 1] = lname; out[#out + 1] = v
      end
    else
      local v, err = header_value(name, value)
      if not v then return err end
      out[#out + 1] = lname; out[#out + 1] = v
    end
  end
end

local function query_value(key, v)
  local t = type(v)
  if t == "string" then return v end
  if t == "number" or t == "boolean" then return tostring(v) end
  return nil, "query value for '" .. key .. "' must be a string, number or boolean (or a list of them), got " .. t
end

-- query = {b = 2, a = {"x", "y"}} -> {"a", "x", "a", "y", "b", "2"} (sorted, so URLs are stable)
local function flat_query(query, out)
  local keys = {}
  for k in pairs(query) do
    if type(k) ~= "string" then return "query keys must be strings, got " .. type(k) end
    keys[#keys + 1] = k
  end
  sort(keys)
  for _, k in ipairs(keys) do
    local value = query[k]
    if type(value) == "table" then
      for _, item in ipairs(value) do
        local v, err = query_value(k, item)
        if not v then return err end
        out[#out + 1] = k; out[#out + 1] = v
      end
    else
      local v, err = query_value(k, value)
      if not v then return err end
      out[#out + 1] = k; out[#out + 1] = v
    end
  end
end

local function has_header(flat, name)
  for i = 1, #flat, 2 do
    if flat[i] == name then return true end
  end
  return false
end

-- Checks a call; returns the arguments of send, or nil and what is wrong with the call.
local function prepare(method, url, opts, is_request)
  if type(url) ~= "string" then return nil, "url must be a string, got " .. type(url) end
  if opts == nil then opts = {}
  elseif type(opts) ~= "table" then return nil, "options must be a table, got " .. type(opts) end
  for k, v in pairs(opts) do
    local kind = OPTIONS[k]
    if kind == nil then
      if not (is_request and (k == "method" or k == "url")) then
        return nil, "unknown option " .. describe(k) .. " (options: " .. (is_request and "method, url, " or "") .. OPTION_LIST .. ")"
      end
    elseif kind == "seconds" then
      if type(v) ~= "number" or not (v > 0) then return nil, k .. " must be a number of seconds > 0, got " .. tostring(v) end
    elseif kind == "count" then
      if math_type(v) ~= "integer" or v < 0 then return nil, k .. " must be an integer >= 0, got " .. tostring(v) end
    elseif kind ~= "any" and type(v) ~= kind then
      return nil, k .. " must be a " .. kind .. ", got " .. type(v) .. (k == "body" and type(v) == "table" and " (use json= to send a table as JSON)" or "")
    end
  end
  if opts.body ~= nil and opts.json ~= nil then return nil, "pass body= or json=, not both" end
  local headers, query = {}, {}
  if opts.headers then
    local err = flat_headers(opts.headers, headers)
    if err then return nil, err end
  end
  if opts.query then
    local err = flat_query(opts.query, query)
    if err then return nil, err end
  end
  local body = opts.body
  if opts.json ~= nil then
    local ok, encoded = pcall(json.encode, opts.json)
    if not ok then return nil, "json= cannot be encoded: " .. (tostring(encoded):gsub("^json%.encode: ", "")) end
    body = encoded
    if not has_header(headers, "content-type") then
      headers[#headers + 1] = "content-type"; headers[#headers + 1] = "application/json"
    end
  end
  local settings = {
    timeout = opts.timeout, connect_timeout = opts.connect_timeout, max_size = opts.max_size,
    follow_redirects = opts.follow_redirects, max_redirects = opts.max_redirects, decompress = opts.decompress,
  }
  return { method, url, headers, query, body, settings }
end

-- Responses ---------------------------------------------------------------------------------
local Response = {}
local response_mt = { __name = "requests.response", __index = Response }
-- tostring(res) is the body, so json.decode(res) works as well as json.decode(res.body).
response_mt.__tostring = function(res) return res.body end

--- The body decoded as JSON; raises (with the position) when it is not valid JSON.
function Response:json()
  if getmetatable(self) ~= response_mt then error("res:json: call it with a colon, res:json()", 2) end
  local ok, value = pcall(json.decode, self.body)
  if not ok then
    error("res:json: the response body is not valid JSON: " .. (tostring(value):gsub("^json%.decode: ", "")), 2)
  end
  return value
end

local function perform(args)
  local res, err = send(args[1], args[2], args[3], args[4], args[5], args[6])
  if res == nil then return nil, err end
  res.ok = res.status >= 200 and res.status < 300
  return setmetatable(res, response_mt)
end

for _, method in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" }) do
  local name = method:lower()
  M[name] = function(url, opts)
    local args, problem = prepare(method, url, opts, false)
    if not args then error("requests." .. name .. ": " .. problem, 2) end
    return perform(args)
  end
end

--- requests.request{method=, url=, ...}: any method; the same options as the verb functions.
function M.request(spec)
  if type(spec) ~= "table" then error("requests.request expects a table {method=, url=, ...}, got " .. type(spec), 2) end
  local method = spec.method or "GET"
  if type(method) ~= "string" or not method:find(TOKEN) then
    error("requests.request: method must be an HTTP method name such as \"GET\", got " .. describe(method), 2)
  end
  local args, problem = prepare(method:upper(), spec.url, spec, true)
  if not args then error("requests.request: " .. problem, 2) end
  return perform(args)
end

return M
`;
