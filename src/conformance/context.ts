import { RawConn } from './conn.js';
import { buildRequest, checkUpgradeResponse, defaultUpgradeHeaders, headerValue, newKey } from './http.js';
import { checkDeflateAnswer, Inflater, offerHeader, type DeflateOffer } from './deflate.js';
import { failed, type Clock, type Outcome } from './judge.js';
import { Session } from './session.js';
import type { Target } from './target.js';
import { WireLog } from './wire.js';
import { checkConnectAnswer, H2ConnectError, openStream } from './h2.js';
import type { ClientHttp2Session } from 'node:http2';

export interface ConnectOptions {
  protocols?: string[];
  extraHeaders?: Array<[string, string]>;
  /** Bytes to append to the upgrade request in the same TCP write. */
  pipelined?: Buffer;
  /** Offer permessage-deflate with these parameters; the answer is checked against RFC 7692. */
  deflate?: DeflateOffer;
}

/** Everything a server-mode case gets: the target, a wire log, a deadline, and connection helpers. */
export class CaseContext implements Clock {
  readonly log = new WireLog();
  private readonly conns: RawConn[] = [];
  private readonly sessions: Session[] = [];
  private readonly h2Sessions: ClientHttp2Session[] = [];
  private readonly deadline: number;

  constructor(
    readonly target: Target,
    readonly timeoutMs: number,
    readonly quick: boolean,
  ) {
    this.deadline = performance.now() + timeoutMs;
  }

  remaining(): number {
    return Math.max(0, this.deadline - performance.now());
  }

  settleMs(): number {
    return Math.min(3000, this.timeoutMs / 2);
  }

  /** A bare TCP connection for cases that write their own HTTP. */
  async raw(): Promise<RawConn> {
    const c = await RawConn.open(this.target, this.log, Math.min(this.remaining(), 5000));
    this.conns.push(c);
    return c;
  }

  /** Opens a WebSocket connection, judging the server's handshake answer on the way. */
  async connect(opts: ConnectOptions = {}): Promise<Session> {
    if (this.target.http2) return this.connectH2(opts);
    const conn = await this.raw();
    const key = newKey();
    const headers = defaultUpgradeHeaders(this.target.hostHeader, key);
    if (opts.protocols?.length) headers.push(['Sec-WebSocket-Protocol', opts.protocols.join(', ')]);
    if (opts.deflate) headers.push(['Sec-WebSocket-Extensions', offerHeader(opts.deflate)]);
    headers.push(...(opts.extraHeaders ?? []));
    const req = buildRequest({ path: this.target.path, headers });
    this.log.add('send', 'http', req.toString('latin1').trimEnd(), req);
    const bytes = opts.pipelined ? Buffer.concat([req, opts.pipelined]) : req;
    await conn.write(bytes, { quiet: true });
    const h = await conn.readHead(this.remaining());
    if (h.kind === 'timeout') failed('no answer to the opening handshake before the case timeout');
    if (h.kind === 'end') failed(`connection closed during the opening handshake (${h.how})`);
    if (h.kind === 'garbage') failed(`unparseable handshake answer: ${h.detail}`);
    const problem = checkUpgradeResponse(h.head, key, opts.protocols ?? [], opts.deflate !== undefined);
    if (problem) failed(`opening handshake: ${problem}`);
    return this.session(conn, headerValue(h.head, 'sec-websocket-extensions'), opts);
  }

  /**
   * The same over HTTP/2 (RFC 8441): an extended CONNECT on a session of its own, judged as
   * the 101 is (2xx, only offered subprotocols and extensions); the stream is then the
   * connection the frames go over.
   */
  private async connectH2(opts: ConnectOptions): Promise<Session> {
    if (opts.pipelined) failed('pipelining bytes behind the request is an HTTP/1.1 case');
    const extra: Array<[string, string]> = [];
    if (opts.protocols?.length) extra.push(['sec-websocket-protocol', opts.protocols.join(', ')]);
    if (opts.deflate) extra.push(['sec-websocket-extensions', offerHeader(opts.deflate)]);
    extra.push(...(opts.extraHeaders ?? []));
    let opened;
    try {
      opened = await openStream(this.target, this.log, Math.min(this.remaining(), 5000), extra);
    } catch (e) {
      if (e instanceof H2ConnectError) failed(`opening handshake: ${e.message}`);
      throw e;
    }
    this.h2Sessions.push(opened.session);
    const problem = checkConnectAnswer(opened.headers, opts.protocols ?? [], opts.deflate !== undefined);
    if (problem) failed(`opening handshake: ${problem}`);
    const conn = RawConn.adopt(opened.stream, this.log, Buffer.alloc(0));
    this.conns.push(conn);
    const ext = opened.headers['sec-websocket-extensions'];
    return this.session(conn, ext === undefined ? undefined : String(ext), opts);
  }

  private session(conn: RawConn, ext: string | undefined, opts: ConnectOptions): Session {
    let session: Session;
    if (opts.deflate && ext) {
      const agreement = checkDeflateAnswer(ext, opts.deflate);
      if (typeof agreement === 'string') failed(`permessage-deflate answer: ${agreement}`);
      session = new Session(conn, this.log, { expectMasked: false, role: 'client', deflate: { agreement, inflater: new Inflater() } });
    } else session = new Session(conn, this.log, { expectMasked: false, role: 'client' });
    this.sessions.push(session);
    return session;
  }

  cleanup(): void {
    for (const s of this.sessions) s.destroy();
    for (const c of this.conns) c.destroy();
    for (const s of this.h2Sessions) s.destroy();
  }
}

export interface ServerCase {
  id: string;
  group: string;
  description: string;
  expectation: string;
  /** Overrides the run's per-case timeout (large transfers need longer). */
  timeoutMs?: number;
  run(t: CaseContext): Promise<Outcome>;
}
