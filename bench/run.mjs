// The benchmark harness. Usually started through `bash bench/run.sh` (which
// raises the file-descriptor limit); see bench/README.md for options.
import { cpSync, existsSync, mkdtempSync, readdirSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import os from 'node:os';
import { canPin, spawnHost } from './lib/procs.mjs';
import { measure } from './lib/measure.mjs';
import { scenarios as allScenarios } from './lib/scenarios.mjs';
import { summarise, tables, renderText, resultsMarkdown } from './lib/report.mjs';
import { machineInfo } from './lib/machine.mjs';
import { human, percentText } from './lib/stats.mjs';

const benchDir = fileURLToPath(new URL('./', import.meta.url));
const ORDER = ['ws', 'ws-native', 'raw-net', 'sockwire'];

const { values: args } = parseArgs({
  options: {
    quick: { type: 'boolean', default: false },
    rounds: { type: 'string' },
    duration: { type: 'string' },
    warmup: { type: 'string' },
    servers: { type: 'string' },
    only: { type: 'string' },
    idle: { type: 'string' },
    out: { type: 'string' },
    json: { type: 'string' },
    'no-pin': { type: 'boolean', default: false },
    help: { type: 'boolean', default: false },
  },
});

if (args.help) {
  console.log(`usage: bash bench/run.sh [--quick] [--rounds N] [--duration ms] [--warmup ms]
       [--servers ws,ws-native,raw-net,sockwire] [--only REGEX] [--idle N]
       [--out bench/RESULTS.md] [--json file] [--no-pin]`);
  process.exit(0);
}

const int = (v, d) => (v === undefined ? d : Number.parseInt(v, 10));
const ctx = {
  quick: args.quick,
  rounds: int(args.rounds, args.quick ? 3 : 5),
  warmupMs: int(args.warmup, args.quick ? 250 : 1000),
  durationMs: int(args.duration, args.quick ? 600 : 3000),
  pin: !args['no-pin'] && canPin(),
  cores: os.cpus().length,
  // Anything that makes this run differ from a plain --quick or full run, for the report.
  custom: ['rounds', 'duration', 'warmup', 'servers', 'only', 'idle', 'no-pin']
    .filter((k) => args[k] !== undefined && args[k] !== false)
    .map((k) => (args[k] === true ? `--${k}` : `--${k} ${/\s/.test(args[k]) ? `'${args[k]}'` : args[k]}`)),
};
const outPath = args.out ?? `${benchDir}RESULTS.md`;

/** Every bench/servers/*.mjs that is not a helper (leading _) or the host is an implementation. */
function discoverServers() {
  const names = readdirSync(`${benchDir}servers`)
    .filter((f) => f.endsWith('.mjs') && !f.startsWith('_') && f !== 'host.mjs')
    .map((f) => f.slice(0, -4));
  const rank = (n) => (ORDER.includes(n) ? ORDER.indexOf(n) : ORDER.length);
  return names.sort((a, b) => rank(a) - rank(b) || a.localeCompare(b));
}

async function probe(name) {
  const adapter = await import(`./servers/${name}.mjs`);
  const base = { description: adapter.description ?? name, env: adapter.env ?? {} };
  const host = spawnHost(name, { role: 'probe' }, { pin: false, env: base.env });
  try {
    const msg = await host.waitFor((m) => m.type === 'probe' || m.type === 'error', 20_000, 'probe');
    if (msg.type === 'error') return { ...base, ok: false, reason: msg.message.split('\n')[0] };
    return { ...base, ...msg.result };
  } catch (err) {
    return { ...base, ok: false, reason: err.message };
  } finally {
    await host.stop();
  }
}

const wanted = args.servers?.split(',').map((s) => s.trim()).filter(Boolean);
const available = discoverServers();
for (const w of wanted ?? []) {
  if (!available.includes(w)) {
    console.error(`unknown server "${w}"; known: ${available.join(', ')}`);
    process.exit(2);
  }
}
const names = wanted ?? available;

const onlyRe = args.only ? new RegExp(args.only, 'i') : undefined;
const scenarioList = allScenarios({ quick: ctx.quick, idleConns: args.idle ? int(args.idle) : undefined }).filter(
  (s) => !onlyRe || onlyRe.test(s.id),
);
if (scenarioList.length === 0) {
  console.error('no scenario matches --only');
  process.exit(2);
}

// Others rebuild dist/ in this checkout while we run; benchmark a private
// snapshot so every round measures the same build and none loads a half-written one.
if (!process.env.SOCKWIRE_DIST && existsSync(`${benchDir}../dist/index.js`)) {
  const snapshot = mkdtempSync(join(tmpdir(), 'sockwire-bench-dist-'));
  cpSync(`${benchDir}../dist`, snapshot, { recursive: true });
  process.env.SOCKWIRE_DIST = snapshot;
  process.env.SOCKWIRE_DIST_IS_SNAPSHOT = '1';
  process.on('exit', () => rmSync(snapshot, { recursive: true, force: true }));
  process.on('SIGINT', () => process.exit(130));
}

const info = machineInfo();
console.log(`sockwire bench — ${ctx.quick ? 'quick' : 'full'} run, ${ctx.rounds} rounds, ${scenarioList.length} scenarios`);
console.log(`${info.cpu} × ${info.cores}, Node ${info.node}, pinning: ${ctx.pin ? 'taskset (peer core 1, load generator core 0)' : 'off'}`);

const probes = new Map();
for (const name of names) {
  const p = await probe(name);
  probes.set(name, p);
  console.log(p.ok ? `  ${name}: ${p.info.join('; ')}` : `  ${name}: SKIPPED — ${p.reason}`);
}
const servers = names.filter((n) => probes.get(n).ok);
if (servers.length === 0) {
  console.error('no implementation is available to benchmark');
  process.exit(1);
}

const samples = new Map(scenarioList.map((s) => [s.id, new Map(servers.map((n) => [n, []]))]));

function save(complete) {
  const summary = summarise(scenarioList, servers, samples);
  writeFileSync(outPath, resultsMarkdown({ info, ctx, probes, servers, summary, samples, scenarios: scenarioList, complete }));
  if (args.json) {
    const raw = Object.fromEntries([...samples].map(([id, m]) => [id, Object.fromEntries(m)]));
    writeFileSync(args.json, JSON.stringify({ info, ctx, servers, probes: Object.fromEntries(probes), summary, samples: raw }, null, 2));
  }
  return summary;
}

const started = Date.now();
for (let round = 1; round <= ctx.rounds; round++) {
  for (const sc of scenarioList) {
    for (const name of servers) {
      const server = { name, env: probes.get(name).env };
      let sample;
      const t0 = Date.now();
      try {
        sample = await measure(server, sc, ctx);
      } catch (err) {
        sample = { error: err.message };
      }
      samples.get(sc.id).get(name).push(sample);
      const shown = sample.metrics
        ? `${sc.metrics.map((m) => `${human(sample.metrics[m.key])} ${m.label}`).join(', ')}` +
          (sample.peerCpu !== undefined
            ? `  (cpu: peer ${percentText(sample.peerCpu)}, loadgen ${percentText(sample.loadgenCpu)}, others ${percentText(sample.othersCpu)})`
            : '')
        : sample.skipped
          ? `skipped: ${sample.skipped}`
          : `ERROR: ${sample.error.split('\n')[0]}`;
      const secs = ((Date.now() - t0) / 1000).toFixed(1);
      console.log(`[${round}/${ctx.rounds}] ${sc.id.padEnd(28)} ${name.padEnd(10)} ${shown}  ${secs}s`);
    }
  }
  save(false);
}

const summary = save(true);
console.log('');
for (const t of tables(summary, servers)) console.log(renderText(t), '\n');
console.log(`done in ${((Date.now() - started) / 1000).toFixed(0)} s; wrote ${outPath}${args.json ? ` and ${args.json}` : ''}`);
