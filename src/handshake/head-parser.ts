import { HandshakeError } from './errors.js';
import { RequestLineGuard } from './request-line-guard.js';
import { isTchar, isToken } from './tokens.js';

/*
 * Incremental HTTP/1.1 message-head parser (RFC 9112 §2-§5) for the upgrade request and response.
 *
 * Decisions, all from RFC 9112:
 * - Lines end in CRLF; a bare LF is also accepted as a line end (§2.2 lets recipients do so, and
 *   it cannot change where the head ends). A CR anywhere else ("bare CR") is rejected (§2.2).
 * - Empty lines before a request line are skipped (§2.2 SHOULD); they count toward the byte limit.
 * - obs-fold (a header line starting with SP/HTAB) is rejected with 400 (§5.2 allows that).
 * - No whitespace between field name and colon (§5.1 MUST reject with 400).
 * - Requests: `HTTP/1.1` is accepted, and a hypothetical `HTTP/1.x` with x > 1 is treated as 1.1
 *   (RFC 9110 §2.5). `HTTP/1.0` gets 400 (the upgrade mechanism, and so a WebSocket handshake,
 *   needs HTTP/1.1, RFC 6455 §4.1); other major versions get 505. A malformed version is a 400.
 * - Responses: any `HTTP/1.x` is accepted, so that an HTTP/1.0 "403 Forbidden" still reaches the
 *   caller and can be reported by its status; the 101 check belongs to validateUpgradeResponse.
 * - Header bytes are decoded as latin1 (like Node), so obs-text survives byte for byte.
 *
 * - A request's first line is also checked as its bytes arrive (RequestLineGuard), so bytes that
 *   cannot begin a request line (a TLS ClientHello, binary garbage) fail with 400 at once instead
 *   of waiting for an LF that may never come. The HTTP/2 preface (`PRI * HTTP/2.0`, RFC 9113 §3.4)
 *   is refused with 400 like Node's parser does, not 505: it is not an HTTP/1 request at all.
 *
 * Memory and time: each byte is scanned once; a line that spans chunks is kept as views of those
 * chunks and copied once when it completes. Limits are enforced as soon as they are crossed, so a
 * 1 MiB line fails after at most `maxHeaderBytes` bytes have been looked at. Because lines and
 * `rest` are views, the pushed chunks must not be modified afterwards (Node's sockets never do).
 */

export type HeadKind = 'request' | 'response';

export interface HeadParserLimits {
  /** Maximum size of the whole head in bytes, start line and final empty line included. Default 16384. */
  maxHeaderBytes?: number | undefined;
  /** Maximum number of header field lines. Default 100. */
  maxHeaders?: number | undefined;
}

interface ParsedHeadCommon {
  /** e.g. `'1.1'`, like `IncomingMessage.httpVersion`. */
  httpVersion: string;
  /**
   * Lower-cased names. A repeated header is joined with `', '` in arrival order, for every name
   * (Node keeps `set-cookie` as an array and drops duplicates of a few others; we do neither, so
   * that a duplicated `Sec-WebSocket-Key` or `Host` stays visible to validation).
   */
  headers: Record<string, string>;
  /** Flat `[name, value, name, value, ...]` as received (names keep their case), like Node. */
  rawHeaders: string[];
  /** Bytes that followed the head in the last chunk (e.g. pipelined frames). A view when possible. */
  rest: Buffer;
}

/**
 * A request head read by sockwire's own HTTP parser (standalone servers), with the fields
 * `ws` users read from Node's IncomingMessage.
 */
export interface ParsedRequest extends ParsedHeadCommon {
  method: string;
  url: string;
}

export interface ParsedResponse extends ParsedHeadCommon {
  statusCode: number;
  statusMessage: string;
}

export type ParsedHead<K extends HeadKind> = K extends 'request' ? ParsedRequest : ParsedResponse;

/** Offset of the first LF at or after `from`, relative to `from` (as a view's indexOf would give), or -1. */
function indexFrom(chunk: Buffer, from: number): number {
  const at = chunk.indexOf(0x0a, from);
  return at === -1 ? -1 : at - from;
}

const DEFAULT_MAX_HEADER_BYTES = 16384;
const DEFAULT_MAX_HEADERS = 100;
const EMPTY = Buffer.alloc(0);

export class HeadParser<K extends HeadKind = HeadKind> {
  readonly kind: K;
  private readonly maxHeaderBytes: number;
  private readonly maxHeaders: number;
  /** Bytes of completed lines (terminators included). */
  private consumed = 0;
  /** Pieces of the line in progress; views into pushed chunks. */
  private partial: Buffer[] = [];
  private partialLength = 0;
  private state: 'start' | 'headers' | 'done' | 'failed' = 'start';
  private error: HandshakeError | undefined;
  private startLine: [string, string, string] | undefined;
  private readonly rawHeaders: string[] = [];
  private readonly headers: Record<string, string> = Object.create(null) as Record<string, string>;
  /** Watches a request's first line while it is incomplete; null for responses and after it. */
  private guard: RequestLineGuard | null;

  constructor(kind: K, limits: HeadParserLimits = {}) {
    this.kind = kind;
    this.maxHeaderBytes = limits.maxHeaderBytes ?? DEFAULT_MAX_HEADER_BYTES;
    this.maxHeaders = limits.maxHeaders ?? DEFAULT_MAX_HEADERS;
    this.guard = kind === 'request' ? new RequestLineGuard() : null;
    if (!(this.maxHeaderBytes > 0) || !(this.maxHeaders >= 0)) throw new RangeError('Invalid HeadParser limits');
  }

  /** True once a full head has been returned. */
  get complete(): boolean {
    return this.state === 'done';
  }

  /**
   * Feeds the next bytes. Returns the parsed head once its terminating empty line has arrived,
   * otherwise null. Throws HandshakeError (see errors.ts for statuses; always 0 for responses);
   * after a throw every further push throws the same error.
   */
  push(chunk: Buffer): ParsedHead<K> | null {
    if (this.state === 'done') throw new Error('HeadParser: head already complete; handle `rest` yourself');
    if (this.state === 'failed') throw this.error!;
    try {
      return this.scan(chunk);
    } catch (err) {
      this.state = 'failed';
      if (err instanceof HandshakeError) this.error = err;
      else this.error = new HandshakeError(this.status(400), `Malformed HTTP head: ${String(err)}`);
      throw this.error;
    }
  }

  private scan(chunk: Buffer): ParsedHead<K> | null {
    let pos = 0;
    while (pos < chunk.length) {
      // The line's LF must fall within the remaining byte budget, so never search further.
      const budget = this.maxHeaderBytes - this.consumed - this.partialLength;
      const searchEnd = Math.min(chunk.length, pos + budget);
      // Searching the chunk itself spares a view per line; a view only bounds a search that
      // must stop short of the chunk's end.
      const idx = searchEnd === chunk.length ? indexFrom(chunk, pos) : chunk.subarray(pos, searchEnd).indexOf(0x0a);
      if (this.guard !== null) {
        const why = this.guard.check(chunk, pos, idx === -1 ? searchEnd : pos + idx);
        if (why !== null) this.malformed(why);
      }
      if (idx === -1) {
        if (searchEnd < chunk.length) this.tooLarge();
        this.partial.push(chunk.subarray(pos));
        this.partialLength += chunk.length - pos;
        return null;
      }
      const lf = pos + idx;
      let done: boolean;
      if (this.partialLength > 0) {
        this.partial.push(chunk.subarray(pos, lf));
        const line = Buffer.concat(this.partial, this.partialLength + idx);
        this.partial = [];
        this.partialLength = 0;
        this.consumed += line.length + 1;
        done = this.line(line, 0, line.length);
      } else {
        this.consumed += idx + 1;
        done = this.line(chunk, pos, lf);
      }
      pos = lf + 1;
      if (done) return this.finish(chunk.subarray(pos));
    }
    return null;
  }

  /** Handles one line, `bytes[start, lf)` without its LF; returns true when it was the head's final empty line. */
  private line(bytes: Buffer, start: number, lf: number): boolean {
    let end = lf;
    if (end > start && bytes[end - 1] === 0x0d) end--;
    const text = bytes.toString('latin1', start, end);
    if (text.includes('\r')) this.malformed('bare CR in header section');
    if (this.state === 'start') {
      if (text.length === 0) return false;
      this.guard = null;
      this.startLine = this.kind === 'request' ? this.requestLine(text) : this.statusLine(text);
      this.state = 'headers';
      return false;
    }
    if (text.length === 0) return true;
    if (this.rawHeaders.length / 2 >= this.maxHeaders) {
      throw new HandshakeError(this.status(431), `Too many header fields (limit ${this.maxHeaders})`);
    }
    this.headerLine(text);
    return false;
  }

  private requestLine(text: string): [string, string, string] {
    const sp1 = text.indexOf(' ');
    const sp2 = sp1 === -1 ? -1 : text.indexOf(' ', sp1 + 1);
    if (sp2 === -1) this.malformed('request line is not "method SP target SP version"');
    const method = text.slice(0, sp1);
    const target = text.slice(sp1 + 1, sp2);
    const version = text.slice(sp2 + 1);
    if (!isToken(method)) this.malformed('invalid method');
    if (target.length === 0) this.malformed('empty request target');
    for (let i = 0; i < target.length; i++) {
      const c = target.charCodeAt(i);
      if (c <= 0x20 || c >= 0x7f) this.malformed('invalid character in request target');
    }
    if (method === 'PRI' && target === '*' && version === 'HTTP/2.0') this.malformed('HTTP/2 connection preface');
    const [major, minor] = this.version(version);
    // HTTP/1.0 is a version we speak but a request that cannot upgrade: the client's error (400).
    // Only another major version is one we do not support at all (505, RFC 9110 §15.6.6).
    if (major !== 1) throw new HandshakeError(505, `HTTP version ${version} not supported`);
    if (minor < 1) throw new HandshakeError(400, `HTTP/${version}: a WebSocket upgrade requires HTTP/1.1`);
    return [method, target, `${major}.${minor}`];
  }

  private statusLine(text: string): [string, string, string] {
    const sp1 = text.indexOf(' ');
    if (sp1 === -1) this.malformed('status line is not "version SP status SP reason"');
    const [major, minor] = this.version(text.slice(0, sp1));
    if (major !== 1) this.malformed(`unsupported HTTP version ${text.slice(0, sp1)}`);
    const code = text.slice(sp1 + 1, sp1 + 4);
    if (!/^[1-5][0-9][0-9]$/.test(code)) this.malformed('invalid status code');
    // RFC 9112 §4 requires the SP before an empty reason; "HTTP/1.1 101" is common enough to allow.
    let reason = '';
    if (text.length > sp1 + 4) {
      if (text.charCodeAt(sp1 + 4) !== 0x20) this.malformed('invalid status code');
      reason = text.slice(sp1 + 5);
      for (let i = 0; i < reason.length; i++) {
        const c = reason.charCodeAt(i);
        if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.malformed('control character in reason phrase');
      }
    }
    return [code, reason, `${major}.${minor}`];
  }

  /** `HTTP/d.d` (RFC 9112 §2.3), exactly. */
  private version(v: string): [number, number] {
    if (v.length !== 8 || !v.startsWith('HTTP/') || v[6] !== '.') this.malformed(`invalid HTTP version`);
    const major = v.charCodeAt(5) - 0x30;
    const minor = v.charCodeAt(7) - 0x30;
    if (major < 0 || major > 9 || minor < 0 || minor > 9) this.malformed('invalid HTTP version');
    return [major, minor];
  }

  private headerLine(text: string): void {
    const first = text.charCodeAt(0);
    if (first === 0x20 || first === 0x09) this.malformed('obsolete line folding is not allowed');
    let colon = 0;
    while (colon < text.length && isTchar(text.charCodeAt(colon))) colon++;
    if (colon === text.length) this.malformed('header line without a colon');
    if (text.charCodeAt(colon) !== 0x3a) {
      const c = text.charCodeAt(colon);
      this.malformed(c === 0x20 || c === 0x09 ? 'whitespace before colon in header line' : 'invalid character in header name');
    }
    if (colon === 0) this.malformed('empty header name');
    let start = colon + 1;
    let end = text.length;
    while (start < end && (text.charCodeAt(start) === 0x20 || text.charCodeAt(start) === 0x09)) start++;
    while (end > start && (text.charCodeAt(end - 1) === 0x20 || text.charCodeAt(end - 1) === 0x09)) end--;
    for (let i = start; i < end; i++) {
      const c = text.charCodeAt(i);
      if ((c < 0x20 && c !== 0x09) || c === 0x7f) this.malformed('control character in header value');
    }
    const name = text.slice(0, colon);
    const value = text.slice(start, end);
    this.rawHeaders.push(name, value);
    const key = name.toLowerCase();
    const prev = this.headers[key];
    this.headers[key] = prev === undefined ? value : `${prev}, ${value}`;
  }

  private finish(rest: Buffer): ParsedHead<K> {
    this.state = 'done';
    const [a, b, httpVersion] = this.startLine!;
    const common = { httpVersion, headers: this.headers, rawHeaders: this.rawHeaders, rest: rest.length === 0 ? EMPTY : rest };
    const result: ParsedRequest | ParsedResponse =
      this.kind === 'request' ? { method: a, url: b, ...common } : { statusCode: Number(a), statusMessage: b, ...common };
    return result as ParsedHead<K>;
  }

  private status(forRequest: number): number {
    return this.kind === 'request' ? forRequest : 0;
  }

  private tooLarge(): never {
    throw new HandshakeError(this.status(431), `HTTP head exceeds ${this.maxHeaderBytes} bytes`);
  }

  private malformed(why: string): never {
    throw new HandshakeError(this.status(400), `Malformed HTTP ${this.kind} head: ${why}`);
  }
}
