import { createServer, type Server } from 'node:https';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { WebSocketServer } from 'ws';
import { runServerSuite } from '../../src/conformance/runner.js';
import { selfSignedCert } from '../server/helpers.js';

const creds = selfSignedCert();

describe.skipIf(!creds)('wss:// targets', () => {
  let server: Server;
  let url: string;
  beforeAll(async () => {
    server = createServer(creds!);
    const wss = new WebSocketServer({ server });
    wss.on('connection', (ws) => {
      ws.on('error', () => undefined);
      ws.on('message', (d, isBinary) => ws.send(d, { binary: isBinary }));
    });
    await new Promise<void>((r) => server.listen(0, '127.0.0.1', r));
    url = `wss://127.0.0.1:${(server.address() as AddressInfo).port}/`;
  });
  afterAll(() => {
    server?.closeAllConnections();
    server?.close();
  });

  it('runs cases over TLS, including chopped writes and a 1 MiB echo', async () => {
    const r = await runServerSuite({ url, cases: ['1.1.*', '2.6', '5.5', '6.3.1', '7.7.1', '9.1.3'], quick: true, timeoutMs: 4000 });
    expect(r.cases.length).toBe(13);
    expect(r.cases.filter((c) => c.verdict !== 'OK').map((c) => `${c.id} ${c.verdict}: ${c.reason}`)).toEqual([]);
    expect(r.cases[0]!.wire[0]!.text).toMatch(/\(TLS\)/);
  });
});
