// Facts about the run that make numbers comparable later.
import os from 'node:os';
import { readFileSync } from 'node:fs';
import { spawnSync } from 'node:child_process';
import { createRequire } from 'node:module';
import { fileURLToPath } from 'node:url';

const root = fileURLToPath(new URL('../../', import.meta.url));
const require = createRequire(`${root}package.json`);

function version(pkg) {
  try {
    return require(`${pkg}/package.json`).version;
  } catch {
    return 'not installed';
  }
}

function git(args) {
  const r = spawnSync('git', args, { cwd: root, encoding: 'utf8' });
  return r.status === 0 ? r.stdout.trim() : undefined;
}

function cpuModel() {
  // os.cpus() reports the model string the kernel exposes; fall back to
  // /proc/cpuinfo's "model name" which on some VMs is more specific.
  const model = os.cpus()[0]?.model?.trim();
  if (model) return model;
  try {
    return /model name\s*:\s*(.+)/.exec(readFileSync('/proc/cpuinfo', 'utf8'))?.[1] ?? 'unknown';
  } catch {
    return 'unknown';
  }
}

export function machineInfo() {
  const pkg = JSON.parse(readFileSync(`${root}package.json`, 'utf8'));
  const dirty = git(['status', '--porcelain', '--', 'src']);
  return {
    date: new Date().toISOString(),
    cpu: cpuModel(),
    cores: os.cpus().length,
    memoryGiB: +(os.totalmem() / 2 ** 30).toFixed(1),
    os: `${os.type()} ${os.release()} ${os.arch()}`,
    loadavg: os.loadavg().map((x) => +x.toFixed(2)),
    node: process.version,
    packages: {
      sockwire: `${pkg.version} (${git(['rev-parse', '--short', 'HEAD']) ?? 'no git'}${dirty ? ', src modified' : ''})`,
      ws: version('ws'),
      bufferutil: version('bufferutil'),
      'utf-8-validate': version('utf-8-validate'),
    },
  };
}
