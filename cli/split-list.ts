// Comma-separated, repeatable list flags (--features a,b --features c), shared by every command.
/** Splits "a, b,c" lists as given on the command line (repeatable flags are joined first). */
export function splitList(values: string | string[] | undefined): string[] {
  const list = Array.isArray(values) ? values : values === undefined ? [] : [values];
  return list.flatMap((v) => v.split(',')).map((s) => s.trim()).filter(Boolean);
}
