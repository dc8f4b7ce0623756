import type { Socket } from 'node:net';
import { RawConn } from './conn.js';
import { acceptFor, type RequestHead } from './http.js';
import type { Clock, Outcome } from './judge.js';
import { Session, type SessionOptions } from './session.js';
import { WireLog } from './wire.js';

export interface AcceptOptions {
  /** Status line to send; default "101 Switching Protocols". */
  status?: string;
  /** Override the accept value (for the wrong-accept cases). */
  acceptValue?: string;
  /** Headers to leave out of the answer. */
  omit?: string[];
  /** Extra header lines, e.g. an unrequested subprotocol. */
  extra?: Array<[string, string]>;
  /** permessage-deflate as our answer agreed it: RSV1 then marks the client's compressed messages. */
  deflate?: SessionOptions['deflate'];
}

/** What a client-mode case gets: the client's upgrade request, the socket, a wire log and a deadline. */
export class ClientCaseContext implements Clock {
  readonly log = new WireLog();
  private readonly deadline: number;
  private conn: RawConn | null = null;

  constructor(
    readonly socket: Socket,
    readonly request: RequestHead,
    private readonly rest: Buffer,
    readonly timeoutMs: number,
    /** Smaller messages for quick runs (CI). */
    readonly quick = false,
  ) {
    this.deadline = performance.now() + timeoutMs;
  }

  remaining(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  settleMs(): number {
    return Math.min(3000, this.timeoutMs / 2);
  }

  header(name: string): string | undefined {
    return this.request.headers.get(name.toLowerCase())?.join(', ');
  }

  /** Answers the upgrade (correctly unless told otherwise) and returns the server-side session. */
  async accept(opts: AcceptOptions = {}): Promise<Session> {
    const key = this.header('sec-websocket-key') ?? '';
    const headers: Array<[string, string]> = [
      ['Upgrade', 'websocket'],
      ['Connection', 'Upgrade'],
      ['Sec-WebSocket-Accept', opts.acceptValue ?? acceptFor(key)],
    ].filter(([k]) => !(opts.omit ?? []).includes(k!)) as Array<[string, string]>;
    headers.push(...(opts.extra ?? []));
    const head = `HTTP/1.1 ${opts.status ?? '101 Switching Protocols'}\r\n${headers.map(([k, v]) => `${k}: ${v}\r\n`).join('')}\r\n`;
    this.log.add('send', 'http', head.trimEnd(), Buffer.from(head, 'latin1'));
    const conn = RawConn.adopt(this.socket, this.log, this.rest);
    this.conn = conn;
    await conn.write(Buffer.from(head, 'latin1'), { quiet: true });
    return new Session(conn, this.log, { expectMasked: true, role: 'server', ...(opts.deflate ? { deflate: opts.deflate } : {}) });
  }

  cleanup(): void {
    if (this.conn) this.conn.destroy();
    else this.socket.destroy();
  }
}

export interface ClientCase {
  id: string;
  group: string;
  description: string;
  expectation: string;
  timeoutMs?: number;
  run(t: ClientCaseContext): Promise<Outcome>;
}
