import { RawConn } from './conn.js';
import { buildRequest, checkUpgradeResponse, defaultUpgradeHeaders, newKey } from './http.js';
import { failed, type Clock, type Outcome } from './judge.js';
import { Session } from './session.js';
import type { Target } from './target.js';
import { WireLog } from './wire.js';

export interface ConnectOptions {
  protocols?: string[];
  extraHeaders?: Array<[string, string]>;
  /** Bytes to append to the upgrade request in the same TCP write. */
  pipelined?: Buffer;
}

/** Everything a server-mode case gets: the target, a wire log, a deadline, and connection helpers. */
export class CaseContext implements Clock {
  readonly log = new WireLog();
  private readonly conns: RawConn[] = [];
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
    const conn = await this.raw();
    const key = newKey();
    const headers = defaultUpgradeHeaders(this.target.hostHeader, key);
    if (opts.protocols?.length) headers.push(['Sec-WebSocket-Protocol', opts.protocols.join(', ')]);
    headers.push(...(opts.extraHeaders ?? []));
    const req = buildRequest({ path: this.target.path, headers });
    this.log.add('send', 'http', req.toString('latin1').trimEnd(), req);
    const bytes = opts.pipelined ? Buffer.concat([req, opts.pipelined]) : req;
    await conn.write(bytes, { quiet: true });
    const h = await conn.readHead(this.remaining());
    if (h.kind === 'timeout') failed('no answer to the opening handshake before the case timeout');
    if (h.kind === 'end') failed(`connection closed during the opening handshake (${h.how})`);
    if (h.kind === 'garbage') failed(`unparseable handshake answer: ${h.detail}`);
    const problem = checkUpgradeResponse(h.head, key, opts.protocols ?? []);
    if (problem) failed(`opening handshake: ${problem}`);
    return new Session(conn, this.log, { expectMasked: false, role: 'client' });
  }

  cleanup(): void {
    for (const c of this.conns) c.destroy();
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
