import { describe, expect, it } from 'vitest';
import { runToExit } from './run-to-exit.js';

describe('examples/auth-server.js', () => {
  it('refuses before the upgrade with 401/403 and greets the authenticated user', async () => {
    const { code, output } = await runToExit('examples/auth-server.js', ['0', '--once']);
    expect(output).toContain('no token: refused (Unexpected server response: 401)');
    expect(output).toContain('bad token: refused (Unexpected server response: 403)');
    expect(output).toContain('foreign origin: refused (Unexpected server response: 403)');
    expect(output).toContain('alice: welcome, alice');
    expect(code).toBe(0);
  });
});
