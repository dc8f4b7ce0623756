import { describe, expect, it } from 'vitest';
import { runToExit } from './run-to-exit.js';

describe('examples/backpressure.js', () => {
  it('waits for drain at least once and delivers every byte', async () => {
    const { code, output } = await runToExit('examples/backpressure.js', ['16']);
    const waits = output.match(/waited for 'drain' (\d+) times/);
    expect(waits, output).not.toBeNull();
    expect(Number(waits![1])).toBeGreaterThan(0);
    expect(output).toContain('server: sent 16 MiB');
    expect(output).toContain('client: received 16 MiB, closed 1000 all sent');
    expect(code).toBe(0);
  });
});
