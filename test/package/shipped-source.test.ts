/**
 * What the shipped JavaScript costs a process just by being loaded. V8 keeps each module's source
 * text on the heap while the module lives; comments are most of our source, and one character
 * outside Latin-1 anywhere in a file (a dash or an arrow in a comment, a "≥" in a message) makes
 * V8 hold the whole file as a two-byte string. The build strips comments from dist/*.js
 * (scripts/strip-comments.mjs; the .d.ts keep theirs) and the library's own modules keep their
 * strings in Latin-1. These tests read dist/ as `npm run build` left it.
 */
import { readFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';
import ts from 'typescript';
import { describe, expect, it } from 'vitest';

const DIST = new URL('../../dist/', import.meta.url);
const pkg = JSON.parse(readFileSync(new URL('../../package.json', import.meta.url), 'utf8')) as {
  exports: Record<string, string | { import?: { default: string }; default?: string }>;
};

/** The library's entry files (every export but package.json), as dist URLs. */
function entries(): URL[] {
  const out: URL[] = [];
  for (const [key, value] of Object.entries(pkg.exports)) {
    if (key === './package.json') continue;
    const file = typeof value === 'string' ? value : (value.import?.default ?? value.default);
    if (file) out.push(new URL(`../../${file}`, import.meta.url));
  }
  return out;
}

/** Every file reachable by static relative imports from `roots` (what loading the entries loads). */
function importGraph(roots: URL[]): URL[] {
  const seen = new Map<string, URL>();
  const stack = [...roots];
  while (stack.length > 0) {
    const url = stack.pop()!;
    if (seen.has(url.href)) continue;
    seen.set(url.href, url);
    const source = ts.createSourceFile(url.pathname, readFileSync(url, 'utf8'), ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
    for (const statement of source.statements) {
      const spec = (ts.isImportDeclaration(statement) || ts.isExportDeclaration(statement)) ? statement.moduleSpecifier : undefined;
      if (spec && ts.isStringLiteral(spec) && spec.text.startsWith('.')) stack.push(new URL(spec.text, url));
    }
  }
  return [...seen.values()];
}

/**
 * Whether a JavaScript file has comments: the printer's output with and without them differs.
 * (A bare scanner cannot tell a regular expression or a template's tail from a comment; the parser can.)
 */
function hasComments(text: string): boolean {
  const source = ts.createSourceFile('x.js', text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const keep = ts.createPrinter({ removeComments: false }).printFile(source);
  return ts.createPrinter({ removeComments: true }).printFile(source) !== keep;
}

describe('the shipped JavaScript', () => {
  const graph = importGraph(entries());

  it('the import graph of the entries is the library (not an empty walk)', () => {
    const names = graph.map((u) => fileURLToPath(u).slice(fileURLToPath(DIST).length));
    expect(names).toEqual(expect.arrayContaining(['index.js', 'protocol/protocol.js', 'connection/connection.js', 'web/index.js', 'redis/index.js']));
  });

  it('carries no comments (the scanner finds them in a file that has one)', () => {
    expect(hasComments('const a = "/* not one */", b = /\\//i;\n')).toBe(false);
    expect(hasComments('const a = `//${1}`; // one\n')).toBe(true);
    expect(hasComments('/** two */\nexport const a = 1;\n')).toBe(true);
    for (const url of graph) expect(hasComments(readFileSync(url, 'utf8')), url.pathname).toBe(false);
    // The CLI's bin keeps its shebang through the stripping.
    expect(readFileSync(new URL('cli/bin.js', DIST), 'utf8').startsWith('#!/usr/bin/env node\n')).toBe(true);
  });

  it('loads as one-byte strings: no character outside Latin-1 in a module the entries load', () => {
    for (const url of graph) {
      const text = readFileSync(url, 'utf8');
      const wide = [...text].filter((c) => c.codePointAt(0)! > 0xff);
      expect(wide, url.pathname).toEqual([]);
    }
  });
});
