/**
 * Several published messages in one cluster IPC message. Each IPC message costs a
 * serialization, a syscall and an event on the other side; a fan-out publisher produces many
 * per event-loop turn, so `ClusterBroker` and `ClusterRelay` gather a turn's messages per
 * channel into one buffer of records:
 *
 *     u32 topicLength (BE) | topic (UTF-8) | u32 envelopeLength (BE) | envelope bytes
 *
 * repeated to the end. Records keep the order they were added in, so order per topic (and per
 * channel) is what it was message by message. The relay reads only the topic and copies
 * records through as they came: the envelope inside is never decoded there.
 */

/** Bytes of a record's two length fields. */
const HEADER = 8;

/** Gathers records until `take()`; `bytes` tells when to flush early (bounded memory). */
export class BatchWriter {
  private chunks: Buffer[] = [];
  /** Bytes gathered so far. */
  bytes = 0;
  /** Records gathered so far. */
  count = 0;

  /** Adds a message published on `topic` (its envelope as `encodeEnvelope` made it). */
  add(topic: string, envelope: Uint8Array): void {
    const topicLength = Buffer.byteLength(topic);
    const head = Buffer.allocUnsafe(HEADER + topicLength);
    head.writeUInt32BE(topicLength, 0);
    head.write(topic, 4, 'utf8');
    head.writeUInt32BE(envelope.length, 4 + topicLength);
    this.push(head);
    this.push(envelope instanceof Buffer ? envelope : Buffer.from(envelope.buffer, envelope.byteOffset, envelope.length));
    this.count++;
  }

  /** Adds a whole record as `readBatch` handed it out (relayed unchanged). */
  addRecord(record: Buffer): void {
    this.push(record);
    this.count++;
  }

  /** The batch gathered (null if none), and a fresh start. */
  take(): Buffer | null {
    if (this.count === 0) return null;
    const out = this.chunks.length === 1 ? this.chunks[0]! : Buffer.concat(this.chunks, this.bytes);
    this.chunks = [];
    this.bytes = 0;
    this.count = 0;
    return out;
  }

  private push(chunk: Buffer): void {
    this.chunks.push(chunk);
    this.bytes += chunk.length;
  }
}

/** Thrown by `readBatch` for bytes that are not a batch of whole records. */
export class BatchError extends Error {
  override name = 'BatchError';
}

/**
 * Calls `each` for every record of `batch`, in order: the topic, the envelope bytes (a view
 * into `batch`) and the whole record (a view too). Checks every length before use, so a
 * truncated or corrupt batch throws `BatchError` — after the records before the damage were
 * handed out, since those are whole.
 */
export function readBatch(batch: Buffer, each: (topic: string, envelope: Buffer, record: Buffer) => void): void {
  let at = 0;
  while (at < batch.length) {
    if (batch.length - at < 4) throw new BatchError('truncated record header');
    const topicLength = batch.readUInt32BE(at);
    const topicEnd = at + 4 + topicLength;
    if (topicEnd + 4 > batch.length) throw new BatchError('truncated topic');
    const envelopeLength = batch.readUInt32BE(topicEnd);
    const end = topicEnd + 4 + envelopeLength;
    if (end > batch.length) throw new BatchError('truncated envelope');
    each(batch.toString('utf8', at + 4, topicEnd), batch.subarray(topicEnd + 4, end), batch.subarray(at, end));
    at = end;
  }
}
