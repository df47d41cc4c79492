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

/** Polls `probe` until it returns a value (not undefined); the test's timeout is the hang guard. */
export async function until<T>(probe: () => Promise<T | undefined>, everyMs = 25): Promise<T> {
  for (;;) {
    const v = await probe().catch(() => undefined);
    if (v !== undefined) return v;
    await new Promise((r) => setTimeout(r, everyMs));
  }
}
