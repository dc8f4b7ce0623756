import { describe, expect, it } from 'vitest';
import { Protocol } from '../../src/protocol/index.js';
import { KEY, rawFrame } from '../framing/helpers.js';
import { recordingProtocol } from './pair.js';

// sockwire/protocol hands Protocol to applications: whatever they can reach on it must be
// its documented API, never a callback of its decoder or closing handshake (calling
// finished() or sendCloseFrame() by hand would corrupt the connection's state).

const DOCUMENTED = [
  'constructor',
  // state
  'readyState',
  'closed',
  'bufferedIncoming',
  'receivePaused',
  'midMessage',
  'compressing',
  'sendsQueued',
  'writable',
  'sharedCompressor',
  'compressThreshold',
  // bytes in
  'receive',
  'receiveEof',
  // commands in
  'send',
  'sendFrames',
  'sendDeferred',
  'ping',
  'pong',
  'close',
  'fail',
  'abort',
];

const INTERNAL_CALLBACKS = ['onDataFrame', 'onControlFrame', 'onDecodeError', 'sendCloseFrame', 'stopReading', 'finished', 'endTransport'];

describe('Protocol’s public surface', () => {
  it('its prototype holds exactly the documented API', () => {
    expect(Object.getOwnPropertyNames(Protocol.prototype).sort()).toEqual([...DOCUMENTED].sort());
    expect(Object.getOwnPropertySymbols(Protocol.prototype)).toEqual([]);
    expect(Object.getOwnPropertyNames(Protocol).sort()).toEqual(['length', 'name', 'prototype']);
  });

  it('no decoder or closing callback is reachable on an instance', () => {
    const { protocol } = recordingProtocol({ role: 'server' });
    for (const name of INTERNAL_CALLBACKS) expect(name in protocol, name).toBe(false);
    // The only own property is the documented `role`: the state lives in private fields.
    expect(Object.getOwnPropertyNames(protocol)).toEqual(['role']);
    expect(Object.getOwnPropertySymbols(protocol)).toEqual([]);
  });

  it('the callbacks still run the connection (a Close is echoed and reported)', () => {
    const side = recordingProtocol({ role: 'server' });
    side.protocol.receive(rawFrame({ opcode: 0x8, payload: Buffer.from([0x03, 0xe8]), mask: KEY }));
    expect(side.closes).toMatchObject([{ code: 1000, wasClean: true, remoteInitiated: true }]);
    expect(side.out).toHaveLength(1);
    expect(side.ended).toBe(1);
  });
});
