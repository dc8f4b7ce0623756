import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { conformanceCommand, parseArgs } from '../../src/conformance/cli.js';
import { startRawEcho } from './mutants/raw-echo.js';

function io(): { stdout: { write(s: string): boolean; text: string }; stderr: { write(s: string): boolean; text: string } } {
  const mk = () => {
    const o = { text: '', write: (s: string) => ((o.text += s), true) };
    return o;
  };
  return { stdout: mk(), stderr: mk() };
}

describe('sockwire conformance CLI', () => {
  it('prints help with exit code 0', async () => {
    const o = io();
    expect(await conformanceCommand(['--help'], o)).toBe(0);
    expect(o.stdout.text).toMatch(/sockwire conformance server --url/);
    expect(await conformanceCommand(['conformance'], o)).toBe(0);
  });

  it('rejects bad usage with exit code 2 and a reason', async () => {
    for (const argv of [['server'], ['fuzz'], ['server', '--url', 'http://x'], ['client'], ['server', '--url', 'ws://h', '--timeout', '-1'], ['server', '--bogus']]) {
      const o = io();
      expect(await conformanceCommand(argv, o), argv.join(' ')).toBe(2);
      expect(o.stderr.text).toMatch(/sockwire conformance: /);
    }
  });

  it('parses lists, repeated flags and --opt=value', () => {
    const p = parseArgs(['conformance', 'server', '--url=ws://h:1/p', '--cases', '1.*,2.1', '--cases', '3', '--exclude', '1.1.8', '--quick', '--timeout', '500', '--agent', 'me', '--no-report']);
    expect(p).toMatchObject({ mode: 'server', url: 'ws://h:1/p', cases: ['1.*', '2.1', '3'], exclude: ['1.1.8'], quick: true, timeoutMs: 500, agent: 'me', report: null });
  });

  it('exits 2 with a clear message when nothing listens at the URL', async () => {
    const o = io();
    expect(await conformanceCommand(['server', '--url', 'ws://127.0.0.1:1/', '--no-report'], o)).toBe(2);
    expect(o.stderr.text).toMatch(/cannot open a WebSocket to ws:\/\/127\.0\.0\.1:1\//);
  });

  it('exits 1 on a broken server and writes both reports', async () => {
    const srv = await startRawEcho({ skipUtf8: true });
    const dir = await mkdtemp(join(tmpdir(), 'sw-conf-'));
    try {
      const o = io();
      const code = await conformanceCommand(['server', '--url', srv.url, '--cases', '6.3.1,6.5.1', '--report', dir, '--agent', 'mutant <utf8>'], o);
      expect(code).toBe(1);
      expect(o.stdout.text).toMatch(/6\.3\.1 FAILED/);
      expect(o.stdout.text).toMatch(/6\.5\.1 OK/);
      const json = JSON.parse(await readFile(join(dir, 'report.json'), 'utf8'));
      expect(json).toMatchObject({ schemaVersion: 1, tool: { name: 'sockwire-conformance' }, agent: 'mutant <utf8>', target: srv.url, mode: 'server' });
      expect(json.summary).toEqual({ OK: 1, 'NON-STRICT': 0, FAILED: 1, INFORMATIONAL: 0, UNIMPLEMENTED: 0 });
      const failed = json.cases.find((c: { id: string }) => c.id === '6.3.1');
      expect(failed).toMatchObject({ group: '6 UTF-8 handling', verdict: 'FAILED' });
      expect(failed.reason).toMatch(/not valid UTF-8/);
      expect(failed.wire.some((w: { dir: string; hex?: string }) => w.dir === 'recv' && w.hex)).toBe(true);
      const html = await readFile(join(dir, 'index.html'), 'utf8');
      expect(html).toContain('mutant &lt;utf8&gt;');
      expect(html).not.toMatch(/<(link|script|img)[^>]+(src|href)=/i);
      expect(html).toMatch(/<details data-verdict="FAILED" open>/);
    } finally {
      await srv.close();
    }
  });

  it('exits 0 when nothing fails', async () => {
    const srv = await startRawEcho({});
    try {
      const o = io();
      expect(await conformanceCommand(['server', '--url', srv.url, '--cases', '1.1.*,7.7.1', '--no-report'], o)).toBe(0);
      expect(o.stdout.text).toMatch(/9 cases in [\d.]+ s: 9 OK/);
    } finally {
      await srv.close();
    }
  });
});
