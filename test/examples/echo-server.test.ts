import { afterEach, describe, expect, it } from 'vitest';
import WS from 'ws';
import { runExample, type Running } from './spawn-example.js';
import { runToExit } from './run-to-exit.js';

let running: Running | null = null;
afterEach(async () => {
  await running?.stop();
  running = null;
});

describe('examples/echo-server.js', () => {
  it('echoes text as text and binary as binary to an outside client', async () => {
    running = runExample('examples/echo-server.js', ['0']);
    const [, port] = (await running.waitFor(/ws:\/\/localhost:(\d+)/)) as unknown as [string, string];
    const client = new WS(`ws://127.0.0.1:${port}`);
    await new Promise((r) => client.once('open', r));
    const next = (): Promise<[string, boolean]> =>
      new Promise((r) => client.once('message', (d, isBinary) => r([d.toString('hex'), isBinary])));
    let reply = next();
    client.send('ping ✓');
    expect(await reply).toEqual([Buffer.from('ping ✓').toString('hex'), false]);
    reply = next();
    client.send(Buffer.from([0, 255, 7]));
    expect(await reply).toEqual(['00ff07', true]);
    client.close();
  });

  it('--once runs its own exchange and exits 0', async () => {
    const { code, output } = await runToExit('examples/echo-server.js', ['0', '--once']);
    expect(output).toContain('echoed: hello, echo');
    expect(output).toContain('closed: 1000 clean=true');
    expect(output).toContain('server closed');
    expect(code).toBe(0);
  });
});
