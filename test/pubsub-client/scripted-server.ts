// A sockwire.pubsub.v1 server whose every frame the test writes by hand (on a real `ws`
// server, 127.0.0.1, free port): it records what clients send, in order, so the client's
// rules (dedup, gap repair, retry, resubscribe with since) can be checked frame by frame.
import type { AddressInfo } from 'node:net';
import WS, { WebSocketServer } from 'ws';
import { PUBSUB_V1, encodeMessageFrame } from '../../src/pubsub/subprotocol.js';

export type Sent =
  | { kind: 'request'; op: string; id: number; topic: string; since?: { offset: string; epoch: string } }
  | { kind: 'publish'; id: number; topic: string; binary: boolean; payload: Buffer };

export interface ScriptedConnection {
  ws: WS;
  /** What this client sent, in order. */
  sent: Sent[];
  /** Resolves with the first sent frame (from index `from`) matching `pred`. */
  next(pred: (s: Sent) => boolean, from?: number): Promise<Sent>;
  message(topic: string, text: string, offset?: number, epoch?: string): void;
  reply(body: object): void;
}

export interface ScriptedServer {
  port: number;
  url: string;
  /** Resolves with the n-th connection (0-based) once it is open. */
  connection(n: number): Promise<ScriptedConnection>;
  close(): Promise<void>;
}

export async function scriptedServer(options: { selectProtocol?: boolean } = {}): Promise<ScriptedServer> {
  const wss = new WebSocketServer({
    port: 0,
    host: '127.0.0.1',
    handleProtocols: (protocols) => (options.selectProtocol === false ? false : protocols.has(PUBSUB_V1) ? PUBSUB_V1 : false),
  });
  await new Promise((r) => wss.once('listening', r));
  const connections: ScriptedConnection[] = [];
  const waiting: Array<() => void> = [];
  wss.on('connection', (ws) => {
    const sent: Sent[] = [];
    const waiters = new Set<() => void>();
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (isBinary) {
        const topicEnd = 8 + data.readUInt16BE(6);
        sent.push({ kind: 'publish', id: data.readUInt32BE(2), topic: data.toString('utf8', 8, topicEnd), binary: (data[1]! & 1) === 1, payload: data.subarray(topicEnd) });
      } else sent.push({ kind: 'request', ...JSON.parse(data.toString()) });
      for (const w of [...waiters]) w();
    });
    connections.push({
      ws,
      sent,
      next(pred, from = 0) {
        return new Promise((resolve, reject) => {
          const timer = setTimeout(() => {
            waiters.delete(check);
            reject(new Error(`timed out; sent: ${JSON.stringify(sent.slice(-5))}`));
          }, 10_000);
          function check(): void {
            const found = sent.slice(from).find(pred);
            if (found) {
              clearTimeout(timer);
              waiters.delete(check);
              resolve(found);
            }
          }
          waiters.add(check);
          check();
        });
      },
      message(topic, text, offset, epoch = 'e1') {
        ws.send(encodeMessageFrame(topic, text, false, offset === undefined ? undefined : { offset: BigInt(offset), epoch }));
      },
      reply(body) {
        ws.send(JSON.stringify(body));
      },
    });
    for (const w of waiting.splice(0)) w();
  });
  return {
    port: (wss.address() as AddressInfo).port,
    url: `ws://127.0.0.1:${(wss.address() as AddressInfo).port}`,
    connection(n) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => reject(new Error(`no connection #${n} (have ${connections.length})`)), 10_000);
        const check = (): void => {
          if (connections[n]) {
            clearTimeout(timer);
            resolve(connections[n]);
          } else waiting.push(check);
        };
        check();
      });
    },
    async close() {
      for (const c of wss.clients) c.terminate();
      await new Promise((r) => wss.close(r));
    },
  };
}

/** Collects a client's events in order, and waits on them. */
export function recorder<T>(): { items: T[]; push(v: T): void; until(pred: (items: T[]) => boolean, ms?: number): Promise<T[]> } {
  const items: T[] = [];
  const waiters = new Set<() => void>();
  return {
    items,
    push(v) {
      items.push(v);
      for (const w of [...waiters]) w();
    },
    until(pred, ms = 10_000) {
      return new Promise((resolve, reject) => {
        const timer = setTimeout(() => {
          waiters.delete(check);
          reject(new Error(`timed out with ${items.length} items: ${JSON.stringify(items.slice(-5))}`));
        }, ms);
        function check(): void {
          if (pred(items)) {
            clearTimeout(timer);
            waiters.delete(check);
            resolve(items);
          }
        }
        waiters.add(check);
        check();
      });
    },
  };
}
