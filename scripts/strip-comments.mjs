// Strips comments from the emitted JavaScript in a build directory (the .d.ts files keep theirs).
//   node scripts/strip-comments.mjs dist
// Why: V8 keeps every loaded module's source text on the heap for as long as the module lives,
// and a single character outside Latin-1 in a comment (an arrow, a dash) makes the whole file a
// two-byte string. With comments the library's import graph held ~0.9 MB of source; without them
// the same code is ~0.3 MB in one-byte strings — less live heap for every major GC to walk
// (bench/RESULTS.md, "comments out of the shipped JavaScript"). The sources in src/ keep every
// comment; this only changes what is shipped. TypeScript's printer re-prints the syntax tree with
// `removeComments`, so no code is transformed, only trivia dropped.
import fs from 'node:fs';
import path from 'node:path';
import ts from 'typescript';

const root = process.argv[2];
if (!root) throw new Error('usage: node scripts/strip-comments.mjs <dir>');
const printer = ts.createPrinter({ removeComments: true, newLine: ts.NewLineKind.LineFeed });

function walk(dir) {
  for (const entry of fs.readdirSync(dir, { withFileTypes: true })) {
    const file = path.join(dir, entry.name);
    if (entry.isDirectory()) walk(file);
    else if (/\.(c|m)?js$/.test(entry.name)) strip(file);
  }
}

function strip(file) {
  const text = fs.readFileSync(file, 'utf8');
  const source = ts.createSourceFile(file, text, ts.ScriptTarget.Latest, false, ts.ScriptKind.JS);
  const printed = printer.printFile(source);
  // The CLI's bin must keep its shebang (the printer keeps it today; say so if that ever changes).
  if (text.startsWith('#!') && !printed.startsWith('#!')) throw new Error(`${file}: shebang lost`);
  fs.writeFileSync(file, printed);
}

walk(root);
