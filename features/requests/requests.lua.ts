// The Lua face of requests: argument checks (so misuse raises at the caller's line), json=
// encoded with core's json.encode, and the response object. The host function `send` does the
// I/O; the calling coroutine waits on it while others run.
// The Lua face of requests: json= encoded with core's json.encode (json.null, json.array) and
// the response object. The host function `send` checks the call (raising a caller's mistake at
// the app's line) and does the I/O; the calling coroutine waits on it while others run.
export const REQUESTS_LUA = String.raw`
local host = ...
local json = require("json")
local send = host.send
local type, pairs, ipairs, tostring, error, pcall, setmetatable, getmetatable = type, pairs, ipairs, tostring, error, pcall, setmetatable, getmetatable

local M = {}

-- opts with json= replaced by its encoding (a copy: the caller's table is left alone).
local function with_json(fn, opts)
  if type(opts) ~= "table" or opts.json == nil then return opts end
  local ok, encoded = pcall(json.encode, opts.json)
  if not ok then error(fn .. ": json= cannot be encoded: " .. (tostring(encoded):gsub("^json%.encode: ", "")), 3) end
  local copy = {}
  for k, v in pairs(opts) do copy[k] = v end
  copy.json = encoded
  return copy
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

local function response(res, err)
  if res == nil then return nil, err end
  res.ok = res.status >= 200 and res.status < 300
  return setmetatable(res, response_mt)
end

for _, method in ipairs({ "GET", "POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS" }) do
  local name = method:lower()
  local fn = "requests." .. name
  M[name] = function(url, opts) return response(send(fn, method, url, with_json(fn, opts))) end
end

--- requests.request{method=, url=, ...}: any method; the same options as the verb functions.
function M.request(spec)
  return response(send("requests.request", nil, nil, with_json("requests.request", spec)))
end

return M
`;
