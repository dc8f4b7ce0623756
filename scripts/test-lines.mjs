#!/usr/bin/env node
// The test step of `npm test` (after build and type-check): vitest on this Node, and — in CI,
// or when SOCKWIRE_NODE_LINES asks — again on each other Node line sockwire supports, one after
// the other (the machine has two cores; the suite already uses both).
//
//   SOCKWIRE_NODE_LINES unset   CI=true: this Node, then the other lines of 20, 22, 24;
//                               otherwise this Node only (a developer's `npm test`)
//   SOCKWIRE_NODE_LINES=all     the same as in CI
//   SOCKWIRE_NODE_LINES=22,24   these lines (this Node stands for its own line)
//   SOCKWIRE_NODE_LINES=current this Node only, in CI too
//
// Arguments go to vitest (`npm test -- test/server` runs that folder on every line). The build
// in dist/ is made once, by this Node's tsc: its output does not depend on the Node that runs it.
// Every line runs even when one fails; the exit status is non-zero if any failed.
import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { CURRENT_MAJOR, LINES, envFor, nodeBinary } from './node-line.mjs';

const VITEST = fileURLToPath(new URL('../node_modules/vitest/vitest.mjs', import.meta.url));

/** The majors to run, this process's own first. */
export function selectLines(env = process.env) {
  const asked = env.SOCKWIRE_NODE_LINES?.trim();
  const all = [CURRENT_MAJOR, ...LINES.filter((l) => l !== CURRENT_MAJOR)];
  if (asked === undefined || asked === '') return env.CI === 'true' || env.CI === '1' ? all : [CURRENT_MAJOR];
  if (asked === 'all') return all;
  if (asked === 'current') return [CURRENT_MAJOR];
  const majors = asked.split(',').map((s) => Number(s.trim()));
  const bad = majors.find((m) => !Number.isInteger(m) || m < 1);
  if (bad !== undefined) throw new Error(`SOCKWIRE_NODE_LINES must be 'all', 'current' or majors like 22,24; got ${JSON.stringify(asked)}`);
  return [...new Set(majors)];
}

function main(args) {
  let lines;
  try {
    lines = selectLines();
  } catch (err) {
    process.stderr.write(`test-lines: ${err.message}\n`);
    return 2;
  }
  const results = [];
  for (const major of lines) {
    let bin;
    try {
      bin = nodeBinary(major);
    } catch (err) {
      process.stderr.write(`test-lines: Node ${major}: ${err.message}\n`);
      results.push({ label: `Node ${major}`, ok: false, note: 'not run: no binary' });
      continue;
    }
    const version = major === CURRENT_MAJOR ? process.version : spawnSync(bin, ['--version'], { encoding: 'utf8' }).stdout.trim();
    if (lines.length > 1) process.stdout.write(`\n=== vitest on Node ${version}\n`);
    // The lines after the first are told so (SOCKWIRE_EXTRA_LINE): the fuzz smoke then only proves
    // the fuzzer runs on that Node, since what it explores is our code, not the runtime.
    const env = { ...envFor(bin), ...(results.length > 0 ? { SOCKWIRE_EXTRA_LINE: '1' } : {}) };
    const r = spawnSync(bin, [VITEST, 'run', ...args], { stdio: 'inherit', env });
    const ok = r.status === 0;
    results.push({ label: `Node ${version}`, ok, note: ok ? 'passed' : r.signal ? `killed by ${r.signal}` : `failed (exit ${r.status})` });
  }
  if (lines.length > 1) {
    process.stdout.write(`\n=== Node lines: ${results.map((r) => `${r.label} ${r.note}`).join(', ')}\n`);
  }
  return results.every((r) => r.ok) ? 0 : 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
