// crypto from a real Lua VM with only this feature installed, checked against published test
// vectors and against tokens made and checked with node:crypto directly.
import assert from 'node:assert/strict';
import { createHash, createHmac } from 'node:crypto';
import fs from 'node:fs';
import path from 'node:path';
import { after, before, describe, it } from 'node:test';
import { LuaHarness, luaWith, ROOT, serveLua } from '../../test/support/harness';

const b64url = (s: string | Buffer) => Buffer.from(s).toString('base64url');

/** An HS256/384/512 token built here, independently of the feature. */
function nodeToken(payload: object, secret: string, alg = 'HS256', header: object = { alg, typ: 'JWT' }): string {
  const input = `${b64url(JSON.stringify(header))}.${b64url(JSON.stringify(payload))}`;
  const sig = createHmac(`sha${alg.slice(2)}`, secret).update(input).digest('base64url');
  return `${input}.${sig}`;
}

const lq = (s: string) => JSON.stringify(s); // a JS string as a Lua string literal (ASCII only)

describe('crypto', () => {
  let lua: LuaHarness;
  before(async () => {
    lua = await luaWith(['crypto']);
  });
  after(() => lua.close());

  it('is reachable as a global and through require', async () => {
    assert.equal(await lua.run('return require("crypto") == crypto'), true);
  });

  it('hashes to the published test vectors', async () => {
    const r = await lua.run(`return {
      crypto.sha256("abc"), crypto.sha256(""), crypto.sha512("abc"), crypto.sha1("abc"), crypto.md5("abc"),
      crypto.hash("sha384", "abc"), crypto.hash("SHA256", "abc", "base64"), #crypto.hash("sha256", "abc", "binary"),
      crypto.hash("sha256", "abc", "binary") == crypto.hex_decode(crypto.sha256("abc")),
    }`);
    assert.deepEqual(r, [
      'ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad',
      'e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855',
      'ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f',
      'a9993e364706816aba3e25717850c26c9cd0d89d',
      '900150983cd24fb0d6963f7d28e17f72',
      'cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed8086072ba1e7cc2358baeca134c825a7',
      'ungWv48Bz+pBQUDeXa4iI7ADYaOWF3qctBD/YfIAFa0=',
      32,
      true,
    ]);
  });

  it('computes HMAC as in RFC 4231 (test cases 1 and 2)', async () => {
    const r = await lua.run(`return {
      crypto.hmac("sha256", "Jefe", "what do ya want for nothing?"),
      crypto.hmac("sha512", "Jefe", "what do ya want for nothing?"),
      crypto.hmac("sha256", string.rep("\\x0b", 20), "Hi There"),
      crypto.hmac("sha256", "Jefe", "what do ya want for nothing?", "base64"),
    }`);
    assert.deepEqual(r, [
      '5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843',
      '164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea2505549758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737',
      'b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7',
      Buffer.from('5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843', 'hex').toString('base64'),
    ]);
  });

  it('hashes binary input byte for byte', async () => {
    const all = Buffer.from(Array.from({ length: 256 }, (_, i) => i));
    const r = await lua.run(`
      local b = {}
      for i = 0, 255 do b[#b + 1] = string.char(i) end
      return crypto.sha256(table.concat(b))
    `);
    assert.equal(r, createHash('sha256').update(all).digest('hex'));
  });

  it('round-trips all 256 byte values through base64, base64url and hex', async () => {
    const r = await lua.run(`
      local b = {}
      for i = 0, 255 do b[#b + 1] = string.char(i) end
      local all = table.concat(b)
      local b64, b64u, hex = crypto.base64_encode(all), crypto.base64url_encode(all), crypto.hex_encode(all)
      return {
        b64 = crypto.base64_decode(b64) == all, b64u = crypto.base64url_decode(b64u) == all, hex = crypto.hex_decode(hex) == all,
        upper = crypto.hex_decode(hex:upper()) == all, hex_len = #hex,
        url_safe = b64u:find("[+/=]") == nil, empty = crypto.base64_decode("") == "",
        unpadded = crypto.base64_decode("aGk"), padded = crypto.base64_encode("hi"),
        b64_sample = b64:sub(1, 12),
      }
    `);
    assert.deepEqual(r, {
      b64: true, b64u: true, hex: true, upper: true, hex_len: 512, url_safe: true, empty: true,
      unpadded: 'hi', padded: 'aGk=', b64_sample: Buffer.from([0, 1, 2, 3, 4, 5, 6, 7, 8]).toString('base64'),
    });
  });

  it('returns nil, err for input that is not base64 or hex', async () => {
    const r = await lua.run(`
      local out = {}
      for _, case in ipairs({
        {"base64_decode", "abc$"}, {"base64_decode", "a"}, {"base64_decode", "ab=c"}, {"base64_decode", " YQ=="},
        {"base64_decode", "YR=="}, {"base64url_decode", "a+b/"}, {"hex_decode", "abc"}, {"hex_decode", "zz"},
      }) do
        local v, err = crypto[case[1]](case[2])
        out[#out + 1] = (v == nil and err.code or "accepted") .. " " .. case[2]
      end
      return out
    `);
    assert.deepEqual(r, [
      'invalid_base64 abc$', 'invalid_base64 a', 'invalid_base64 ab=c', 'invalid_base64  YQ==',
      'invalid_base64 YR==', 'invalid_base64url a+b/', 'invalid_hex abc', 'invalid_hex zz',
    ]);
  });

  it('gives an err that composes with tostring, .. and assert()', async () => {
    const r = await lua.run(`
      local v, err = crypto.hex_decode("zz")
      local ok, raised = pcall(function() return assert(crypto.hex_decode("zz")) end)
      return {v == nil, err.code, tostring(err) == err.code .. ": " .. err.message, "failed: " .. err,
              ok, raised == nil or raised.code}
    `) as unknown[];
    assert.deepEqual(r.slice(0, 3), [true, 'invalid_hex', true]);
    assert.match(r[3] as string, /^failed: invalid_hex: crypto\.hex_decode: /);
    assert.deepEqual(r.slice(4), [false, 'invalid_hex']);
  });

  it('makes random bytes of the requested length that differ each time', async () => {
    const r = await lua.run(`
      local a, b = crypto.random_bytes(32), crypto.random_bytes(32)
      local h = crypto.random_hex(16)
      local seen, distinct = {}, 0
      for i = 1, 200 do
        local x = crypto.random_hex(8)
        if not seen[x] then distinct = distinct + 1; seen[x] = true end
      end
      return {#a, #b, a ~= b, #h, h:match("^[0-9a-f]+$") ~= nil, distinct, #crypto.random_bytes(0)}
    `);
    assert.deepEqual(r, [32, 32, true, 32, true, 200, 0]);
    await assert.rejects(lua.run('crypto.random_bytes(-1)'), /crypto.random_bytes: n must be an integer from 0 to 1048576, got -1/);
    assert.equal(await lua.run('return #crypto.random_bytes(16.0)'), 16); // a whole float is an integer
  });

  it('compares in constant time and says false for different lengths', async () => {
    const r = await lua.run(`return {
      crypto.timing_safe_equal("secret", "secret"), crypto.timing_safe_equal("secret", "secreT"),
      crypto.timing_safe_equal("short", "longer one"), crypto.timing_safe_equal("", ""),
    }`);
    assert.deepEqual(r, [true, false, false, true]);
  });

  it('raises at the caller for wrong argument types and unknown names', async () => {
    await assert.rejects(lua.run('\ncrypto.sha256(nil)'), /snippet\d+\.lua:2: crypto.sha256: the input must be a string, got nil/);
    await assert.rejects(lua.run('crypto.hash("sha999", "x")'), /unknown hash algorithm "sha999"/);
    await assert.rejects(lua.run('crypto.hash("sha256", "x", "latin2")'), /encoding must be one of hex, base64, base64url, binary/);
    await assert.rejects(lua.run('crypto.timing_safe_equal("a", 1)'), /the second argument must be a string, got number/);
  });

  describe('JWT', () => {
    it('signs and verifies a round trip, setting iat and the standard claims', async () => {
      const r = await lua.run(`
        local token = crypto.jwt_sign({sub_id = 42, roles = {"admin", "dev"}, name = "Zoë"}, "s3cret",
          {expires_in = 3600, issuer = "auth", audience = "api", subject = "user-42", header = {kid = "k1"}})
        local claims, err = crypto.jwt_verify(token, "s3cret", {issuer = "auth", audience = {"other", "api"}})
        return {token = token, claims = claims, err = err, now = os.time()}
      `) as { token: string; claims: Record<string, unknown>; err: unknown; now: number };
      assert.equal(r.err, undefined);
      const { iat, exp, ...rest } = r.claims;
      assert.ok(Math.abs((iat as number) - r.now) <= 2, `iat ${iat} vs now ${r.now}`);
      assert.equal(exp, (iat as number) + 3600);
      assert.deepEqual(rest, { sub_id: 42, roles: ['admin', 'dev'], name: 'Zoë', iss: 'auth', aud: 'api', sub: 'user-42' });
      const header = JSON.parse(Buffer.from(r.token.split('.')[0], 'base64url').toString());
      assert.deepEqual(header, { alg: 'HS256', typ: 'JWT', kid: 'k1' });
    });

    it('produces tokens that node:crypto verifies', async () => {
      for (const alg of ['HS256', 'HS384', 'HS512']) {
        const token = await lua.run(`return crypto.jwt_sign({user = "ann"}, "shared-secret", {alg = "${alg}"})`) as string;
        const [h, p, sig] = token.split('.');
        const expected = createHmac(`sha${alg.slice(2)}`, 'shared-secret').update(`${h}.${p}`).digest('base64url');
        assert.equal(sig, expected, alg);
        assert.equal(JSON.parse(Buffer.from(p, 'base64url').toString()).user, 'ann');
        assert.equal(JSON.parse(Buffer.from(h, 'base64url').toString()).alg, alg);
      }
    });

    it('verifies tokens made by an independent implementation', async () => {
      const now = Math.floor(Date.now() / 1000);
      const token = nodeToken({ sub: 'u1', scope: ['read'], exp: now + 60 }, 'k3y', 'HS512');
      const r = await lua.run(`return crypto.jwt_verify(${lq(token)}, "k3y", {algs = {"HS512"}})`);
      assert.deepEqual(r, { sub: 'u1', scope: ['read'], exp: now + 60 });
    });

    it('rejects a tampered payload with jwt_bad_signature', async () => {
      const token = await lua.run('return crypto.jwt_sign({role = "user"}, "k")') as string;
      const [h, , s] = token.split('.');
      const forged = `${h}.${b64url(JSON.stringify({ role: 'admin', iat: 1 }))}.${s}`;
      const r = await lua.run(`local v, err = crypto.jwt_verify(${lq(forged)}, "k") return {v == nil, err.code, tostring(err)}`) as string[];
      assert.equal(r[0], true);
      assert.equal(r[1], 'jwt_bad_signature');
      assert.match(r[2], /^jwt_bad_signature: /);
    });

    it('rejects a token signed with another secret', async () => {
      const r = await lua.run(`
        local t = crypto.jwt_sign({a = 1}, "right")
        local v, err = crypto.jwt_verify(t, "wrong")
        return {v == nil, err.code}
      `);
      assert.deepEqual(r, [true, 'jwt_bad_signature']);
    });

    it('rejects expired tokens, honouring leeway', async () => {
      const r = await lua.run(`
        local past = crypto.jwt_sign({a = 1, exp = os.time() - 10}, "k")
        local v, err = crypto.jwt_verify(past, "k")
        local lenient = crypto.jwt_verify(past, "k", {leeway = 30})
        local instant = crypto.jwt_sign({a = 1}, "k", {expires_in = -1})
        local v2, err2 = crypto.jwt_verify(instant, "k")
        return {v == nil, err.code, err.expired_at ~= nil, lenient and lenient.a, err2.code}
      `);
      assert.deepEqual(r, [true, 'jwt_expired', true, 1, 'jwt_expired']);
    });

    it('rejects tokens that are not valid yet', async () => {
      const r = await lua.run(`
        local t = crypto.jwt_sign({a = 1}, "k", {not_before = 120})
        local v, err = crypto.jwt_verify(t, "k")
        return {v == nil, err.code, crypto.jwt_verify(t, "k", {leeway = 300}).a}
      `);
      assert.deepEqual(r, [true, 'jwt_not_yet_valid', 1]);
    });

    it('rejects alg "none" and algorithms that are not allowed', async () => {
      const none = `${b64url(JSON.stringify({ alg: 'none', typ: 'JWT' }))}.${b64url(JSON.stringify({ admin: true }))}.`;
      const hs512 = nodeToken({ a: 1 }, 'k', 'HS512');
      const r = await lua.run(`
        local v1, e1 = crypto.jwt_verify(${lq(none)}, "k")
        local v2, e2 = crypto.jwt_verify(${lq(hs512)}, "k", {algs = {"HS256"}})
        local ok = crypto.jwt_verify(${lq(hs512)}, "k")
        return {v1 == nil, e1.code, v2 == nil, e2.code, e2.alg, ok.a}
      `);
      assert.deepEqual(r, [true, 'jwt_wrong_alg', true, 'jwt_wrong_alg', 'HS512', 1]);
    });

    it('rejects malformed tokens', async () => {
      const badJson = `${b64url('{not json')}.${b64url('{}')}.${b64url('sig')}`;
      const arrayPayload = nodeToken([1, 2] as unknown as object, 'k');
      const r = await lua.run(`
        local out = {}
        for _, t in ipairs({"", "a.b", "a.b.c.d", "!!.e30.sig", ${lq(badJson)}, ${lq(arrayPayload)}}) do
          local v, err = crypto.jwt_verify(t, "k")
          out[#out + 1] = v == nil and err.code or "accepted"
        end
        return out
      `);
      assert.deepEqual(r, Array(6).fill('jwt_malformed'));
    });

    it('checks issuer and audience', async () => {
      const r = await lua.run(`
        local t = crypto.jwt_sign({a = 1}, "k", {issuer = "auth", audience = {"api", "web"}})
        local _, e1 = crypto.jwt_verify(t, "k", {issuer = "someone-else"})
        local _, e2 = crypto.jwt_verify(t, "k", {audience = "mobile"})
        local ok = crypto.jwt_verify(t, "k", {issuer = {"x", "auth"}, audience = "web"})
        local _, e3 = crypto.jwt_verify(crypto.jwt_sign({a = 1}, "k"), "k", {issuer = "auth"})
        return {e1.code, e1.claim, e2.code, e2.claim, ok.a, e3.code}
      `);
      assert.deepEqual(r, ['jwt_claim_invalid', 'iss', 'jwt_claim_invalid', 'aud', 1, 'jwt_claim_invalid']);
    });

    it('raises for programming errors in sign and verify', async () => {
      await assert.rejects(lua.run('\ncrypto.jwt_sign("x", "k")'), /snippet\d+\.lua:2: crypto.jwt_sign: the payload must be a table of claims, got string/);
      await assert.rejects(lua.run('crypto.jwt_sign({}, "")'), /the secret is empty/);
      await assert.rejects(lua.run('crypto.jwt_sign({}, "k", {alg = "RS256"})'), /alg must be one of HS256, HS384, HS512, got RS256/);
      await assert.rejects(lua.run('crypto.jwt_sign({}, "k", {expires = 10})'), /unknown option "expires"/);
      await assert.rejects(lua.run('crypto.jwt_sign({exp = 1}, "k", {expires_in = 10})'), /the payload already has "exp"/);
      await assert.rejects(lua.run('crypto.jwt_sign({}, "k", {header = {alg = "none"}})'), /set the algorithm with the alg option/);
      await assert.rejects(lua.run('crypto.jwt_sign({blob = "\\xff"}, "k")'), /payload.blob is not UTF-8 text/);
      await assert.rejects(lua.run('crypto.jwt_sign({id = math.maxinteger}, "k")'), /payload.id is 9223372036854775807, beyond 2\^53/);
      await assert.rejects(lua.run('crypto.jwt_verify(nil, "k")'), /crypto.jwt_verify: the token must be a string, got nil/);
      await assert.rejects(lua.run('crypto.jwt_verify("a.b.c", "k", {algs = {"none"}})'), /alg must be one of HS256, HS384, HS512, got none/);
    });
  });
});

describe('crypto README example', () => {
  it('serves as written: token for an API key, then bearer auth', async () => {
    const readme = fs.readFileSync(path.join(ROOT, 'features', 'crypto', 'README.md'), 'utf8');
    const code = /```lua\n([\s\S]*?)```/.exec(readme)![1];
    const service = await serveLua(code, ['crypto']);
    try {
      const post = (apiKey: string) => fetch(`${service.url}/token`, {
        method: 'POST', headers: { 'content-type': 'application/json' }, body: JSON.stringify({ api_key: apiKey, user: 'ann' }),
      });
      assert.equal((await post('wrong')).status, 401);
      const { access_token: token } = await (await post('demo-key')).json() as { access_token: string };
      const me = await fetch(`${service.url}/me`, { headers: { authorization: `Bearer ${token}` } });
      assert.equal(me.status, 200);
      assert.equal((await me.json() as { user: string }).user, 'ann');
      assert.equal((await fetch(`${service.url}/me`)).status, 401);
      const [h, , sig] = token.split('.');
      const forged = `${h}.${b64url(JSON.stringify({ user: 'root', iss: 'example' }))}.${sig}`;
      const denied = await fetch(`${service.url}/me`, { headers: { authorization: `Bearer ${forged}` } });
      assert.equal(denied.status, 401);
      assert.match((await denied.json() as { error: string }).error, /jwt_bad_signature/);
    } finally {
      await service.close();
    }
  });
});
