import { isUtf8 } from 'node:buffer';
import type { SubscribeResult } from './catch-up.js';
import type { Position } from './history.js';

/**
 * The frames of `sockwire.pubsub.v1` (docs/pubsub-v1.md is the contract): JSON text frames for
 * requests and replies, binary frames for messages. Pure: no sockets here.
 */
export const PUBSUB_V1 = 'sockwire.pubsub.v1';

/** Binary frame types. */
export const FRAME_MESSAGE = 0x01;
export const FRAME_PUBLISH = 0x02;
const FLAG_BINARY = 1;
const FLAG_POSITION = 2;
/** Topics on the v1 wire: 1…255 bytes of UTF-8 (the u16 length leaves room for a later version). */
export const MAX_TOPIC_BYTES = 255;
const MAX_ID = 0xffff_ffff;
const MAX_OFFSET = 0xffff_ffff_ffff_ffffn;

/**
 * A frame that breaks the protocol. `fatal`: not a v1 frame at all (the connection is closed
 * with 1002); otherwise a request that is well formed enough to be answered with an error.
 */
export class PubSubV1Error extends Error {
  override name = 'PubSubV1Error';
  constructor(
    message: string,
    readonly fatal: boolean,
    readonly code: 'bad-request' = 'bad-request',
    readonly id = 0,
    readonly topic: string | null = null,
  ) {
    super(message);
  }
}

/** What a client asks (text frames). */
export type V1Request =
  | { op: 'subscribe'; id: number; topic: string; since: Position | null }
  | { op: 'unsubscribe'; id: number; topic: string };

/** A publish frame, decoded. */
export interface V1Publish {
  id: number;
  topic: string;
  binary: boolean;
  /** A view into the frame (no copy). */
  payload: Buffer;
}

/** The message frame a v1 subscriber gets: the same bytes for every v1 subscriber of the topic. */
export function encodeMessageFrame(topic: string, data: string | Buffer, binary: boolean, position?: Position): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const epochBytes = position ? Buffer.byteLength(position.epoch) : 0;
  const payloadBytes = typeof data === 'string' ? Buffer.byteLength(data) : data.length;
  const headerLength = 4 + topicBytes + (position ? 9 + epochBytes : 0);
  const out = Buffer.allocUnsafe(headerLength + payloadBytes);
  out[0] = FRAME_MESSAGE;
  out[1] = (binary ? FLAG_BINARY : 0) | (position ? FLAG_POSITION : 0);
  out.writeUInt16BE(topicBytes, 2);
  let at = 4 + out.write(topic, 4);
  if (position) {
    out.writeBigUInt64BE(position.offset, at);
    out[at + 8] = epochBytes;
    at += 9 + out.write(position.epoch, at + 9, 'latin1');
  }
  if (typeof data === 'string') out.write(data, at);
  else data.copy(out, at);
  return out;
}

/** Decodes a message frame (what a client does; the server only encodes them). */
export function decodeMessageFrame(frame: Buffer): { topic: string; binary: boolean; position: Position | null; payload: Buffer } {
  if (frame.length < 4 || frame[0] !== FRAME_MESSAGE) throw new PubSubV1Error('not a message frame', true);
  const flags = frame[1]!;
  const topicEnd = 4 + frame.readUInt16BE(2);
  if (frame.length < topicEnd) throw new PubSubV1Error('message frame truncated', true);
  const topic = frame.toString('utf8', 4, topicEnd);
  let at = topicEnd;
  let position: Position | null = null;
  if (flags & FLAG_POSITION) {
    if (frame.length < at + 9) throw new PubSubV1Error('message frame truncated', true);
    const offset = frame.readBigUInt64BE(at);
    const epochEnd = at + 9 + frame[at + 8]!;
    if (frame.length < epochEnd) throw new PubSubV1Error('message frame truncated', true);
    position = { offset, epoch: frame.toString('latin1', at + 9, epochEnd) };
    at = epochEnd;
  }
  return { topic, binary: (flags & FLAG_BINARY) !== 0, position, payload: frame.subarray(at) };
}

/** Encodes a publish frame (what a client sends). */
export function encodePublishFrame(id: number, topic: string, data: string | Buffer, binary: boolean): Buffer {
  const topicBytes = Buffer.byteLength(topic);
  const payload = typeof data === 'string' ? Buffer.from(data) : data;
  const out = Buffer.allocUnsafe(8 + topicBytes + payload.length);
  out[0] = FRAME_PUBLISH;
  out[1] = binary ? FLAG_BINARY : 0;
  out.writeUInt32BE(id, 2);
  out.writeUInt16BE(topicBytes, 6);
  out.write(topic, 8);
  payload.copy(out, 8 + topicBytes);
  return out;
}

/** Decodes a client's binary frame: a publish. */
export function decodePublishFrame(frame: Buffer): V1Publish {
  if (frame.length < 8) throw new PubSubV1Error('binary frame shorter than a publish header', true);
  if (frame[0] !== FRAME_PUBLISH) throw new PubSubV1Error(`unknown binary frame type ${frame[0]}`, true);
  const flags = frame[1]!;
  const id = frame.readUInt32BE(2);
  if ((flags & ~FLAG_BINARY) !== 0) throw new PubSubV1Error(`unknown publish flags 0x${flags.toString(16)}`, true);
  const topicEnd = 8 + frame.readUInt16BE(6);
  if (frame.length < topicEnd) throw new PubSubV1Error('publish frame truncated', true);
  const topicBytes = frame.subarray(8, topicEnd);
  const topic = topicBytes.toString();
  if (topicBytes.length === 0 || topicBytes.length > MAX_TOPIC_BYTES || !isUtf8(topicBytes)) {
    throw new PubSubV1Error('topic must be 1 to 255 bytes of UTF-8', false, 'bad-request', id, null);
  }
  const payload = frame.subarray(topicEnd);
  const binary = (flags & FLAG_BINARY) !== 0;
  if (!binary && !isUtf8(payload)) throw new PubSubV1Error('text payload is not UTF-8', false, 'bad-request', id, topic);
  return { id, topic, binary, payload };
}

/** Parses a client's text frame: subscribe or unsubscribe. */
export function parseRequest(text: string): V1Request {
  let value: unknown;
  try {
    value = JSON.parse(text);
  } catch {
    throw new PubSubV1Error('text frame is not JSON', true);
  }
  if (typeof value !== 'object' || value === null || Array.isArray(value)) throw new PubSubV1Error('request is not a JSON object', true);
  const req = value as Record<string, unknown>;
  if (req.op !== 'subscribe' && req.op !== 'unsubscribe') throw new PubSubV1Error(`unknown op ${JSON.stringify(req.op)}`, true);
  const id = req.id;
  if (typeof id !== 'number' || !Number.isInteger(id) || id < 1 || id > MAX_ID) throw new PubSubV1Error('request id must be an integer from 1 to 2^32-1', true);
  const topic = req.topic;
  if (typeof topic !== 'string' || topic === '' || Buffer.byteLength(topic) > MAX_TOPIC_BYTES) {
    throw new PubSubV1Error('topic must be a string of 1 to 255 bytes', false, 'bad-request', id, null);
  }
  if (req.op === 'unsubscribe') return { op: 'unsubscribe', id, topic };
  if (req.since === undefined || req.since === null) return { op: 'subscribe', id, topic, since: null };
  return { op: 'subscribe', id, topic, since: parseSince(req.since, id, topic) };
}

function parseSince(since: unknown, id: number, topic: string): Position {
  const bad = (why: string): PubSubV1Error => new PubSubV1Error(`since: ${why}`, false, 'bad-request', id, topic);
  if (typeof since !== 'object' || since === null) throw bad('must be {"offset","epoch"}');
  const { offset, epoch } = since as Record<string, unknown>;
  if (typeof offset !== 'string' || !/^(0|[1-9][0-9]{0,19})$/.test(offset) || BigInt(offset) > MAX_OFFSET) throw bad('offset must be a u64 decimal string');
  if (typeof epoch !== 'string' || epoch.length > 255 || !/^[\x20-\x7e]*$/.test(epoch)) throw bad('epoch must be an ASCII string of at most 255 bytes');
  return { offset: BigInt(offset), epoch };
}

type Pos = { offset: string | null; epoch: string | null };
const wirePosition = (p: Position | null | undefined): Pos => (p ? { offset: p.offset.toString(), epoch: p.epoch } : { offset: null, epoch: null });

/** The reply to a subscribe that went through ('live', 'recovered' or 'resync'). */
export function subscribedReply(id: number, topic: string, result: SubscribeResult): string {
  const body: Record<string, unknown> = { op: 'subscribed', id, topic, status: result.status };
  if (result.status === 'recovered') body.recovered = result.recovered;
  if (result.status === 'resync') body.reason = result.reason;
  return JSON.stringify({ ...body, ...wirePosition(result.position) });
}

export function unsubscribedReply(id: number, topic: string): string {
  return JSON.stringify({ op: 'unsubscribed', id, topic });
}

export function publishedReply(id: number, topic: string, position: Position | null): string {
  return JSON.stringify({ op: 'published', id, topic, ...wirePosition(position) });
}

/** Error codes of docs/pubsub-v1.md. */
export type V1ErrorCode = 'bad-request' | 'forbidden' | 'already-subscribed' | 'limit' | 'unavailable' | 'dropped';

export function errorReply(id: number, topic: string | null, code: V1ErrorCode, message: string): string {
  return JSON.stringify({ op: 'error', id, topic, code, message });
}
