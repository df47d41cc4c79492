// Strict decoders. Node's Buffer.from(s, 'base64') silently skips characters it does not know;
// for input from the outside world we want "this is not base64" instead.

/** Bytes of base64 or base64url text, or undefined when the text is not exactly that. Padding
 *  is optional but must be right when present; whitespace is not accepted. */
export function decodeBase64(text: string, encoding: 'base64' | 'base64url'): Buffer | undefined {
  const bytes = Buffer.from(text, encoding);
  // Re-encoding must give the input back: this rejects unknown characters, misplaced padding
  // and non-zero trailing bits.
  const bare = bytes.toString(encoding).replace(/=+$/, '');
  const padded = bare + '='.repeat((4 - (bare.length % 4)) % 4);
  return text === bare || text === padded ? bytes : undefined;
}

const HEX = /^(?:[0-9a-fA-F]{2})*$/;

export function decodeHex(text: string): Buffer | undefined {
  return HEX.test(text) ? Buffer.from(text, 'hex') : undefined;
}
