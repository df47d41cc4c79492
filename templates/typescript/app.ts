// {{name}}: a Redox service in TypeScript, compiled to Lua by TypeScriptToLua.
// `redox dev app.ts` serves it and recompiles on every change. The Redox API (redox, json, log,
// and each feature such as uuid) is declared in types/.
const app = redox.router();

interface Greeting {
  id: string;
  message: string;
}

// GET / : what this service is.
app.get('/', () => ({ json: { service: '{{name}}', redox: redox.version } }));

// POST /greetings {"name": "Ada"} : a greeting with a fresh id.
app.post('/greetings', (req) => {
  const body = req.json<{ name?: unknown }>(); // an invalid or empty body answers 400 by itself
  if (typeof body.name !== 'string' || body.name === '') {
    return redox.abort(422, 'name must be a non-empty string');
  }
  const greeting: Greeting = { id: uuid.v4(), message: `Hello, ${body.name}!` };
  log.info('greeted', { id: greeting.id });
  return { status: 201, json: greeting };
});

export default app;
