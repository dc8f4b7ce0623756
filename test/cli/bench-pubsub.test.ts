// sockwire bench --pubsub against a real sockwire server (serve --mode pubsub, in this process):
// the counts add up, topics with history and without are told apart, and bad arguments are
// refused. The detector's firing (gaps, lost) is proven in bench-pubsub-chaos.test.ts and
// bench-pubsub-stamp.test.ts.
import { mkdtemp, readFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { benchCommand } from '../../src/cli/bench.js';
import { serveCommand, type Served } from '../../src/cli/serve.js';

type Sink = NodeJS.WritableStream & { text: string };
function io(): { stdout: Sink; stderr: Sink } {
  const mk = (): Sink => {
    const o = { text: '', write: (s: string) => ((o.text += s), true) };
    return o as unknown as Sink;
  };
  return { stdout: mk(), stderr: mk() };
}

let served: Served;
let url = '';

beforeAll(async () => {
  const o = io();
  served = await serveCommand(['--mode', 'pubsub', '--port', '0', '--host', '127.0.0.1', '--history', 'h:*=100000', '--quiet'], o);
  expect(served.code).toBe(0);
  const port = (served.server!.address() as { port: number }).port;
  url = `ws://127.0.0.1:${port}/`;
});

afterAll(async () => {
  await served?.stop?.();
});

describe('sockwire bench --pubsub', () => {
  it('publishes stamped messages at a rate and every subscriber gets each once, in order; the JSON adds up', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'sw-bench-pubsub-'));
    const json = join(dir, 'r.json');
    const o = io();
    const code = await benchCommand(['--pubsub', url, '--publishers', '2', '--subscribers', '6', '--topics', 'h:a,h:b,p:a', '--rate', '400', '--duration', '1.5', '--size', '100', '--json', json], o);
    expect(o.stderr.text).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(await readFile(json, 'utf8'));
    expect(r).toMatchObject({ schemaVersion: 1, tool: { name: 'sockwire-bench-pubsub' }, urls: [url], drained: true });
    expect(r.topics.map((t: { topic: string; history: boolean; subscribers: number }) => [t.topic, t.history, t.subscribers])).toEqual([
      ['h:a', true, 2],
      ['h:b', true, 2],
      ['p:a', false, 2],
    ]);
    // Publishers round-robin over the topics, so each stream got messages; none failed.
    expect(r.published.sent).toBeGreaterThan(30);
    expect(r.published.acked).toBe(r.published.sent);
    expect(r.published.failed).toEqual({});
    // Every subscriber expects what its topic's publishers sent, and got exactly that.
    const sentPerTopic = new Map<string, number>();
    for (const s of r.subscribers) sentPerTopic.set(s.topic, s.expected);
    expect([...sentPerTopic.values()].reduce((a, b) => a + b, 0)).toBe(r.published.sent);
    for (const s of r.subscribers) {
      expect(s).toMatchObject({ lost: 0, unconfirmed: 0, gaps: 0, duplicates: 0, reorders: 0, recovered: 0, reconnects: 0, resyncs: 0, foreign: 0 });
      expect(s.received).toBe(s.expected);
    }
    expect(r.delivered.received).toBe(r.delivered.expected);
    expect(r.delivered.expected).toBe(2 * r.published.sent);
    expect(r.latencyMs.count).toBeGreaterThan(0);
    expect(r.latencyMs.count).toBeLessThanOrEqual(r.delivered.received);
    expect(r.latencyMs.p50).toBeLessThanOrEqual(r.latencyMs.p99);
    expect(r.latencyMs.p99).toBeLessThanOrEqual(r.latencyMs.p999);
    expect(r.verdict).toEqual({ lostWithHistory: 0, lostWithoutHistory: 0, ok: true });
    // The text: the per-topic table and the verdict lines.
    expect(o.stdout.text).toMatch(/\n  topic +history +subs +expected +received +lost +unconf +gaps +dups +reorders +recovered +resyncs +reconn\n  h:a +yes +2 /);
    expect(o.stdout.text).toMatch(/\n  p:a +no +2 /);
    expect(o.stdout.text).toContain('per subscriber: every one got every message once, in order, with no reconnection');
    expect(o.stdout.text).toContain('topics with history:    lost 0 — OK');
    expect(o.stdout.text).toMatch(/latency ms p50 [\d.]+ +p99 [\d.]+ +p99\.9 [\d.]+ +max [\d.]+/);
  });

  it('runs at full speed with a window and stays consistent', async () => {
    const o = io();
    const dir = await mkdtemp(join(tmpdir(), 'sw-bench-pubsub-'));
    const json = join(dir, 'r.json');
    const code = await benchCommand(['--pubsub', url, '--publishers', '2', '--subscribers', '4', '--topics', '2', '--topic-prefix', 'h:max', '--window', '8', '--duration', '1', '--json', json], o);
    expect(o.stderr.text).toBe('');
    expect(code).toBe(0);
    const r = JSON.parse(await readFile(json, 'utf8'));
    expect(r.topics.map((t: { topic: string }) => t.topic)).toEqual(['h:max0', 'h:max1']);
    expect(r.published.acked).toBe(r.published.sent);
    expect(r.delivered.expected).toBe(2 * r.published.sent);
    expect(r.delivered.received).toBe(r.delivered.expected);
    expect(r.delivered.lost + r.delivered.duplicates + r.delivered.reorders).toBe(0);
  });

  it('says clearly when the server does not speak sockwire.pubsub.v1', async () => {
    const echo = await serveCommand(['--mode', 'echo', '--port', '0', '--host', '127.0.0.1', '--quiet'], io());
    try {
      const port = (echo.server!.address() as { port: number }).port;
      const o = io();
      const code = await benchCommand(['--pubsub', `ws://127.0.0.1:${port}/`, '--publishers', '1', '--subscribers', '1', '--duration', '1', '--connect-timeout', '1500'], o);
      expect(code).toBe(1);
      expect(o.stderr.text).toMatch(/sockwire bench: [01] of 2 clients connected \(and subscribed\) after 1500 ms; first error: protocol: .*\(is it a sockwire\.pubsub\.v1 server/);
    } finally {
      await echo.stop?.();
    }
  });

  it('refuses bad arguments with a usage error and prints its help', async () => {
    const bad: Array<[string[], RegExp]> = [
      [['--pubsub', ''], /--pubsub needs one or more server URLs/],
      [['--pubsub', 'ftp://x/'], /"ftp:\/\/x\/"/],
      [['--pubsub', url, '--chaos', 'kill 1'], /--chaos must look like "COMMAND@SECONDS"/],
      [['--pubsub', url, '--chaos', 'kill 1@20', '--duration', '5'], /would run after publishing stops/],
      [['--pubsub', url, '--size', '8'], /--size must be a whole number from 16/],
      [['--pubsub', url, '--topics', 'a,,b'], /empty name/],
      [['--pubsub', url, '--topics', 'a,a'], /names a topic twice/],
    ];
    for (const [argv, message] of bad) {
      const o = io();
      const { main } = await import('../../src/cli/index.js');
      expect(await main(['bench', ...argv], o)).toBe(2);
      expect(o.stderr.text).toMatch(message);
    }
    const o = io();
    expect(await benchCommand(['--pubsub', '--help'], o)).toBe(0);
    expect(o.stdout.text).toContain('Usage: sockwire bench --pubsub URL[,URL...]');
  });
});
