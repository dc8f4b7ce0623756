/**
 * The scripted-scenario language shared by every peer client in the interop harness.
 *
 * The same JSON is executed by the Python client (py_client.py), by Chromium and Node's
 * built-in WebSocket (browser_runner.js) and by ws-API clients in-process (ws-like-client.ts),
 * so a case is written once and run against every pairing. Payloads are described, not
 * inlined, so that a 1 MiB message does not have to cross argv or CDP as JSON.
 */
import { createHash } from 'node:crypto';

/** Text repeated `repeat` times, or `seq` bytes counting up from `start` modulo 256. */
export type PayloadSpec =
  | { kind: 'text'; text: string; repeat?: number }
  | { kind: 'binary'; seq: number; start?: number };

export type Step =
  | { op: 'send'; payload: PayloadSpec }
  /** Wait until at least `count` messages in total have been received. */
  | { op: 'expect'; count: number }
  /** Client-side ping (only peers whose API can ping run this); waits for the matching pong. */
  | { op: 'ping'; data: string }
  /** Client initiates the closing handshake and waits for it to finish. */
  | { op: 'close'; code?: number; reason?: string }
  /** Wait for the server to close the connection. */
  | { op: 'waitClose' };

export interface Scenario {
  protocols?: string[];
  steps: Step[];
  /** Per-wait limit in milliseconds; a wait that runs out ends the scenario with `error`. */
  timeoutMs?: number;
}

export interface MessageRecord {
  type: 'text' | 'binary';
  /** Byte length (UTF-8 bytes for text). */
  length: number;
  sha256: string;
  /** Only for short text, so failures print something readable. */
  text?: string;
}

export interface CloseRecord {
  code: number;
  reason: string;
  wasClean: boolean;
}

export interface ScenarioResult {
  /** Negotiated subprotocol; '' when none. */
  protocol: string;
  /** Negotiated extensions header value; '' when none. */
  extensions: string;
  messages: MessageRecord[];
  /** Data of pongs received in reply to `ping` steps. */
  pongs: string[];
  close: CloseRecord | null;
  error?: string;
}

export const SHORT_TEXT = 256;

export function makePayload(spec: PayloadSpec): string | Buffer {
  if (spec.kind === 'text') return spec.text.repeat(spec.repeat ?? 1);
  const out = Buffer.allocUnsafe(spec.seq);
  const start = spec.start ?? 0;
  for (let i = 0; i < spec.seq; i++) out[i] = (start + i) & 0xff;
  return out;
}

export function recordOf(data: string | Uint8Array): MessageRecord {
  const bytes = typeof data === 'string' ? Buffer.from(data, 'utf8') : Buffer.from(data.buffer, data.byteOffset, data.byteLength);
  const rec: MessageRecord = {
    type: typeof data === 'string' ? 'text' : 'binary',
    length: bytes.length,
    sha256: createHash('sha256').update(bytes).digest('hex'),
  };
  if (typeof data === 'string' && data.length <= SHORT_TEXT) rec.text = data;
  return rec;
}

/** What a peer should report for a message it received carrying this payload. */
export function expectedRecord(spec: PayloadSpec): MessageRecord {
  return recordOf(makePayload(spec));
}

export const text = (t: string, repeat?: number): PayloadSpec =>
  repeat === undefined ? { kind: 'text', text: t } : { kind: 'text', text: t, repeat };
export const bytes = (seq: number, start?: number): PayloadSpec =>
  start === undefined ? { kind: 'binary', seq } : { kind: 'binary', seq, start };
export const send = (payload: PayloadSpec): Step => ({ op: 'send', payload });
