// Reads commander's --help output: each option's long flag with its text, whitespace collapsed
// (the wrapping column differs from command to command).
export function helpOptions(help: string): Map<string, string> {
  const options = new Map<string, string>();
  const section = help.split(/^Options:$/m)[1] ?? '';
  let current: string | undefined;
  for (const line of section.split('\n')) {
    if (/^\S/.test(line)) break; // the next section (Commands:, help text after)
    const m = /^ {2}((?:-\w, )?(--[\w-]+)(?: [<[][^>\]]+[>\]])?)\s+(.*)$/.exec(line);
    if (m) {
      current = m[2];
      options.set(current, `${m[1]}  ${m[3]}`);
    } else if (current && line.trim()) {
      options.set(current, `${options.get(current)} ${line.trim()}`);
    }
  }
  return options;
}
