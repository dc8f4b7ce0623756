import { describe, expect, it } from 'vitest';
import { ReadyState } from '../../src/protocol/index.js';
import { pumpAll, recordingProtocol } from './pair.js';

describe('Protocol: client ↔ server over an in-memory pipe', () => {
  it('exchanges messages, pings, and closes cleanly with the server ending TCP', () => {
    const client = recordingProtocol({ role: 'client' });
    const server = recordingProtocol({ role: 'server' });
    client.protocol.send('héllo', false);
    client.protocol.send(Buffer.from([0, 1, 255]), true);
    server.protocol.send('x'.repeat(70000), false);
    client.protocol.ping(Buffer.from('p'));
    pumpAll(client, server);
    expect(server.messages.map((m) => [m.data.toString(), m.isBinary])).toEqual([['héllo', false], ['\u0000\u0001\ufffd', true]]);
    expect(server.messages[1]!.data).toEqual(Buffer.from([0, 1, 255]));
    expect(client.messages[0]!.data.length).toBe(70000);
    expect(client.pongs).toEqual([Buffer.from('p')]);
    client.protocol.close(4001, 'bye');
    pumpAll(client, server);
    expect(server.closes).toEqual([{ code: 4001, reason: 'bye', wasClean: true, remoteInitiated: true }]);
    expect(client.closes).toEqual([{ code: 4001, reason: 'bye', wasClean: true, remoteInitiated: false }]);
    expect(server.ended).toBe(1);
    expect(client.ended).toBe(0);
    expect(client.protocol.readyState).toBe(ReadyState.CLOSED);
    expect(client.protocol.send('late', false)).toBe(false);
  });

  it('fails with 1002 on an unmasked client frame, after delivering what came before', () => {
    const server = recordingProtocol({ role: 'server' });
    const client = recordingProtocol({ role: 'client' });
    client.protocol.send('first', false);
    const first = Buffer.concat(client.out.splice(0));
    server.protocol.receive(Buffer.concat([first, Buffer.from([0x81, 0x01, 0x41])]));
    expect(server.messages.map((m) => m.data.toString())).toEqual(['first']);
    expect(server.closes[0]).toMatchObject({ code: 1002, wasClean: false });
    expect(server.out.length).toBe(1);
    expect(server.out[0]!.subarray(0, 4)).toEqual(Buffer.from([0x88, server.out[0]![1]!, 0x03, 0xea]));
    expect(server.ended).toBe(1);
  });
});
