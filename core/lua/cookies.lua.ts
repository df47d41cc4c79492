// Cookies on the Lua side: parsing the Cookie header for req.cookies (malformed pairs are
// skipped, never an error) and turning a response's `cookies` table into Set-Cookie headers with
// secure defaults (HttpOnly, SameSite=Lax, Path=/, Secure when the request came over TLS).
export const COOKIES_LUA = String.raw`
local M = {}

local TOKEN = "^[!#$%%&'*+%-.^_` + '`' + String.raw`|~%w]+$"

local function decode(v)
  return (v:gsub("%%(%x%x)", function(h) return string.char(tonumber(h, 16)) end))
end

--- "a=1; b=2" -> { a = "1", b = "2" }. The first of a repeated name wins (browsers send the
--- most specific cookie first); pairs without "=" or with an invalid name are ignored.
function M.parse(header)
  local out = {}
  if type(header) ~= "string" then return out end
  for pair in header:gmatch("[^;]+") do
    local name, value = pair:match("^%s*([^=]-)%s*=%s*(.-)%s*$")
    if name and name ~= "" and name:find(TOKEN) and out[name] == nil then
      if #value >= 2 and value:sub(1, 1) == '"' and value:sub(-1) == '"' then value = value:sub(2, -2) end
      out[name] = decode(value)
    end
  end
  return out
end

-- Bytes a cookie value may hold as they are (RFC 6265 cookie-octet); the rest is %XX-encoded,
-- which M.parse decodes.
local function encode(v)
  return (v:gsub("[^!#$&'()*+%-./0-9:<=>?@A-Z%[%]^_` + '`' + String.raw`a-z{|}~]", function(c) return string.format("%%%02X", c:byte()) end))
end

local SAME_SITE = { lax = "Lax", strict = "Strict", none = "None" }
local OPTIONS = { value = true, max_age = true, expires = true, path = true, domain = true, same_site = true, secure = true, http_only = true }

local function bad(name, msg) error("cookie '" .. tostring(name) .. "': " .. msg, 0) end

local function attribute_text(name, key, v)
  if type(v) ~= "string" or v:find("[%c;]") then bad(name, key .. " must be a string without ';' or control characters") end
  return v
end

--- One Set-Cookie value. spec: a string (the value), false (delete the cookie) or a table
--- { value=, max_age=, expires=, path=, domain=, same_site=, secure=, http_only= }.
function M.serialize(name, spec, secure_request)
  if type(name) ~= "string" or not name:find(TOKEN) then bad(name, "the name must be a token (letters, digits and !#$%&'*+-.^_|~)") end
  local opts
  if spec == false then opts = { value = "", max_age = 0, expires = 0 }
  elseif type(spec) == "string" or type(spec) == "number" then opts = { value = tostring(spec) }
  elseif type(spec) == "table" then
    for k in pairs(spec) do
      if not OPTIONS[k] then bad(name, "unknown option '" .. tostring(k) .. "' (allowed: value, max_age, expires, path, domain, same_site, secure, http_only)") end
    end
    opts = spec
  else bad(name, "must be a string, a table of options or false (to delete it), got " .. type(spec)) end
  local value = opts.value
  if value == nil then value = "" end
  if type(value) ~= "string" and type(value) ~= "number" then bad(name, "value must be a string") end
  local parts = { name .. "=" .. encode(tostring(value)) }
  local path = opts.path
  if path == nil then path = "/" end
  if path ~= false then parts[#parts + 1] = "Path=" .. attribute_text(name, "path", path) end
  if opts.domain ~= nil then parts[#parts + 1] = "Domain=" .. attribute_text(name, "domain", opts.domain) end
  if opts.max_age ~= nil then
    if math.type(opts.max_age) ~= "integer" then bad(name, "max_age must be an integer number of seconds") end
    parts[#parts + 1] = "Max-Age=" .. opts.max_age
  end
  if opts.expires ~= nil then
    local e = opts.expires
    if type(e) == "number" then parts[#parts + 1] = "Expires=" .. os.date("!%a, %d %b %Y %H:%M:%S GMT", math.floor(e))
    else parts[#parts + 1] = "Expires=" .. attribute_text(name, "expires", e) end
  end
  local http_only = opts.http_only
  if http_only == nil then http_only = true end
  if http_only then parts[#parts + 1] = "HttpOnly" end
  local same_site = opts.same_site
  if same_site == nil then same_site = "lax" end
  local secure = opts.secure
  if same_site ~= false then
    local ss = type(same_site) == "string" and SAME_SITE[same_site:lower()]
    if not ss then bad(name, "same_site must be \"Lax\", \"Strict\", \"None\" or false") end
    parts[#parts + 1] = "SameSite=" .. ss
    -- Browsers drop SameSite=None cookies that are not Secure.
    if ss == "None" and secure == nil then secure = true end
  end
  if secure == nil then secure = secure_request end
  if secure then parts[#parts + 1] = "Secure" end
  return table.concat(parts, "; ")
end

--- Set-Cookie values for a response's cookies table, in name order (stable output).
function M.headers(cookies, secure_request)
  if type(cookies) ~= "table" then error("cookies must be a table of name = value, options or false, got " .. type(cookies), 0) end
  local names = {}
  for name in pairs(cookies) do names[#names + 1] = name end
  table.sort(names, function(a, b) return tostring(a) < tostring(b) end)
  local out = {}
  for i, name in ipairs(names) do out[i] = M.serialize(name, cookies[name], secure_request) end
  return out
end

return M
`;
