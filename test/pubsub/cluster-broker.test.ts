import { existsSync } from 'node:fs';
import { afterEach, beforeAll, describe, expect, it } from 'vitest';
import { ROOT, runExample, type Running } from '../examples/spawn-example.js';
import { connect, type Client } from './helpers.js';

// The cluster's processes run the built package (like the examples): `npm test` builds first.
beforeAll(() => {
  if (!existsSync(`${ROOT}dist/pubsub/index.js`)) throw new Error('dist/pubsub is missing: run `npm run build` first');
});

let primary: Running | null = null;
const clients: Client[] = [];
afterEach(async () => {
  for (const c of clients.splice(0)) c.ws.terminate();
  await primary?.stop();
  primary = null;
});

const decode = (m: string): string => (m.startsWith('bin:') ? Buffer.from(m.slice(4), 'hex').toString() : m);

describe('ClusterBroker: 2 cluster workers, each a sockwire server', () => {
  for (const serialization of ['advanced', 'json'] as const) {
    it(`every subscriber on either worker gets every message once and in order (${serialization} IPC)`, async () => {
      primary = runExample('test/pubsub/fixtures/cluster-primary.mjs', [serialization]);
      const m = await primary.waitFor(/PORTS (\d+),(\d+)/, 15_000);
      const ports = [Number(m[1]), Number(m[2])];
      const subs: Client[] = [];
      for (const port of ports) {
        for (let i = 0; i < 2; i++) {
          const c = await connect(port);
          clients.push(c);
          subs.push(c);
          c.ws.send('sub room');
        }
      }
      // A client on each worker that only publishes (never subscribed: receives nothing).
      const pubA = await connect(ports[0]!);
      const pubB = await connect(ports[1]!);
      clients.push(pubA, pubB);
      for (const c of subs) expect(await c.until(1)).toEqual(['subscribed room']);
      const per = 60;
      for (let i = 0; i < per; i++) {
        pubA.ws.send(`pub room a:${i}`);
        pubB.ws.send(i % 2 ? `pub room b:${i}` : `binpub room ${Buffer.from(`b:${i}`).toString('hex')}`);
      }
      for (const c of subs) {
        const got = (await c.until(1 + 2 * per)).slice(1);
        expect(got).toHaveLength(2 * per);
        for (const k of ['a', 'b']) {
          expect(got.map(decode).filter((m) => m.startsWith(`${k}:`))).toEqual(Array.from({ length: per }, (_, i) => `${k}:${i}`));
        }
        expect(got.filter((m) => m.startsWith('bin:'))).toHaveLength(per / 2);
      }
      // Nothing more (no echo, no duplicate): a fresh subscription's answer is the next message.
      subs[0]!.ws.send('sub other');
      expect((await subs[0]!.until(2 + 2 * per)).at(-1)).toBe('subscribed other');
      expect(pubA.got).toEqual([]);
    });
  }
});
