#!/usr/bin/env node
// Coverage-guided fuzzing of every parser that reads a peer's bytes, with Jazzer.js (libFuzzer
// in Node, edge coverage from instrumenting the build): `npm run fuzz` (builds first).
//
//   node scripts/fuzz-jazzer.mjs [--seconds 300] [--target decoder|head|tokens|inflate|client-response]...
//                                [--work DIR] [--json] [--report FILE.md] [--coverage]
//
// Each target (fuzz/targets/<name>.mjs) runs --seconds seconds in its own process, starting
// from its seed corpus fuzz/corpus/<name>/ (made by scripts/fuzz-corpus.mjs from the
// conformance cases) plus what earlier runs found in <work>/<name>/ (default fuzz/.work, not
// committed). A crash, an invariant broken or a hang is a finding: its input is written to
// <work>/findings/<name>-…, the run goes on with the next target, and the script exits 1. Copy a
// finding to fuzz/regressions/<name>/ once fixed: test/hardening/fuzz-regressions.test.ts replays
// every file there. --coverage adds Jazzer's istanbul report (lines and branches of the build).
// SOCKWIRE_DIST=/path fuzzes another build than ./dist.
import { spawn } from 'node:child_process';
import { existsSync, mkdirSync, readFileSync, readdirSync, writeFileSync } from 'node:fs';
import { dirname, join, resolve } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';

const root = resolve(dirname(fileURLToPath(import.meta.url)), '..');
export const TARGETS = ['decoder', 'head', 'tokens', 'inflate', 'client-response'];
/** Targets whose fuzz function returns a promise (zlib works off the main thread). */
const ASYNC = new Set(['inflate']);

const { values: args } = parseArgs({
  options: {
    seconds: { type: 'string', default: '300' },
    target: { type: 'string', multiple: true },
    work: { type: 'string', default: join(root, 'fuzz', '.work') },
    json: { type: 'boolean', default: false },
    report: { type: 'string' },
    coverage: { type: 'boolean', default: false },
    'max-len': { type: 'string', default: '8192' },
  },
});
const seconds = Number(args.seconds);
const targets = args.target ?? TARGETS;
for (const t of targets) if (!TARGETS.includes(t)) throw new Error(`unknown target ${t} (known: ${TARGETS.join(', ')})`);
const dist = resolve(process.env.SOCKWIRE_DIST ?? join(root, 'dist'));
if (!existsSync(join(dist, 'framing', 'index.js'))) {
  console.error(`${dist}/framing/index.js not found: run \`npm run build\` (npm run fuzz does)`);
  process.exit(2);
}

/** Runs one target; resolves with its figures. */
function fuzzTarget(name) {
  const work = join(args.work, name);
  const findings = join(args.work, 'findings');
  mkdirSync(work, { recursive: true });
  mkdirSync(findings, { recursive: true });
  const jazzerArgs = [
    '-r', join(root, 'fuzz', 'jazzer-addon.cjs'),
    join(root, 'node_modules', '@jazzer.js', 'core', 'dist', 'cli.js'),
    join(root, 'fuzz', 'targets', `${name}.mjs`),
    // Only the build is instrumented: its edges are the coverage that guides the search.
    '--includes', dist,
    '--timeout', '10000',
    // Jazzer's detectors look for command injection, SSRF and the like: none of that is here.
    '--disable_bug_detectors', '.*',
    ...(ASYNC.has(name) ? [] : ['--sync']),
    ...(args.coverage ? ['--coverage', '--coverage_directory', join(args.work, 'coverage', name), '--coverage_reporters', 'json-summary'] : []),
    '--',
    work,
    join(root, 'fuzz', 'corpus', name),
    `-max_total_time=${seconds}`,
    `-max_len=${args['max-len']}`,
    `-artifact_prefix=${findings}/${name}-`,
    '-print_final_stats=1',
  ];
  const before = new Set(readdirSync(findings));
  return new Promise((done) => {
    const started = Date.now();
    const child = spawn(process.execPath, jazzerArgs, { cwd: root, env: { ...process.env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let out = '';
    child.stdout.on('data', (d) => (out += d));
    child.stderr.on('data', (d) => (out += d));
    child.on('close', (code, signal) => {
      const figures = readFigures(out);
      // libFuzzer names the file it wrote, unless its output was cut off at exit: then the new file says.
      const written = readdirSync(findings).filter((f) => f.startsWith(`${name}-`) && !before.has(f));
      const finding = /Test unit written to (\S+)/.exec(out)?.[1] ?? (written.length > 0 ? join(findings, written[0]) : null);
      // libFuzzer's final stats are sometimes cut off at exit: the rate is then the runs over the time asked.
      figures.execPerSec ??= figures.executions !== null && code === 0 ? Math.round(figures.executions / seconds) : null;
      const result = { target: name, exitCode: code, signal, seconds: (Date.now() - started) / 1000, ...figures, finding };
      if (args.coverage) Object.assign(result, readCoverage(join(args.work, 'coverage', name)));
      if (code !== 0 || finding) result.log = out.split('\n').filter((l) => !/^".*# Uses: \d+$/.test(l)).slice(-40).join('\n');
      done(result);
    });
  });
}

/** libFuzzer's own figures, from its status lines and final stats. */
function readFigures(out) {
  const num = (re) => {
    const m = re.exec(out);
    return m ? Number(m[1]) : null;
  };
  let edges = 0;
  for (const m of out.matchAll(/INFO: Loaded \d+ modules\s+\((\d+) inline 8-bit counters\)/g)) edges += Number(m[1]);
  const status = [...out.matchAll(/^#(\d+)\s+\w+\s+cov: (\d+) ft: (\d+) corp: (\d+)\//gm)].at(-1);
  const inited = /^#\d+\s+INITED\s+cov: (\d+) ft: (\d+) corp: (\d+)/m.exec(out);
  const done = /Done (\d+) runs in (\d+) second/.exec(out);
  return {
    executions: num(/stat::number_of_executed_units:\s+(\d+)/) ?? (done ? Number(done[1]) : status ? Number(status[1]) : null),
    execPerSec: num(/stat::average_exec_per_sec:\s+(\d+)/) ?? (done && Number(done[2]) > 0 ? Math.round(Number(done[1]) / Number(done[2])) : null),
    newUnits: num(/stat::new_units_added:\s+(\d+)/),
    seedCoverage: inited ? Number(inited[1]) : null,
    coverage: status ? Number(status[2]) : inited ? Number(inited[1]) : null,
    features: status ? Number(status[3]) : null,
    corpus: status ? Number(status[4]) : null,
    instrumentedEdges: edges || null,
  };
}

/** Line and branch percentages of the build's files, from Jazzer's istanbul json-summary. */
function readCoverage(dir) {
  const file = join(dir, 'coverage-summary.json');
  if (!existsSync(file)) return {};
  const total = JSON.parse(readFileSync(file, 'utf8')).total;
  return { linesPct: total.lines.pct, branchesPct: total.branches.pct };
}

function table(results) {
  const rows = [
    '| target | seconds | executions | exec/s | edges covered (seeds → end) | instrumented edges | corpus | lines / branches | finding |',
    '| --- | ---: | ---: | ---: | ---: | ---: | ---: | ---: | --- |',
  ];
  for (const r of results) {
    const cov = r.linesPct !== undefined ? `${r.linesPct}% / ${r.branchesPct}%` : '—';
    rows.push(
      `| ${r.target} | ${Math.round(r.seconds)} | ${r.executions ?? '?'} | ${r.execPerSec ?? '?'} | ${r.seedCoverage ?? '?'} → ${r.coverage ?? '?'} | ${r.instrumentedEdges ?? '?'} | ${r.corpus ?? '?'} | ${cov} | ${r.finding ?? (r.exitCode === 0 ? 'none' : `exit ${r.exitCode ?? r.signal}`)} |`,
    );
  }
  return rows.join('\n');
}

const results = [];
for (const name of targets) {
  const seeds = existsSync(join(root, 'fuzz', 'corpus', name)) ? readdirSync(join(root, 'fuzz', 'corpus', name)).length : 0;
  if (!args.json) console.log(`fuzzing ${name} for ${seconds} s (${seeds} seeds)…`);
  const r = await fuzzTarget(name);
  results.push(r);
  if (!args.json) {
    console.log(`  ${r.executions ?? '?'} executions, ${r.execPerSec ?? '?'}/s, coverage ${r.seedCoverage ?? '?'} → ${r.coverage ?? '?'} edges of ${r.instrumentedEdges ?? '?'}, corpus ${r.corpus ?? '?'}`);
    if (r.finding || r.exitCode !== 0) console.log(`  FINDING (exit ${r.exitCode ?? r.signal}): ${r.finding ?? 'no input written'}\n${r.log}`);
  }
}
if (args.report) writeFileSync(args.report, `${table(results)}\n`);
if (args.json) console.log(JSON.stringify(results, null, 2));
else console.log(`\n${table(results)}`);
process.exitCode = results.every((r) => r.exitCode === 0 && !r.finding) ? 0 : 1;
