// A port that was free a moment ago: for servers whose port must be known before they print it
// (an admin listener probed while the app is still loading).
import net from 'node:net';

export function freePort(): Promise<number> {
  return new Promise((resolve, reject) => {
    const s = net.createServer();
    s.once('error', reject);
    s.listen(0, '127.0.0.1', () => {
      const { port } = s.address() as net.AddressInfo;
      s.close(() => resolve(port));
    });
  });
}

/** Polls `probe` until it returns a value (not undefined). The test's timeout is the real hang
 *  guard; the poll also gives up after `giveUpMs`, so a test that timed out leaves no endless
 *  timer behind to keep its file's process alive. */
export async function until<T>(probe: () => Promise<T | undefined>, everyMs = 25, giveUpMs = 180_000): Promise<T> {
  const deadline = Date.now() + giveUpMs;
  let last: unknown;
  for (;;) {
    const v = await probe().catch((err) => {
      last = err;
      return undefined;
    });
    if (v !== undefined) return v;
    if (Date.now() > deadline) throw new Error(`gave up polling after ${giveUpMs} ms${last ? `; last error: ${(last as Error).message ?? last}` : ''}`);
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
