// scripts/node-line.mjs and scripts/test-lines.mjs: which Node lines `npm test` runs the suite
// on, and how a command is put on a given line. Installing a line from npm is exercised by CI
// itself (`npm test` with CI=true); these checks need no network: this process's own line is
// used as it is, and nothing is installed for it.
import { spawnSync } from 'node:child_process';
import { mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { dirname, join } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { ROOT } from '../examples/spawn-example.js';

const CURRENT = Number(process.versions.node.split('.')[0]);
const cache = mkdtempSync(join(tmpdir(), 'sockwire-node-lines-'));
afterAll(() => rmSync(cache, { recursive: true, force: true }));

/** Runs `node args…` from the repository root with `env` on top of a clean CI-less environment. */
function node(args: string[], env: Record<string, string> = {}): { status: number | null; stdout: string; stderr: string } {
  const base: NodeJS.ProcessEnv = { ...process.env, SOCKWIRE_NODE_CACHE: cache };
  delete base.CI;
  delete base.SOCKWIRE_NODE_LINES;
  const r = spawnSync(process.execPath, args, { cwd: ROOT, env: { ...base, ...env }, encoding: 'utf8' });
  return { status: r.status, stdout: r.stdout, stderr: r.stderr };
}

/** selectLines() of scripts/test-lines.mjs under `env`, or the error it throws. */
function selected(env: Record<string, string>): number[] | string {
  const code = `import('./scripts/test-lines.mjs').then((m) => { try { console.log(JSON.stringify(m.selectLines(${JSON.stringify(env)}))); } catch (e) { console.log(JSON.stringify(e.message)); } });`;
  const r = node(['-e', code]);
  expect(r.status).toBe(0);
  return JSON.parse(r.stdout) as number[] | string;
}

describe('which lines npm test runs', () => {
  it("a developer's npm test: this Node only", () => {
    expect(selected({})).toEqual([CURRENT]);
    expect(selected({ CI: 'false' })).toEqual([CURRENT]);
  });

  it('CI (or SOCKWIRE_NODE_LINES=all): this Node first, then each other line of 20, 22 and 24, once', () => {
    const expected = [CURRENT, ...[20, 22, 24].filter((l) => l !== CURRENT)];
    expect(selected({ CI: 'true' })).toEqual(expected);
    expect(selected({ SOCKWIRE_NODE_LINES: 'all' })).toEqual(expected);
  });

  it('SOCKWIRE_NODE_LINES picks lines (current keeps CI to this Node); nonsense is refused', () => {
    expect(selected({ CI: 'true', SOCKWIRE_NODE_LINES: 'current' })).toEqual([CURRENT]);
    expect(selected({ SOCKWIRE_NODE_LINES: '24, 22,24' })).toEqual([24, 22]);
    expect(selected({ SOCKWIRE_NODE_LINES: 'latest' })).toMatch(/SOCKWIRE_NODE_LINES must be/);
  });
});

describe('scripts/node-line.mjs', () => {
  it("this process's line is its own binary: printed, nothing installed", () => {
    const r = node(['scripts/node-line.mjs', String(CURRENT)]);
    expect(r.status).toBe(0);
    expect(r.stdout).toBe(`${process.execPath}\n`);
    expect(readdirSync(cache)).toEqual([]);
  });

  it('runs a command with that binary first on PATH, and passes its exit status on', () => {
    const r = node(['scripts/node-line.mjs', String(CURRENT), '--', 'node', '-e', 'console.log(process.version, process.env.PATH.split(require("path").delimiter)[0]); process.exit(7)']);
    expect(r.status).toBe(7);
    expect(r.stdout).toBe(`${process.version} ${dirname(process.execPath)}\n`);
  });

  it('usage errors exit 2; a major that is not a number exits 1 with one line', () => {
    expect(node(['scripts/node-line.mjs']).status).toBe(2);
    expect(node(['scripts/node-line.mjs', '24', 'npm']).status).toBe(2);
    const r = node(['scripts/node-line.mjs', 'lts']);
    expect(r.status).toBe(1);
    expect(r.stderr).toBe('node-line: not a Node major version: NaN\n');
  });
});
