// How `redox test` prints: "spec" (one line per test, failures explained, a summary), "tap"
// (TAP version 13, streamed) and "junit" (one XML document at the end, for CI dashboards).
import { TestReport } from './test-module';

export const REPORTERS = ['spec', 'tap', 'junit'] as const;
export type ReporterName = (typeof REPORTERS)[number];

export interface Totals {
  passed: number;
  failed: number;
  skipped: number;
  files: number;
  ms: number;
}

export interface Reporter {
  /** A test finished. */
  test(file: string, r: TestReport): void;
  /** A file failed before its tests could run (counted as one failure). */
  fileError(file: string, message: string): void;
  /** Text the tests printed with print(). */
  output(file: string, text: string): void;
  end(totals: Totals): void;
}

const indent = (text: string, pad: string) => text.split('\n').map((l) => pad + l).join('\n');

export function specReporter(write: (t: string) => void): Reporter {
  return {
    test(file, r) {
      const mark = r.status === 'pass' ? 'ok  ' : r.status === 'skip' ? 'skip' : 'FAIL';
      write(`${mark} ${file} > ${r.name}${r.status === 'skip' ? '' : ` (${r.ms} ms)`}\n`);
      if (r.status === 'fail') write(indent(`${r.message ?? ''}${r.detail ? `\n${r.detail}` : ''}`, '       ') + '\n');
    },
    fileError(file, message) {
      write(`FAIL ${file}\n${indent(message, '       ')}\n`);
    },
    output(_file, text) {
      write(text);
    },
    end(t) {
      write(`\n${t.passed} passed, ${t.failed} failed, ${t.skipped} skipped (${t.files} file${t.files === 1 ? '' : 's'}, ${t.ms} ms)\n`);
    },
  };
}

const yamlBlock = (fields: Record<string, string | undefined>) => {
  const lines = ['  ---'];
  for (const [k, v] of Object.entries(fields)) {
    if (v === undefined) continue;
    lines.push(`  ${k}: |-`, indent(v, '    '));
  }
  lines.push('  ...');
  return lines.join('\n') + '\n';
};

export function tapReporter(write: (t: string) => void): Reporter {
  let n = 0;
  write('TAP version 13\n');
  return {
    test(file, r) {
      n++;
      const name = `${file} > ${r.name}`.replace(/#/g, '\\#');
      if (r.status === 'skip') write(`ok ${n} - ${name} # SKIP\n`);
      else if (r.status === 'pass') write(`ok ${n} - ${name}\n`);
      else write(`not ok ${n} - ${name}\n` + yamlBlock({ message: r.message, at: r.detail }));
    },
    fileError(file, message) {
      n++;
      write(`not ok ${n} - ${file.replace(/#/g, '\\#')} (load)\n` + yamlBlock({ message }));
    },
    output(_file, text) {
      write(text.replace(/\n$/, '').split('\n').map((l) => `# ${l}`).join('\n') + '\n');
    },
    end(t) {
      write(`1..${n}\n# pass ${t.passed}\n# fail ${t.failed}\n# skip ${t.skipped}\n`);
    },
  };
}

const xml = (s: string) => s.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!)
  // XML 1.0 cannot carry most control characters, even escaped.
  .replace(/[\u0000-\u0008\u000b\u000c\u000e-\u001f]/g, (c) => `\\u${c.charCodeAt(0).toString(16).padStart(4, '0')}`);

export function junitReporter(write: (t: string) => void): Reporter {
  const suites = new Map<string, { cases: string[]; tests: number; failures: number; errors: number; skipped: number; ms: number; out: string }>();
  const suite = (file: string) => {
    let s = suites.get(file);
    if (!s) suites.set(file, (s = { cases: [], tests: 0, failures: 0, errors: 0, skipped: 0, ms: 0, out: '' }));
    return s;
  };
  return {
    test(file, r) {
      const s = suite(file);
      s.tests++;
      s.ms += r.ms;
      const open = `    <testcase classname="${xml(file)}" name="${xml(r.name)}" time="${(r.ms / 1000).toFixed(3)}"`;
      if (r.status === 'pass') s.cases.push(`${open}/>`);
      else if (r.status === 'skip') {
        s.skipped++;
        s.cases.push(`${open}>\n      <skipped/>\n    </testcase>`);
      } else {
        s.failures++;
        const first = (r.message ?? 'failed').split('\n')[0];
        s.cases.push(`${open}>\n      <failure message="${xml(first)}">${xml(`${r.message ?? ''}${r.detail ? `\n${r.detail}` : ''}`)}</failure>\n    </testcase>`);
      }
    },
    fileError(file, message) {
      const s = suite(file);
      s.tests++;
      s.errors++;
      s.cases.push(`    <testcase classname="${xml(file)}" name="(load)" time="0">\n      <error message="${xml(message.split('\n')[0])}">${xml(message)}</error>\n    </testcase>`);
    },
    output(file, text) {
      suite(file).out += text;
    },
    end(t) {
      const parts = ['<?xml version="1.0" encoding="UTF-8"?>',
        `<testsuites name="redox test" tests="${t.passed + t.failed + t.skipped}" failures="${t.failed}" skipped="${t.skipped}" time="${(t.ms / 1000).toFixed(3)}">`];
      for (const [file, s] of suites) {
        parts.push(`  <testsuite name="${xml(file)}" tests="${s.tests}" failures="${s.failures}" errors="${s.errors}" skipped="${s.skipped}" time="${(s.ms / 1000).toFixed(3)}">`);
        parts.push(...s.cases);
        if (s.out) parts.push(`    <system-out>${xml(s.out)}</system-out>`);
        parts.push('  </testsuite>');
      }
      parts.push('</testsuites>');
      write(parts.join('\n') + '\n');
    },
  };
}

export function createReporter(name: ReporterName, write: (t: string) => void): Reporter {
  return name === 'tap' ? tapReporter(write) : name === 'junit' ? junitReporter(write) : specReporter(write);
}

/** Both reporters see everything (a file report for CI and the spec lines on the console). */
export function teeReporter(a: Reporter, b: Reporter): Reporter {
  return {
    test: (f, r) => { a.test(f, r); b.test(f, r); },
    fileError: (f, m) => { a.fileError(f, m); b.fileError(f, m); },
    output: (f, t) => { a.output(f, t); b.output(f, t); },
    end: (t) => { a.end(t); b.end(t); },
  };
}
