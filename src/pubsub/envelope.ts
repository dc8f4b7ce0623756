import { isUtf8 } from 'node:buffer';

/**
 * A published message as it travels between nodes. The topic travels beside it (as the Redis
 * channel, or a field of the IPC message), so the envelope carries only what a node needs to
 * frame the message once: its bytes and flags, and who published it (so a node never delivers
 * its own message twice when the broker echoes it back).
 */
export interface Envelope {
  /** The message: text as a string or its UTF-8 bytes (binary false), or binary bytes. */
  data: string | Buffer;
  /** Binary (true) or text (false) message. */
  binary: boolean;
  /** The publisher's compression wish (`undefined`: each connection's default). */
  compress: boolean | undefined;
  /** Id of the hub that published it (at most 255 bytes of UTF-8). */
  origin: string;
  /**
   * Reserved for resumable topics (issue 13): the message's place in its topic's history.
   * Encoded behind flag bit 3; version-1 decoders that predate it reject the flag, so adding
   * it needs no new version.
   */
  position?:
    | {
        /** Sequence number of the message in its topic's history. */
        offset: bigint;
        /** Which history `offset` counts in: a new epoch means the history was lost (flushed, expired) and restarted. */
        epoch: string;
      }
    | undefined;
}

/** A message's place in its topic's history (see `Envelope.position`). */
export type EnvelopePosition = NonNullable<Envelope['position']>;

/**
 * `envelope` with other `data` and a position, as a literal naming every field: on Node 20
 * (V8 11) `{ ...envelope, position }` gives each object a map of its own when `envelope` has no
 * `position` key, and these are kept in histories and read on every delivery.
 */
export function withPosition(envelope: Envelope, data: string | Buffer, position: EnvelopePosition): Envelope & { position: EnvelopePosition } {
  // `satisfies`: a field added to Envelope fails to compile until it is carried here too.
  return { data, binary: envelope.binary, compress: envelope.compress, origin: envelope.origin, position } satisfies Record<keyof Envelope, unknown>;
}

/** Thrown by `decodeEnvelope` for bytes that are not a sockwire envelope this version reads. */
export class EnvelopeError extends Error {
  override name = 'EnvelopeError';
}

/** First byte of every envelope: the format version. */
export const ENVELOPE_VERSION = 1;
const F_BINARY = 1;
const F_COMPRESS_SET = 2;
const F_COMPRESS = 4;
const F_POSITION = 8;
const KNOWN_FLAGS = F_BINARY | F_COMPRESS_SET | F_COMPRESS | F_POSITION;

/**
 * Encodes an envelope as one buffer (binary-safe):
 *
 *     u8 version (1) | u8 flags | u8 originLength | origin (UTF-8)
 *     [flags & 8: u64 offset (BE) | u8 epochLength | epoch (UTF-8)]
 *     payload (to the end)
 *
 * flags: 1 binary, 2 compress given, 4 compress value, 8 position present; others must be 0.
 */
export function encodeEnvelope(envelope: Envelope): Buffer {
  const origin = Buffer.from(envelope.origin);
  if (origin.length > 255) throw new RangeError('envelope origin longer than 255 bytes');
  const payload = typeof envelope.data === 'string' ? Buffer.from(envelope.data) : envelope.data;
  let flags = envelope.binary ? F_BINARY : 0;
  if (envelope.compress !== undefined) flags |= F_COMPRESS_SET | (envelope.compress ? F_COMPRESS : 0);
  let epoch: Buffer | null = null;
  if (envelope.position) {
    flags |= F_POSITION;
    epoch = Buffer.from(envelope.position.epoch);
    if (epoch.length > 255) throw new RangeError('envelope epoch longer than 255 bytes');
  }
  const headerLength = 3 + origin.length + (epoch ? 9 + epoch.length : 0);
  const out = Buffer.allocUnsafe(headerLength + payload.length);
  out[0] = ENVELOPE_VERSION;
  out[1] = flags;
  out[2] = origin.length;
  let at = 3 + origin.copy(out, 3);
  if (epoch && envelope.position) {
    out.writeBigUInt64BE(envelope.position.offset, at);
    out[at + 8] = epoch.length;
    at += 9 + epoch.copy(out, at + 9);
  }
  payload.copy(out, at);
  return out;
}

/**
 * Decodes what `encodeEnvelope` made. The payload is a view into `bytes` (no copy). Text
 * payloads are checked to be UTF-8, since they are framed as text without further checks and
 * anything may publish on a shared Redis.
 */
export function decodeEnvelope(bytes: Uint8Array): Envelope & { data: Buffer } {
  const buf = Buffer.isBuffer(bytes) ? bytes : Buffer.from(bytes.buffer, bytes.byteOffset, bytes.byteLength);
  if (buf.length < 3) throw new EnvelopeError('envelope shorter than its header');
  if (buf[0] !== ENVELOPE_VERSION) throw new EnvelopeError(`unknown envelope version ${buf[0]}`);
  const flags = buf[1]!;
  if ((flags & ~KNOWN_FLAGS) !== 0) throw new EnvelopeError(`unknown envelope flags 0x${flags.toString(16)}`);
  const originEnd = 3 + buf[2]!;
  if (buf.length < originEnd) throw new EnvelopeError('envelope origin truncated');
  const origin = buf.toString('utf8', 3, originEnd);
  let at = originEnd;
  let position: Envelope['position'];
  if (flags & F_POSITION) {
    if (buf.length < at + 9) throw new EnvelopeError('envelope position truncated');
    const offset = buf.readBigUInt64BE(at);
    const epochEnd = at + 9 + buf[at + 8]!;
    if (buf.length < epochEnd) throw new EnvelopeError('envelope epoch truncated');
    position = { offset, epoch: buf.toString('utf8', at + 9, epochEnd) };
    at = epochEnd;
  }
  const data = buf.subarray(at);
  const binary = (flags & F_BINARY) !== 0;
  if (!binary && !isUtf8(data)) throw new EnvelopeError('text envelope payload is not UTF-8');
  const compress = flags & F_COMPRESS_SET ? (flags & F_COMPRESS) !== 0 : undefined;
  return { data, binary, compress, origin, position };
}
