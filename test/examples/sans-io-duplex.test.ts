import { describe, expect, it } from 'vitest';
import { runToExit } from './run-to-exit.js';

describe('examples/sans-io-duplex.js', () => {
  it('runs a client and a server core over in-memory streams to a clean close', async () => {
    const { code, output } = await runToExit('examples/sans-io-duplex.js');
    expect(output).toContain('client got text: HELLO FROM THE CLIENT CORE');
    expect(output).toContain('client got binary: 0504030201');
    expect(output).toContain('client got pong: are you there?');
    expect(output).toMatch(/server closed: code 1000 "done" clean=true/);
    // The server core's answer echoes the client's code and reason.
    expect(output).toMatch(/client closed: code 1000 "done" clean=true/);
    expect(code).toBe(0);
  });
});
