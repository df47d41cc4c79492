// redox.cors{...}: a middleware that answers CORS preflights itself and adds the CORS headers to
// every other response of an allowed origin.
export const CORS_LUA = String.raw`
local M = {}

local function list(v, what)
  if v == nil then return nil end
  if type(v) == "string" then return { v } end
  if type(v) ~= "table" then error("redox.cors: " .. what .. " must be a string or a list of strings, got " .. type(v), 3) end
  for i, s in ipairs(v) do
    if type(s) ~= "string" then error("redox.cors: " .. what .. "[" .. i .. "] must be a string", 3) end
  end
  return v
end

local function add_vary(headers, name)
  local old = headers.vary
  if old == nil or old == "" then headers.vary = name
  elseif type(old) == "string" and old ~= "*" and not (("," .. old:lower() .. ","):gsub("%s", ""):find("," .. name:lower() .. ",", 1, true)) then
    headers.vary = old .. ", " .. name
  end
end

local OPTIONS = { origins = true, methods = true, headers = true, expose = true, credentials = true, max_age = true }

--- origins: "*", an origin or a list of origins (exact, e.g. "https://app.example.com");
--- methods, headers (allowed request headers; default: those the preflight asks for),
--- expose (response headers scripts may read), credentials (bool), max_age (seconds).
function M.cors(opts)
  opts = opts or {}
  if type(opts) ~= "table" then error("redox.cors expects a table of options, got " .. type(opts), 2) end
  for k in pairs(opts) do
    if not OPTIONS[k] then error("redox.cors: unknown option '" .. tostring(k) .. "' (allowed: origins, methods, headers, expose, credentials, max_age)", 2) end
  end
  local origins = list(opts.origins or "*", "origins")
  local any, allowed = false, {}
  for _, o in ipairs(origins) do
    if o == "*" then any = true else allowed[o:lower():gsub("/$", "")] = true end
  end
  local methods = table.concat(list(opts.methods, "methods") or { "GET", "HEAD", "POST", "PUT", "PATCH", "DELETE" }, ", ")
  local allow_headers = opts.headers and table.concat(list(opts.headers, "headers"), ", ")
  local expose = opts.expose and table.concat(list(opts.expose, "expose"), ", ")
  local credentials = opts.credentials == true
  local max_age = opts.max_age
  if max_age ~= nil and math.type(max_age) ~= "integer" then error("redox.cors: max_age must be an integer number of seconds", 2) end

  -- The Access-Control-Allow-Origin value for a request's Origin, or nil when not allowed.
  -- With credentials the origin is echoed: browsers refuse "*" there.
  local function allow_origin(origin)
    if origin == nil then return nil end
    if allowed[origin:lower()] then return origin end
    if any then return credentials and origin or "*" end
    return nil
  end

  return function(req, next)
    local origin = req.headers.origin
    local ao = allow_origin(origin)
    if req.method == "OPTIONS" and origin and req.headers["access-control-request-method"] then
      local h = { vary = "Origin, Access-Control-Request-Method, Access-Control-Request-Headers" }
      if ao then
        h["access-control-allow-origin"] = ao
        h["access-control-allow-methods"] = methods
        local asked = req.headers["access-control-request-headers"]
        local ah = allow_headers or asked
        if ah then h["access-control-allow-headers"] = ah end
        if credentials then h["access-control-allow-credentials"] = "true" end
        if max_age then h["access-control-max-age"] = tostring(max_age) end
      end
      -- A refused origin gets no CORS headers: the browser then blocks the real request.
      return { status = 204, headers = h }
    end
    local res = next()
    if origin ~= nil then
      local h = res.headers
      if ao then
        h["access-control-allow-origin"] = ao
        if credentials then h["access-control-allow-credentials"] = "true" end
        if expose then h["access-control-expose-headers"] = expose end
      end
      if not (any and not credentials) then add_vary(h, "Origin") end
    end
    return res
  end
end

return M
`;
