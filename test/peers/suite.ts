/**
 * Declares the interop cases as vitest tests for one server × client pairing. One server and
 * one client peer are shared by the file; cases that shut their server down get their own.
 */
import { afterAll, beforeAll, describe, it } from 'vitest';
import { cases } from './cases.js';
import type { ClientFactory, ClientPeer } from './clients.js';
import type { ServerFactory } from './servers.js';
import type { EchoServerHandle } from './server-handle.js';

export interface PairingOptions {
  title: string;
  server: ServerFactory;
  client: ClientFactory;
}

export function interopSuite({ title, server: startServer, client: startClient }: PairingOptions): void {
  describe(title, () => {
    let server: EchoServerHandle | undefined;
    let client: ClientPeer | undefined;

    beforeAll(async () => {
      [server, client] = await Promise.all([startServer(), startClient()]);
    });
    afterAll(async () => {
      await Promise.all([server?.stop(), client?.close()]);
    });

    for (const c of cases) {
      it(c.name, async ({ skip }) => {
        if (!server || !client) throw new Error('peers failed to start');
        if (c.requires && !client.capabilities.includes(c.requires)) {
          skip(`${client.name} cannot do ${c.requires}`);
        }
        const target = c.ownServer ? await startServer() : server;
        try {
          const result = await client.run(target.url(c.path), c.scenario);
          await c.verify(result, target);
        } finally {
          if (c.ownServer) await target.stop();
        }
      });
    }
  });
}
