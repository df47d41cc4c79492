-- Tests for app.lua: `redox test` runs every *_test.lua in a fresh Lua VM with app.lua loaded.
-- t.get/t.post/... call the app in-process (no socket); t.eq, t.status, t.match and t.raises
-- fail with a readable diff. `redox test --reporter tap` (or junit) for CI.

test("GET / names the service", function()
  local res = t.get("/")
  t.status(res, 200)
  t.eq(res:json().service, "{{name}}")
end)

test("POST /greetings greets with a UUID", function()
  local res = t.post("/greetings", { json = { name = "Ada" } })
  t.status(res, 201)
  local greeting = res:json()
  t.eq(greeting.message, "Hello, Ada!")
  t.ok(uuid.validate(greeting.id), "not a UUID: " .. tostring(greeting.id))
end)

describe("POST /greetings rejects bad input", function()
  it("answers 422 without a name", function()
    local res = t.post("/greetings", { json = {} })
    t.status(res, 422)
    t.match(res:json().error, "name must be")
  end)

  it("answers 400 for a body that is not JSON", function()
    t.status(t.post("/greetings", { body = "{", headers = { ["content-type"] = "application/json" } }), 400)
  end)
end)
