/**
 * The interop cases, written once and run for every server × client pairing.
 * Every server peer is started supporting only the subprotocol SERVER_SUBPROTOCOL.
 */
import { expect } from 'vitest';
import { command } from './commands.js';
import { bytes, expectedRecord, send, text, type PayloadSpec, type Scenario, type ScenarioResult, type Step } from './scenario.js';
import type { EchoServerHandle } from './server-handle.js';

export const SERVER_SUBPROTOCOLS = ['chat.v1'];
export const CLIENT_SUBPROTOCOLS = ['chat.v2', 'chat.v1'];
export const UNICODE_TEXT = 'héllo wörld 🌍 日本語';
export const CLOSE_CODE = 4001;
export const CLOSE_REASON = 'bye ünïcode';
const MIB = 1 << 20;
// 16 UTF-8 bytes mixing 1-, 2-, 3- and 4-byte characters, so 65536 copies are exactly 1 MiB
// and frame/fragment boundaries are bound to fall inside multi-byte characters somewhere.
const MIXED_16_BYTES = 'abcdefgé🌍日';

export type Capability = 'clientPing';

export interface InteropCase {
  name: string;
  /** Request path, unique per case, so the server's events for this connection can be found. */
  path: string;
  scenario: Scenario;
  requires?: Capability;
  /** The case shuts its server down, so it gets a server of its own. */
  ownServer?: boolean;
  verify(result: ScenarioResult, server: EchoServerHandle): Promise<void> | void;
}

/** Fails with the peer's whole error text (expect() would truncate it). */
export function noPeerError(result: ScenarioResult): void {
  if (result.error !== undefined) throw new Error(`peer reported: ${result.error}`);
}

function echoCase(name: string, path: string, payloads: PayloadSpec[]): InteropCase {
  const steps: Step[] = payloads.map(send);
  steps.push({ op: 'expect', count: payloads.length });
  return {
    name,
    path,
    scenario: { steps },
    verify(result) {
      noPeerError(result);
      expect(result.messages).toEqual(payloads.map(expectedRecord));
    },
  };
}

const hundred: PayloadSpec[] = Array.from({ length: 100 }, (_, i) => (i % 2 === 0 ? text(`msg-${i}`) : bytes(i, i)));

export const cases: InteropCase[] = [
  echoCase('echoes non-ASCII text', '/text-unicode', [text(UNICODE_TEXT)]),
  echoCase('echoes binary with all 256 byte values', '/binary-256', [bytes(256)]),
  echoCase('echoes a 1 MiB text message', '/text-1mib', [text(MIXED_16_BYTES, MIB / 16)]),
  echoCase('echoes a 1 MiB binary message', '/binary-1mib', [bytes(MIB, 7)]),
  echoCase('echoes 100 mixed messages in order', '/hundred', hundred),
  echoCase('echoes empty text and empty binary messages', '/empty', [text(''), bytes(0), text('end')]),
  {
    name: 'negotiates the subprotocol the server picks',
    path: '/subprotocol',
    scenario: { protocols: CLIENT_SUBPROTOCOLS, steps: [send(text('which')), { op: 'expect', count: 1 }] },
    async verify(result, server) {
      noPeerError(result);
      expect(result.protocol).toBe('chat.v1');
      expect(result.messages.map((m) => m.text)).toEqual(['which']);
      expect((await server.events.connectedOn('/subprotocol')).protocol).toBe('chat.v1');
    },
  },
  {
    name: 'has no subprotocol when none is offered',
    path: '/no-subprotocol',
    scenario: { steps: [send(text('none')), { op: 'expect', count: 1 }] },
    async verify(result, server) {
      noPeerError(result);
      expect(result.protocol).toBe('');
      expect((await server.events.connectedOn('/no-subprotocol')).protocol).toBe('');
    },
  },
  {
    name: 'answers a server ping with a pong',
    path: '/server-ping',
    scenario: { steps: [send(command({ op: 'ping', data: 'srv-ping' })), { op: 'expect', count: 1 }] },
    verify(result) {
      noPeerError(result);
      // The server only sends this after the pong carrying its ping data came back.
      expect(result.messages.map((m) => m.text)).toEqual(['pong:srv-ping']);
    },
  },
  {
    name: 'gets a pong for a client ping',
    path: '/client-ping',
    requires: 'clientPing',
    scenario: { steps: [{ op: 'ping', data: 'cli-ping' }, send(text('after')), { op: 'expect', count: 1 }] },
    verify(result) {
      noPeerError(result);
      expect(result.pongs).toEqual(['cli-ping']);
      expect(result.messages.map((m) => m.text)).toEqual(['after']);
    },
  },
  {
    name: 'server closes with code and reason',
    path: '/server-close',
    scenario: {
      steps: [send(command({ op: 'close', code: CLOSE_CODE, reason: CLOSE_REASON })), { op: 'waitClose' }],
    },
    async verify(result, server) {
      noPeerError(result);
      expect(result.close).toEqual({ code: CLOSE_CODE, reason: CLOSE_REASON, wasClean: true });
      // The client's echo of the close frame carries the same code back (RFC 6455 5.5.1).
      expect((await server.events.closedOn('/server-close')).code).toBe(CLOSE_CODE);
    },
  },
  {
    name: 'client closes with code and reason',
    path: '/client-close',
    scenario: { steps: [send(text('hi')), { op: 'expect', count: 1 }, { op: 'close', code: CLOSE_CODE, reason: CLOSE_REASON }] },
    async verify(result, server) {
      noPeerError(result);
      const seen = await server.events.closedOn('/client-close');
      expect({ code: seen.code, reason: seen.reason }).toEqual({ code: CLOSE_CODE, reason: CLOSE_REASON });
      expect(result.close?.wasClean).toBe(true);
      expect(result.close?.code).toBe(CLOSE_CODE);
    },
  },
  {
    name: 'server going away closes with 1001',
    path: '/going-away',
    ownServer: true,
    scenario: { steps: [send(command({ op: 'shutdown' })), { op: 'waitClose' }] },
    verify(result) {
      noPeerError(result);
      expect(result.close?.code).toBe(1001);
      expect(result.close?.wasClean).toBe(true);
    },
  },
];
