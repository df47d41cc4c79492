// Tests for app.ts: `redox test` runs every *.test.ts (compiled to Lua) in a fresh Lua VM with
// app.ts loaded. t.get/t.post/... call the app in-process (no socket); t.eq, t.status, t.match
// and t.raises fail with a readable diff. `redox test --reporter tap` (or junit) for CI.

test('GET / names the service', () => {
  const res = t.get('/');
  t.status(res, 200);
  t.eq(res.json<{ service: string }>().service, '{{name}}');
});

test('POST /greetings greets with a UUID', () => {
  const res = t.post('/greetings', { json: { name: 'Ada' } });
  t.status(res, 201);
  const greeting = res.json<{ id: string; message: string }>();
  t.eq(greeting.message, 'Hello, Ada!');
  t.ok(uuid.validate(greeting.id), `not a UUID: ${greeting.id}`);
});

describe('POST /greetings rejects bad input', () => {
  it('answers 422 without a name', () => {
    const res = t.post('/greetings', { json: {} });
    t.status(res, 422);
    t.match(res.json<{ error: string }>().error, 'name must be');
  });

  it('answers 400 for a body that is not JSON', () => {
    t.status(t.post('/greetings', { body: '{', headers: { 'content-type': 'application/json' } }), 400);
  });
});
