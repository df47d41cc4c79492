// A TypeScriptToLua printer whose Lua has the TypeScript line numbers: every piece of code is
// placed on the line of the TypeScript it came from (several statements may share a line).
// Lua then reports errors and tracebacks as "app.ts:LINE" by itself, with no translation at
// run time, in messages, tracebacks, logs and caught errors alike.
import * as tstl from 'typescript-to-lua';

/** The parts of source-map's SourceNode that the layout reads. */
interface Chunked {
  line: number | null;
  children: (Chunked | string)[];
}

/** Drops comments: a `--` comment joined to the next line would swallow its code. */
class PlainPrinter extends tstl.LuaPrinter {
  printStatement(statement: tstl.Statement) {
    return this.printStatementExcludingComments(statement);
  }
}

export const lineKeepingPrinter: tstl.Printer = (program, emitHost, fileName, file) => {
  file.trivia = '';
  unplaceDeclarations(file.statements);
  keepTopLevelOrder(file);
  const printed = new PlainPrinter(emitHost, program, fileName).print(file);
  return { ...printed, code: layout(printed.sourceMapNode as unknown as Chunked) };
};

/**
 * Lays printed chunks out on their TypeScript lines. The printer's own line breaks are only
 * formatting (string literals are always escaped and comments are gone), so they become
 * spaces; a chunk that starts a later TypeScript line gets the newlines it needs. A chunk
 * without a position of its own takes the position of the nearest node around it (the `error`
 * of a throw is on the throw's line); one with none at all stays on the current line, and so
 * does code whose line is earlier than the current one.
 */
export function layout(root: Chunked): string {
  const parts: string[] = [];
  let line = 1;
  let spaced = true; // the output ends with whitespace
  const emit = (chunk: string, at: number | null) => {
    // Indentation and line breaks become one space: chunks never hold them inside code.
    let text = chunk.replace(/[ \t]*\r?\n[ \t\r\n]*/g, ' ');
    if (at !== null && at > line && text.trim() !== '') {
      parts.push('\n'.repeat(at - line));
      line = at;
      spaced = true;
    }
    if (spaced) text = text.replace(/^[ \t]+/, '');
    if (text === '') return;
    if (/^[ \t]+$/.test(text)) text = ' ';
    parts.push(text);
    spaced = /[ \t]$/.test(text);
  };
  const visit = (node: Chunked, inherited: number | null) => {
    const at = node.line ?? inherited;
    for (const child of node.children) {
      if (typeof child === 'string') emit(child, at);
      else visit(child, at);
    }
  };
  visit(root, null);
  return parts.join('').replace(/[ \t]+$/gm, '') + '\n';
}

/** The first TypeScript line a statement covers (statements themselves often carry no
 *  position; their parts do). */
function lineOf(node: unknown): number | undefined {
  let min: number | undefined;
  const visit = (value: unknown): void => {
    if (Array.isArray(value)) return value.forEach(visit);
    if (!value || typeof value !== 'object' || typeof (value as tstl.Node).kind !== 'number') return;
    const line = tstl.getOriginalPos(value as tstl.Node).line;
    if (line !== undefined && (min === undefined || line < min)) min = line;
    for (const [key, child] of Object.entries(value)) if (key !== 'parent' && key !== 'symbolId') visit(child);
  };
  visit(node);
  return min;
}

/** A bare `local a, b` that TypeScriptToLua hoisted names declarations found further down;
 *  without their positions they do not pull the layout down to those lines. */
function unplaceDeclarations(value: unknown): void {
  if (Array.isArray(value)) return value.forEach(unplaceDeclarations);
  if (!value || typeof value !== 'object' || typeof (value as tstl.Node).kind !== 'number') return;
  const node = value as tstl.Node;
  if (tstl.isVariableDeclarationStatement(node) && !node.right) {
    for (const id of node.left) id.line = id.column = undefined;
  }
  for (const [key, child] of Object.entries(node)) if (key !== 'parent') unplaceDeclarations(child);
}

/**
 * TypeScriptToLua hoists function declarations that are used before they are declared to the
 * top of their scope, which would put their lines before the code above them. At the top level
 * of a file the statements are therefore wrapped in closures, written in TypeScript order and
 * run in the hoisted order: text order and execution order no longer need to agree. Every
 * top-level local is declared first so the closures share them. (Inside functions the hoisted
 * code keeps TypeScriptToLua's order, and its errors report a later line.)
 */
export function keepTopLevelOrder(file: tstl.File): void {
  const statements = file.statements;
  const last = statements[statements.length - 1];
  const tail = last && tstl.isReturnStatement(last) ? [last] : [];
  const body = statements.slice(0, statements.length - tail.length);
  let previous = 0;
  let ordered = true;
  const keyed = body.map((statement, index) => {
    const line = lineOf(statement);
    if (line !== undefined) {
      if (line < previous) ordered = false;
      previous = line;
    }
    return { statement, index, line: line ?? previous };
  });
  if (ordered) return;

  const locals: tstl.Identifier[] = [];
  const steps = tstl.createIdentifier('____steps');
  const kept = keyed.flatMap((k) => {
    const statement = withoutLocal(k.statement, locals);
    return statement ? [{ ...k, statement }] : [];
  });
  const rewritten = kept
    .map((k, order) => ({ ...k, order: order + 1 }))
    .sort((a, b) => a.line - b.line || a.index - b.index)
    .map(({ statement, order }) => step(steps, order, statement));
  const runAll = tstl.createForStatement(
    tstl.createBlock([tstl.createExpressionStatement(tstl.createCallExpression(
      tstl.createTableIndexExpression(steps, tstl.createIdentifier('____i')), [tstl.createDotsLiteral()]))]),
    tstl.createIdentifier('____i'), tstl.createNumericLiteral(1), tstl.createNumericLiteral(kept.length),
  );
  file.statements = [
    ...(locals.length ? [tstl.createVariableDeclarationStatement(dedupe(locals))] : []),
    tstl.createVariableDeclarationStatement(steps, tstl.createTableExpression()),
    ...rewritten,
    runAll,
    ...tail,
  ];
}

/** `local a, b = x` becomes `a, b = x` with a and b collected; a bare `local a` disappears. */
function withoutLocal(statement: tstl.Statement, locals: tstl.Identifier[]): tstl.Statement | undefined {
  if (!tstl.isVariableDeclarationStatement(statement)) return statement;
  locals.push(...statement.left);
  if (!statement.right) return undefined;
  return tstl.setNodePosition(tstl.createAssignmentStatement(statement.left, statement.right), statement);
}

function step(steps: tstl.Identifier, index: number, statement: tstl.Statement): tstl.Statement {
  const fn = tstl.createFunctionExpression(tstl.createBlock([statement]), [], tstl.createDotsLiteral());
  return tstl.createAssignmentStatement(tstl.createTableIndexExpression(steps, tstl.createNumericLiteral(index)), fn);
}

function dedupe(ids: tstl.Identifier[]): tstl.Identifier[] {
  const seen = new Set<string>();
  // Fresh identifiers: the declaration sits on line 1 and must not carry later positions.
  return ids.filter((id) => (seen.has(id.text) ? false : (seen.add(id.text), true))).map((id) => tstl.createIdentifier(id.text));
}
