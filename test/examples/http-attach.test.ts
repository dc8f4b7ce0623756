import { describe, expect, it } from 'vitest';
import { runToExit } from './run-to-exit.js';

describe('examples/http-attach.js', () => {
  it('serves plain http next to the attached server and routes two paths with handleUpgrade', async () => {
    const { code, output } = await runToExit('examples/http-attach.js', ['--once']);
    expect(output).toContain('http: 200 plain http at /about');
    expect(output).toContain('attached: hello from the attached server');
    expect(output).toContain('/echo: echo: hi');
    expect(output).toContain('/shout: HI');
    expect(output).toContain('/other: refused (Unexpected server response: 404)');
    expect(code).toBe(0);
  });
});
