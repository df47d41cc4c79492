-- {{name}}: a Redox service. `redox dev app.lua` serves it and reloads on every change.
-- Globals: redox (router, abort, env), json, log, and each feature (here uuid).
local app = redox.router()

-- GET / : what this service is.
app:get("/", function(req)
  return { json = { service = "{{name}}", redox = redox.version } }
end)

-- POST /greetings {"name": "Ada"} : a greeting with a fresh id.
app:post("/greetings", function(req)
  local body = req:json() -- an invalid or empty body answers 400 by itself
  if type(body.name) ~= "string" or body.name == "" then
    redox.abort(422, "name must be a non-empty string")
  end
  local greeting = { id = uuid.v4(), message = "Hello, " .. body.name .. "!" }
  log.info("greeted", { id = greeting.id })
  return { status = 201, json = greeting }
end)

return app
