// Tests for app.ts, in-process: `redox run test.ts` (exit code 1 when one fails).
import app from './app';

// A request like the ones the server hands to handlers.
function request(method: redox.Method, path: string, body = ''): redox.NormalizedResponse {
  const req: redox.Request = {
    method, path, params: {}, query: {}, headers: {}, ip: '127.0.0.1', id: 'test', cookies: {}, secure: false,
    form() {
      return { fields: {}, files: {}, file_list: [] };
    },
    body() {
      return body;
    },
    json() {
      return json.decode(body);
    },
  };
  return app.handle(req);
}

let passed = 0;
function test(name: string, fn: () => void): void {
  fn();
  passed++;
  console.log(`ok - ${name}`);
}

function check(condition: boolean, message: string): void {
  if (!condition) throw new Error(message);
}

test('GET / names the service', () => {
  const res = request('GET', '/');
  check(res.status === 200, `status ${res.status}`);
  check(json.decode<{ service: string }>(res.body ?? '').service === '{{name}}', 'service name');
});

test('POST /greetings greets with a UUID', () => {
  const res = request('POST', '/greetings', json.encode({ name: 'Ada' }));
  check(res.status === 201, `status ${res.status}`);
  const greeting = json.decode<{ id: string; message: string }>(res.body ?? '');
  check(greeting.message === 'Hello, Ada!', greeting.message);
  check(uuid.validate(greeting.id), `not a UUID: ${greeting.id}`);
});

test('POST /greetings without a name answers 422', () => {
  let status = 0;
  try {
    request('POST', '/greetings', '{}');
  } catch (e) {
    status = (e as { status: number }).status;
  }
  check(status === 422, `expected a 422 abort, got ${status}`);
});

console.log(`${passed} tests passed`);
