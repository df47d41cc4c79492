-- Tests for app.lua, in-process: `redox run test.lua` (exit code 1 when one fails).
local app = require("app")

-- A request like the ones the server hands to handlers.
local function request(method, path, body)
  local req = { method = method, path = path, params = {}, query = {}, headers = {}, ip = "127.0.0.1", id = "test" }
  function req:body() return body or "" end
  function req:json() return json.decode(body) end
  return app:handle(req)
end

local passed = 0
local function test(name, fn)
  fn()
  passed = passed + 1
  print("ok - " .. name)
end

test("GET / names the service", function()
  local res = request("GET", "/")
  assert(res.status == 200, "status " .. res.status)
  assert(json.decode(res.body).service == "{{name}}")
end)

test("POST /greetings greets with a UUID", function()
  local res = request("POST", "/greetings", json.encode({ name = "Ada" }))
  assert(res.status == 201, "status " .. res.status)
  local greeting = json.decode(res.body)
  assert(greeting.message == "Hello, Ada!", greeting.message)
  assert(uuid.validate(greeting.id), "not a UUID: " .. tostring(greeting.id))
end)

test("POST /greetings without a name answers 422", function()
  local ok, err = pcall(request, "POST", "/greetings", "{}")
  assert(not ok and err.status == 422, "expected a 422 abort, got " .. tostring(err))
end)

print(passed .. " tests passed")
