// A minimal sockwire.pubsub.v1 peer for tests, on a real `ws` client: it records, in arrival
// order, every reply (JSON) and every message (decoded), and sends requests. Not the shipped
// client helper: only what the server tests need to read the wire exactly.
import WS from 'ws';
import { PUBSUB_V1, decodeMessageFrame, encodePublishFrame } from '../../src/pubsub/subprotocol.js';

export type V1Event =
  | { kind: 'reply'; op: string; id?: number; topic?: string; status?: string; reason?: string; recovered?: number; offset?: string | null; epoch?: string | null; code?: string }
  | { kind: 'message'; topic: string; text: string; binary: boolean; offset: string | null; epoch: string | null };

export interface V1Peer {
  ws: WS;
  events: V1Event[];
  /** Resolves with the first event (from index `from`) matching `pred`. */
  next(pred: (e: V1Event) => boolean, from?: number, ms?: number): Promise<V1Event>;
  subscribe(id: number, topic: string, since?: { offset: string; epoch: string }): void;
  unsubscribe(id: number, topic: string): void;
  publish(id: number, topic: string, data: string | Buffer): void;
  messages(topic?: string): Array<Extract<V1Event, { kind: 'message' }>>;
  closed: Promise<{ code: number; reason: string }>;
}

export async function v1Peer(port: number, protocols: string[] = [PUBSUB_V1]): Promise<V1Peer> {
  const ws = new WS(`ws://127.0.0.1:${port}`, protocols);
  const events: V1Event[] = [];
  const waiters = new Set<() => void>();
  ws.on('message', (data: Buffer, isBinary: boolean) => {
    if (isBinary) {
      const m = decodeMessageFrame(data);
      events.push({
        kind: 'message',
        topic: m.topic,
        text: m.binary ? `bin:${m.payload.toString('hex')}` : m.payload.toString(),
        binary: m.binary,
        offset: m.position ? m.position.offset.toString() : null,
        epoch: m.position ? m.position.epoch : null,
      });
    } else events.push({ kind: 'reply', ...JSON.parse(data.toString()) });
    for (const w of [...waiters]) w();
  });
  const closed = new Promise<{ code: number; reason: string }>((resolve) => ws.once('close', (code, reason) => resolve({ code, reason: reason.toString() })));
  await new Promise((resolve, reject) => {
    ws.once('open', resolve);
    ws.once('error', reject);
  });
  return {
    ws,
    events,
    closed,
    next(pred, from = 0, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const check = (): void => {
          const found = events.slice(from).find(pred);
          if (found) {
            waiters.delete(check);
            clearTimeout(timer);
            resolve(found);
          }
        };
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out; events: ${JSON.stringify(events.slice(-5))}`));
        }, ms);
        waiters.add(check);
        check();
      });
    },
    subscribe(id, topic, since) {
      ws.send(JSON.stringify(since ? { op: 'subscribe', id, topic, since } : { op: 'subscribe', id, topic }));
    },
    unsubscribe(id, topic) {
      ws.send(JSON.stringify({ op: 'unsubscribe', id, topic }));
    },
    publish(id, topic, data) {
      ws.send(encodePublishFrame(id, topic, data, typeof data !== 'string'));
    },
    messages(topic) {
      return events.filter((e): e is Extract<V1Event, { kind: 'message' }> => e.kind === 'message' && (topic === undefined || e.topic === topic));
    },
  };
}

/** Waits for `n` messages on `topic` in `peer`. */
export async function untilMessages(peer: V1Peer, topic: string, n: number, ms = 10_000): Promise<Array<Extract<V1Event, { kind: 'message' }>>> {
  const deadline = Date.now() + ms;
  while (peer.messages(topic).length < n) {
    const left = deadline - Date.now();
    if (left <= 0) throw new Error(`timed out with ${peer.messages(topic).length}/${n} messages on ${topic}`);
    const seen = peer.events.length;
    await peer.next(() => true, seen, left);
  }
  return peer.messages(topic);
}
