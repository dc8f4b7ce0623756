/**
 * Declares the interop cases as vitest tests for one server × client pairing, once without
 * compression and once with permessage-deflate. The client peer (e.g. one browser) is shared
 * by the file, each variant shares one server, and cases that shut their server down get
 * their own.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { cases, noPeerError } from './cases.js';
import type { ClientFactory, ClientPeer } from './clients.js';
import type { ServerFactory, ServerVariant } from './servers.js';
import type { EchoServerHandle } from './server-handle.js';

export interface PairingOptions {
  title: string;
  server: ServerFactory;
  client: ClientFactory;
}

const VARIANTS: Array<[string, ServerVariant]> = [
  ['no compression', { compression: false }],
  ['permessage-deflate', { compression: true }],
];

export function interopSuite({ title, server: startServer, client: startClient }: PairingOptions): void {
  describe(title, () => {
    let client: ClientPeer | undefined;
    // Generous: a cold Chromium start on a busy 2-core CI machine can take a while.
    beforeAll(async () => {
      client = await startClient();
    }, 60_000);
    afterAll(async () => {
      await client?.close();
    });

    for (const [label, variant] of VARIANTS) {
      describe(label, () => {
        let server: EchoServerHandle | undefined;
        beforeAll(async () => {
          server = await startServer(variant);
        });
        afterAll(async () => {
          await server?.stop();
        });

        // Every client peer here offers permessage-deflate, so the server alone decides.
        it(variant.compression ? 'negotiates permessage-deflate' : 'negotiates no extension', async () => {
          if (!server || !client) throw new Error('peers failed to start');
          const result = await client.run(server.url('/extensions'), { steps: [] });
          noPeerError(result);
          const seen = (await server.events.connectedOn('/extensions')).extensions;
          if (variant.compression) {
            expect(result.extensions).toMatch(/^permessage-deflate\b/);
            expect(seen).toMatch(/^permessage-deflate\b/);
          } else {
            expect(result.extensions).toBe('');
            expect(seen).toBe('');
          }
        });

        for (const c of cases) {
          it(c.name, async ({ skip }) => {
            if (!server || !client) throw new Error('peers failed to start');
            if (c.requires && !client.capabilities.includes(c.requires)) {
              skip(`${client.name} cannot do ${c.requires}`);
            }
            const target = c.ownServer ? await startServer(variant) : server;
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
  });
}
