import { execFileSync, spawnSync } from 'node:child_process';
import { describe, expect, it } from 'vitest';
import { runToExit } from './run-to-exit.js';
import { ROOT } from './spawn-example.js';

function hasOpenssl(): boolean {
  try {
    execFileSync('openssl', ['version'], { stdio: 'ignore' });
    return true;
  } catch {
    return false;
  }
}

describe('examples/tls-server.js', () => {
  it.skipIf(!hasOpenssl())('serves wss:// with a run-time certificate that the client trusts through ca', async () => {
    const { code, output } = await runToExit('examples/tls-server.js', ['0', '--once']);
    expect(output).toMatch(/tls server on wss:\/\/localhost:\d+/);
    expect(output).toMatch(/client got: hello over TLSv1\.[23]/);
    expect(output).toContain('closed: 1000');
    expect(output).not.toContain('client error');
    expect(code).toBe(0);
  });

  it('says clearly that openssl is missing when it is', () => {
    // An empty PATH hides openssl; node itself is started by absolute path.
    const run = spawnSync(process.execPath, ['examples/tls-server.js', '0', '--once'], {
      cwd: ROOT,
      env: { ...process.env, PATH: '/nonexistent' },
      encoding: 'utf8',
      timeout: 15_000,
    });
    expect(run.stderr).toContain('the `openssl` command was not found');
    expect(run.status).toBe(1);
  });
});
