import type { Verdict } from './types.js';
import { describeReply, type Reply, type Session } from './session.js';
import { describeChunk, type WireLog } from './wire.js';

export interface Outcome {
  verdict: Verdict;
  reason: string;
}

/** Thrown anywhere inside a case to end it with a verdict; the runner turns it into the result. */
export class VerdictError extends Error {
  constructor(
    readonly verdict: Verdict,
    readonly reason: string,
  ) {
    super(reason);
  }
}

export function failed(reason: string): never {
  throw new VerdictError('FAILED', reason);
}

/** The clock a case runs against: every wait is bounded by the case deadline. */
export interface Clock {
  remaining(): number;
  /** How long to wait for something that is expected to happen promptly (a close, a drop). */
  settleMs(): number;
}

export type Expected = { kind: 'text' | 'binary' | 'pong'; data: Buffer };

export const text = (data: Buffer | string): Expected => ({ kind: 'text', data: typeof data === 'string' ? Buffer.from(data) : data });
export const binary = (data: Buffer): Expected => ({ kind: 'binary', data });
export const pong = (data: Buffer | string = ''): Expected => ({ kind: 'pong', data: typeof data === 'string' ? Buffer.from(data) : data });

function describeExpected(e: Expected): string {
  return describeReply(e);
}

function firstDifference(a: Buffer, b: Buffer): number {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i;
  return n;
}

/**
 * Reads replies and fails the case at the first one that is not expected. Messages must come in
 * order, and pongs in order, but the two streams may interleave freely: a server answers pings
 * in its protocol layer while echoes pass through its application, and the RFC orders neither
 * against the other.
 */
export async function expectReplies(c: Clock, s: Session, expected: Expected[], what = ''): Promise<void> {
  await matchReplies(c, s, expected, what, false);
}

async function matchReplies(c: Clock, s: Session, expected: Expected[], what: string, stopOnClose: boolean): Promise<Reply | null> {
  const data = expected.filter((e) => e.kind !== 'pong');
  const pongs = expected.filter((e) => e.kind === 'pong');
  let di = 0;
  let pi = 0;
  const prefix = what ? `${what}: ` : '';
  while (di < data.length || pi < pongs.length) {
    const r = await s.next(c.remaining());
    const stream = r.kind === 'pong' ? pongs : r.kind === 'text' || r.kind === 'binary' ? data : null;
    const idx = r.kind === 'pong' ? pi : di;
    const e = stream?.[idx];
    if (e && 'data' in r) {
      if (e.kind !== r.kind) failed(`${prefix}expected ${describeExpected(e)}, got ${describeReply(r)}`);
      if (!r.data.equals(e.data)) {
        failed(`${prefix}expected ${describeExpected(e)}, got ${r.kind} of ${r.data.length} bytes differing from byte ${firstDifference(r.data, e.data)}`);
      }
      if (r.kind === 'pong') pi++;
      else di++;
      continue;
    }
    if (stopOnClose && (r.kind === 'close' || r.kind === 'end')) return r;
    const next = data[di] ?? pongs[pi]!;
    const lead = r.kind === 'close' || r.kind === 'end' ? 'the peer failed the connection on valid input: ' : '';
    failed(`${prefix}expected ${describeExpected(next)}, got ${lead}${describeReply(r)}`);
  }
  return null;
}

/**
 * Valid messages, then a violation. Echoes of the valid part should come first; a peer that
 * fails correctly but before its application got to echo is NON-STRICT (the RFC allows
 * failing at once; Autobahn rates it the same way).
 */
export async function expectRepliesThenFailure(c: Clock, s: Session, before: Expected[], codes: readonly number[], what: string): Promise<Outcome> {
  const stop = await matchReplies(c, s, before, 'before the violation', true);
  if (!stop) return expectFailure(c, s, codes, what);
  const o = stop.kind === 'end' ? { verdict: 'OK' as const, reason: `failed the connection by closing TCP (${stop.how})` } : stop.kind === 'close' ? await finishAfterPeerClose(c, s, stop.code, judgeFailCode(stop.code, codes)) : null;
  if (!o) failed(`unexpected ${describeReply(stop)}`);
  if (o.verdict === 'FAILED') return o;
  return { verdict: 'NON-STRICT', reason: `${o.reason}, but without first echoing the valid message(s) sent before the violation` };
}

/** Error codes that at least say "you did something wrong"; a different one of these is merely imprecise. */
const ERROR_CODES = new Set([1002, 1003, 1007, 1008, 1009, 1011]);

export function judgeFailCode(code: number | undefined, expected: readonly number[]): Outcome {
  const want = expected.join(' or ');
  if (code !== undefined && expected.includes(code)) return { verdict: 'OK', reason: `failed the connection with close code ${code}` };
  if (code === undefined) return { verdict: 'NON-STRICT', reason: `failed the connection with a close frame without status code; ${want} expected` };
  if (ERROR_CODES.has(code)) return { verdict: 'NON-STRICT', reason: `failed the connection with close code ${code}; ${want} expected` };
  return { verdict: 'FAILED', reason: `closed with code ${code} instead of failing with ${want} (or dropping TCP)` };
}

async function finishAfterPeerClose(c: Clock, s: Session, code: number | undefined, o: Outcome): Promise<Outcome> {
  await s.sendClose(code === undefined ? undefined : code);
  // As the server we are the side that closes TCP (RFC 6455 7.1.1); as the client we wait for it.
  if (s.role === 'server') {
    s.conn.endWrites();
    return o;
  }
  const end = await s.next(Math.min(c.settleMs(), c.remaining()));
  if (end.kind === 'end') return o;
  if (end.kind === 'timeout') return { verdict: 'FAILED', reason: `${o.reason}, but did not close TCP within ${Math.round(c.settleMs())} ms after the closing handshake` };
  return { verdict: 'FAILED', reason: `${o.reason}, then sent ${describeReply(end)}` };
}

function onFailureReply(r: Reply, what: string): Outcome | 'continue' | null {
  switch (r.kind) {
    case 'text':
    case 'binary':
      return { verdict: 'FAILED', reason: `accepted ${what}: delivered it and replied with a ${describeReply(r)}` };
    case 'pong':
      return { verdict: 'FAILED', reason: `accepted ${what}: answered with a pong` };
    case 'ping':
      return 'continue';
    case 'end':
      return { verdict: 'OK', reason: `failed the connection by closing TCP (${r.how})` };
    case 'violation':
      return { verdict: 'FAILED', reason: `after ${what} the peer broke the protocol itself: ${r.detail}` };
    case 'timeout':
      return null;
    case 'close':
      return 'continue';
  }
}

/**
 * The peer must fail the connection: a close frame with one of `codes` and then TCP close, or
 * just a TCP close (RFC 6455 7.1.7 lets it skip the close frame). Delivering anything is wrong.
 */
export async function expectFailure(c: Clock, s: Session, codes: readonly number[], what: string, waitMs?: number): Promise<Outcome> {
  const o = await waitForFailure(c, s, codes, what, waitMs ?? Math.min(c.settleMs(), c.remaining()));
  return o ?? { verdict: 'FAILED', reason: `did not fail the connection after ${what} (no close frame, TCP still open after ${Math.round(waitMs ?? c.settleMs())} ms)` };
}

/** Like expectFailure but a quiet peer yields null, for fail-fast probes that send more afterwards. */
export async function waitForFailure(c: Clock, s: Session, codes: readonly number[], what: string, waitMs: number): Promise<Outcome | null> {
  const until = performance.now() + Math.min(waitMs, c.remaining());
  for (;;) {
    const r = await s.next(until - performance.now());
    const o = onFailureReply(r, what);
    if (o === null) return null;
    if (o === 'continue') {
      if (r.kind !== 'close') continue;
      return finishAfterPeerClose(c, s, r.code, judgeFailCode(r.code, codes));
    }
    return o;
  }
}

/**
 * Fail-fast probes: `head` (ending at the invalid bytes) goes out, we pause, then `tail` follows.
 * A strict peer fails during the pause; one that only validates complete messages fails later,
 * which is NON-STRICT.
 */
export async function expectFailFast(c: Clock & { log: WireLog }, s: Session, head: readonly Buffer[], tail: readonly Buffer[], codes: readonly number[], what: string): Promise<Outcome> {
  for (const b of head) await s.conn.write(b, { label: describeChunk(b) });
  const pause = Math.min(1000, c.settleMs());
  const early = await waitForFailure(c, s, codes, what, pause);
  if (early) return early;
  c.log.note(`no reaction within ${pause} ms of the invalid byte; sending the rest`);
  for (const b of tail) await s.conn.write(b, { label: describeChunk(b) });
  const late = await expectFailure(c, s, codes, what);
  if (late.verdict === 'OK' || late.verdict === 'NON-STRICT') {
    return { verdict: 'NON-STRICT', reason: `not fail-fast: ${late.reason} only after the message was complete` };
  }
  return late;
}

export interface CloseOptions {
  /** `undefined` sends a close frame without payload. */
  code?: number | undefined;
  reason?: Buffer | string;
  /** Codes acceptable in the peer's close reply; default: the code we sent, or 1000. */
  accept?: readonly (number | undefined)[];
  /** Frames to send right after our close, which the peer must ignore. */
  after?: Parameters<Session['send']>[0][];
}

/** Runs the closing handshake from our side and checks the peer finishes it and closes TCP. */
export async function closeNormally(c: Clock, s: Session, opts: CloseOptions = {}): Promise<Outcome> {
  const code = 'code' in opts ? opts.code : 1000;
  await s.sendClose(code, opts.reason ?? '');
  for (const f of opts.after ?? []) await s.send(f);
  const accept = opts.accept ?? (code === undefined ? [undefined, 1000] : [code, 1000]);
  return judgeCloseReply(c, s, code, accept);
}

/** After our close frame went out: the peer must answer with an acceptable close, then close TCP. */
export async function judgeCloseReply(c: Clock, s: Session, code: number | undefined, accept: readonly (number | undefined)[]): Promise<Outcome> {
  const r = await s.next(c.remaining());
  if (r.kind !== 'close') {
    if (r.kind === 'end') return { verdict: 'FAILED', reason: `closed TCP without answering our close frame (${r.how})` };
    if (r.kind === 'timeout') return { verdict: 'FAILED', reason: 'did not answer our close frame before the case timeout' };
    return { verdict: 'FAILED', reason: `answered our close frame with ${describeReply(r)}` };
  }
  let o: Outcome;
  if (accept.includes(r.code)) o = { verdict: 'OK', reason: `closing handshake completed (peer replied ${r.code ?? 'without code'})` };
  else if (r.code === undefined) o = { verdict: 'NON-STRICT', reason: `answered our close with an empty close frame instead of echoing ${code}` };
  else o = { verdict: 'FAILED', reason: `answered our close (${code ?? 'no code'}) with close code ${r.code}` };
  if (s.role === 'server') {
    s.conn.endWrites();
    return o;
  }
  const end = await s.next(Math.min(c.settleMs(), c.remaining()));
  if (end.kind === 'end') return o;
  if (end.kind === 'timeout') return { verdict: 'FAILED', reason: `${o.reason}, but did not close TCP within ${Math.round(c.settleMs())} ms` };
  return { verdict: 'FAILED', reason: `${o.reason}, then sent ${describeReply(end)}` };
}

export function worst(a: Outcome, b: Outcome): Outcome {
  const rank: Record<Verdict, number> = { OK: 0, INFORMATIONAL: 1, UNIMPLEMENTED: 2, 'NON-STRICT': 3, FAILED: 4 };
  return rank[b.verdict] > rank[a.verdict] ? b : a;
}
