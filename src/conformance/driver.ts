/**
 * Drives any browser-compatible WebSocket client through client mode, using nothing but the
 * standard API (constructor, binaryType, onmessage, send, onclose). ws's WebSocket, Node's
 * global WebSocket and sockwire's client all fit.
 */

// Handlers take `any` so that every implementation's own event types are accepted.
// eslint-disable-next-line @typescript-eslint/no-explicit-any
type Handler = ((ev: any) => void) | null;

export interface BrowserLikeWebSocket {
  binaryType: string;
  onopen: Handler;
  onmessage: Handler;
  onclose: Handler;
  onerror: Handler;
  send(data: string | ArrayBuffer | ArrayBufferView): void;
  close(code?: number, reason?: string): void;
}

export type BrowserLikeWebSocketCtor = new (url: string) => BrowserLikeWebSocket;

export interface ClientDriverOptions {
  /** Base URL of the client-mode server, e.g. ws://127.0.0.1:9001 */
  url: string;
  agent: string;
  WebSocket: BrowserLikeWebSocketCtor;
  /** Give up on a single case's connection after this long. Default 30 s. */
  caseTimeoutMs?: number;
  onCase?: (n: number, total: number) => void;
}

/** One connection: echo every message with its type until the connection closes. */
function session(Ctor: BrowserLikeWebSocketCtor, url: string, timeoutMs: number, echo: boolean): Promise<unknown[]> {
  return new Promise((resolve) => {
    const got: unknown[] = [];
    let ws: BrowserLikeWebSocket;
    try {
      ws = new Ctor(url);
    } catch {
      resolve(got);
      return;
    }
    try {
      ws.binaryType = 'arraybuffer';
    } catch {
      // Implementations without arraybuffer support deliver Buffers, which echo just as well.
    }
    const timer = setTimeout(() => {
      try {
        ws.close();
      } catch {
        // Already closing.
      }
      resolve(got);
    }, timeoutMs);
    ws.onmessage = (ev: { data: unknown }) => {
      got.push(ev.data);
      if (!echo) return;
      try {
        ws.send(ev.data as string | ArrayBuffer);
      } catch {
        // The connection may be closing under us; the judge sees what happened on the wire.
      }
    };
    ws.onerror = () => undefined;
    ws.onclose = () => {
      clearTimeout(timer);
      resolve(got);
    };
  });
}

export async function runClientDriver(opts: ClientDriverOptions): Promise<{ caseCount: number }> {
  const base = opts.url.replace(/\/+$/, '');
  const timeout = opts.caseTimeoutMs ?? 30_000;
  const agent = encodeURIComponent(opts.agent);
  const [count] = await session(opts.WebSocket, `${base}/getCaseCount`, timeout, false);
  const caseCount = Number(count);
  if (!Number.isInteger(caseCount) || caseCount < 0) throw new Error(`bad case count from ${base}/getCaseCount: ${String(count)}`);
  for (let i = 1; i <= caseCount; i++) {
    await session(opts.WebSocket, `${base}/runCase?case=${i}&agent=${agent}`, timeout, true);
    opts.onCase?.(i, caseCount);
  }
  await session(opts.WebSocket, `${base}/updateReports?agent=${agent}`, timeout, false);
  return { caseCount };
}
