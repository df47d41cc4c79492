// The TypeScriptToLua plugin Redox compiles with: line-keeping printing, JSON-friendly empty
// arrays, and a lualib bundle holding just the helpers the app uses.
import path from 'node:path';
import * as ts from 'typescript';
import * as tstl from 'typescript-to-lua';
import { buildMinimalLualibBundle } from 'typescript-to-lua/dist/LuaLib';
import { lineKeepingPrinter } from './printer';

/** Empty array literals are marked as JSON arrays, so `{ items: [] }` encodes as
 *  {"items":[]} and not {"items":{}}. (Arrays that lualib builds, such as the result of
 *  filter(), are plain tables: an empty one still encodes as {}.) */
/** Built-in methods TypeScriptToLua reports as unsupported, provided by the support module
 *  (support.lua.ts) as ____rx.<kind>_<method>(receiver, ...args). */
export const SUPPORTED_EXTRA = {
  string: ['lastIndexOf', 'at', 'codePointAt', 'localeCompare', 'toLocaleLowerCase', 'toLocaleUpperCase', 'isWellFormed'],
  array: ['lastIndexOf', 'findLast', 'findLastIndex'],
} as const;

function receiverKind(checker: ts.TypeChecker, expr: ts.Expression): 'string' | 'array' | undefined {
  const type = checker.getNonNullableType(checker.getTypeAtLocation(expr));
  const parts = type.isUnion() ? type.types : [type];
  if (parts.every((t) => (t.flags & ts.TypeFlags.StringLike) !== 0)) return 'string';
  if (parts.every((t) => checker.isArrayType(t) || checker.isTupleType(t))) return 'array';
  return undefined;
}

const visitors: tstl.Visitors = {
  [ts.SyntaxKind.CallExpression]: (node, context) => {
    const callee = node.expression;
    if (ts.isPropertyAccessExpression(callee) && !node.questionDotToken && !callee.questionDotToken && !node.arguments.some(ts.isSpreadElement)) {
      const method = callee.name.text;
      const kind = receiverKind(context.checker, callee.expression);
      if (kind && (SUPPORTED_EXTRA[kind] as readonly string[]).includes(method)) {
        return tstl.createCallExpression(
          tstl.createTableIndexExpression(tstl.createIdentifier('____rx'), tstl.createStringLiteral(`${kind}_${method}`)),
          [context.transformExpression(callee.expression), ...node.arguments.map((a) => context.transformExpression(a))], node);
      }
    }
    return context.superTransformExpression(node);
  },
  [ts.SyntaxKind.ArrayLiteralExpression]: (node, context) => {
    const result = context.superTransformExpression(node);
    if (node.elements.length > 0) return result;
    const parent = node.parent;
    if (ts.isBinaryExpression(parent) && parent.left === node) return result;
    return tstl.createCallExpression(
      tstl.createTableIndexExpression(tstl.createIdentifier('____rx'), tstl.createStringLiteral('array')), [result], node);
  },
};

/** One plugin per compile: it collects the lualib features the printed files use. */
export function redoxPlugin(): tstl.Plugin {
  const features = new Set<tstl.LuaLibFeature>();
  return {
    visitors,
    printer: (program, emitHost, fileName, file) => {
      for (const f of file.luaLibFeatures) features.add(f);
      return lineKeepingPrinter(program, emitHost, fileName, file);
    },
    // TypeScriptToLua finds the features by scanning the printed code line by line, which the
    // line-keeping layout defeats; the printer saw them, so the bundle is rebuilt from those.
    beforeEmit: (_program, options, emitHost, result) => {
      for (const file of result) {
        if (path.basename(file.outputPath) === 'lualib_bundle.lua') {
          file.code = buildMinimalLualibBundle(features, options.luaTarget ?? tstl.LuaTarget.Lua54, emitHost);
        }
      }
    },
  };
}
