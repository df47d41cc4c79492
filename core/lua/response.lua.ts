// Responses on the Lua side: the rules that turn a handler's return value into
// (status, body, content type, headers), HTTP errors raised on purpose (redox.abort), and error
// responses. The host frames the result; no table is built where a string suffices.
export const RESPONSE_LUA = String.raw`
local host = ...
local json = require("redox.core.json")
local cookies = require("redox.core.cookies")
local M = {}
local try_encode = host.json_try_encode

-- Content types the host knows by number (core/runtime/engine-response.ts).
local CT_TEXT, CT_JSON = 1, 2
M.CT_TEXT, M.CT_JSON = CT_TEXT, CT_JSON
local TEXT = "text/plain; charset=utf-8"
local JSON_TYPE = "application/json; charset=utf-8"
local CT_NAMES = { TEXT, JSON_TYPE }

-- HTTP errors a handler raises on purpose: redox.abort(404, "no such user").
local http_error_mt = { __name = "redox.http_error" }
http_error_mt.__tostring = function(e) return "HTTP " .. e.status .. ": " .. e.message end
M.http_error_mt = http_error_mt

function M.abort(status, message, headers)
  if math.type(status) ~= "integer" or status < 400 or status > 599 then
    error("redox.abort: status must be an integer from 400 to 599, got " .. tostring(status), 2)
  end
  error(setmetatable({ status = status, message = message and tostring(message) or "error", headers = headers }, http_error_mt), 2)
end

local response_mt = { __name = "redox.response" }
local RESPONSE_KEYS = { status = true, headers = true, body = true, json = true, cookies = true }
local invalid_mt = { __name = "redox.invalid_response", __tostring = function(e) return e.message end }
M.invalid_mt = invalid_mt

local function invalid(msg) error(setmetatable({ message = msg }, invalid_mt), 0) end

-- Framing headers belong to the server: it sets them from the body it sends.
local SERVER_HEADERS = { ["content-length"] = true, ["transfer-encoding"] = true, ["connection"] = true }

-- Names and values that passed the checks, so the usual constant headers (a content type, a
-- cache-control) skip two pattern matches and two lower() calls per response. Bounded: a
-- handler that makes up names or values per request only fills them to the limit.
local CHECKED_MAX = 256
local checked_names, checked_values = {}, {}
local names_count, values_count = 0, 0

-- The name in lower case (nil for a framing header the server sets itself), checked once.
local function header_key(name)
  local key = checked_names[name]
  if key ~= nil then return key or nil end
  if type(name) ~= "string" or not name:find("^[!#$%%&'*+%-.^_|~%w]+$") then
    invalid("invalid header name " .. (type(name) == "string" and ("'" .. name .. "'") or type(name)))
  end
  key = name:lower()
  if SERVER_HEADERS[key] then key = false end
  if names_count < CHECKED_MAX then
    names_count = names_count + 1
    checked_names[name] = key
  end
  return key or nil
end

local function check_header(name, value)
  local vt = type(value)
  if vt == "number" then return tostring(value) end
  if vt ~= "string" then invalid("header '" .. name .. "' must be a string, got " .. vt) end
  if checked_values[value] then return value end
  if value:find("[\r\n%z]") then invalid("header '" .. name .. "' contains CR, LF or NUL") end
  if values_count < CHECKED_MAX then
    values_count = values_count + 1
    checked_values[value] = true
  end
  return value
end

local next, type, math_type = next, type, math.type

local function shape_table(res)
  for k in next, res do
    if not RESPONSE_KEYS[k] then invalid("unknown key '" .. tostring(k) .. "' in response table (allowed: status, headers, body, json, cookies)") end
  end
  local status = res.status
  if status == nil then
    status = 200
  elseif math_type(status) ~= "integer" or status < 100 or status > 599 then
    invalid("status must be an integer from 100 to 599, got " .. tostring(status))
  end
  local headers
  if res.headers ~= nil then
    if type(res.headers) ~= "table" then invalid("headers must be a table, got " .. type(res.headers)) end
    headers = {}
    for name, value in pairs(res.headers) do
      -- nil: a framing header, skipped on purpose (the server sets these)
      local key = header_key(name)
      if key == nil then -- luacheck: ignore 542
      elseif type(value) == "table" then
        local list = {}
        for i, v in ipairs(value) do list[i] = check_header(name, v) end
        headers[key] = list
      else
        headers[key] = check_header(name, value)
      end
    end
  end
  if res.cookies ~= nil then
    local ok, list = pcall(cookies.headers, res.cookies, host.secure == true)
    if not ok then invalid(tostring(list)) end
    headers = headers or {}
    local old = headers["set-cookie"]
    if type(old) == "string" then table.insert(list, 1, old)
    elseif type(old) == "table" then for i = #old, 1, -1 do table.insert(list, 1, old[i]) end end
    if #list > 0 then headers["set-cookie"] = list end
  end
  local body, ctype = res.body, nil
  if res.json ~= nil then
    if body ~= nil then invalid("a response has either body or json, not both") end
    local encoded, err = try_encode(res.json)
    if encoded == nil then invalid(err) end
    body = encoded
    ctype = CT_JSON
  elseif body ~= nil then
    local bt = type(body)
    if bt == "number" then body = tostring(body)
    elseif bt ~= "string" then invalid("body must be a string, got " .. bt .. " (use json= for tables)") end
    ctype = CT_TEXT
  end
  if ctype and headers and headers["content-type"] ~= nil then ctype = nil end
  return status, body, ctype, headers
end

--- What a handler returned, as status, body, content type (CT_* or nil) and headers (a table
--- keyed lower-case, or nil). Raises an invalid-response error for anything else.
function M.shape(res)
  local t = type(res)
  if t == "string" then return 200, res, CT_TEXT end
  if res == nil then return 204 end
  if t ~= "table" then
    invalid("handler returned a " .. t .. "; return a string, a table {status=, headers=, body=} or {status=, json=}, or nil")
  end
  if getmetatable(res) == response_mt then return res.status, res.body, nil, res.headers end
  return shape_table(res)
end

--- The same as a table {status=, headers=, body=} (headers keyed lower-case), for middleware.
function M.normalize(res)
  if type(res) == "table" and getmetatable(res) == response_mt then return res end
  local status, body, ctype, headers = M.shape(res)
  headers = headers or {}
  if ctype then headers["content-type"] = CT_NAMES[ctype] end
  return setmetatable({ status = status, headers = headers, body = body }, response_mt)
end

function M.error_response(status, message, req, headers)
  local h = headers or {}
  h["content-type"] = JSON_TYPE
  return setmetatable({ status = status, headers = h, body = json.encode({ error = message, request_id = req.id }) }, response_mt)
end

return M
`;
