import {
  CloseCode,
  ErrorCode,
  FrameDecoder,
  Opcode,
  decoderLimits,
  ProtocolError,
  cutCloseReason,
  BLOCK_SIZE,
  encodeClosePayload,
  encodeFragments,
  encodeFrame,
  encodeMaskedBlocks,
  encodeTextFrame,
  giveBlocks,
  isValidWireCloseCode,
  parseClosePayload,
  type DecoderHandler,
  type MessageLimits,
} from '../framing/index.js';
import { ClosingHandshake, type ClosingPort } from './closing.js';
import { MessageBuffer } from './message-buffer.js';
import {
  ReadyState,
  type CloseInfo,
  type MessageCodec,
  type ProtocolHandler,
  type ProtocolOptions,
  type ReadyStateValue,
  type SharedCompressor,
} from './types.js';

/** The default `maxPayload`: 16 MiB. */
export const DEFAULT_MAX_PAYLOAD = 16 * 1024 * 1024;
/** The default `compressThreshold`: messages under 1024 bytes are sent uncompressed. */
export const DEFAULT_COMPRESS_THRESHOLD = 1024;

/** Options of `Protocol.send()`. */
export interface SendOptions {
  /** Compress this message if an extension is negotiated (default true; small ones never are). */
  compress?: boolean;
  /** False sends a fragment; the message continues with further sends until one with fin true. */
  fin?: boolean;
}

/**
 * Called once the message's bytes were written by the handler's `write`, or with an error if they never will be.
 * @inline
 */
type WriteCallback = (err?: Error | null) => void;

/** An outgoing item held back while an earlier message is still being compressed. */
interface Pending {
  frames: Buffer[] | null;
  cb: WriteCallback | undefined;
  /** Our Close frame: it reaches the peer even when the data queued ahead of it is dropped (the compressor broke). */
  close?: boolean;
}

/**
 * The sans-I/O WebSocket connection: bytes in → events out, commands in → bytes out. It
 * owns framing rules, message assembly, UTF-8 and size limits, control frames and the
 * closing handshake, and never touches a socket or a timer — an adapter feeds it the
 * transport's bytes (`receive`, `receiveEof`) and carries out what it asks (`write`,
 * `endTransport`). It starts in OPEN: the HTTP handshake happens before it exists.
 *
 * Everything but the documented API is `#private`: this class is handed to applications
 * (`sockwire/protocol`), and no call they can make may leave it in an inconsistent state.
 */
export class Protocol {
  /** Which end of the connection this core plays. */
  readonly role: ProtocolOptions['role'];
  readonly #handler: ProtocolHandler;
  /**
   * The frame decoder, made with the first bytes received (see `#decoder`): a connection that
   * has received nothing since its handshake — a subscriber that only listens — holds only the
   * shared `#limits` instead of a decoder and its chunk list.
   */
  #decoderState: FrameDecoder | null = null;
  /** The decoder's message limits (one object shared by connections configured alike). */
  readonly #limits: MessageLimits;
  /** The decoder's and the closing handshake's callbacks (see `#Port` and `#port`). */
  #portState: (DecoderHandler & ClosingPort) | null = null;
  /**
   * The closing handshake, created when closing begins (our close, the peer's Close, a
   * failure, the transport gone): until then it would only say OPEN and "no Close sent", and
   * an idle connection should not pay for an object that says so (see `#closing`).
   */
  #closingState: ClosingHandshake | null = null;
  readonly #maxPayload: number;
  readonly #fragmentSize: number;
  /** NO_MASK (server), MASK (client), or MASK_IN_BLOCKS (a client whose transport lets written blocks be reused). */
  readonly #mask: number;
  /** A client's own source of masking keys (ws's `generateMask`), filling `#maskKey` for each frame; null: random keys. */
  readonly #generateMask: ((mask: Buffer) => void) | null;
  readonly #maskKey: Buffer | null;
  readonly #codec: MessageCodec | null;
  readonly #compressThreshold: number;
  /**
   * The core's yes/no state (the `Bit` values), read and written through the accessors below:
   * one small integer rather than a field each, which every idle connection would carry.
   */
  #bits = 0;

  #messageState: MessageBuffer | null = null;
  /** Created with the first fragmented message: most connections never need one. */
  get #message(): MessageBuffer {
    return (this.#messageState ??= new MessageBuffer());
  }
  /** Answer pings (the `autoPong` option). */
  get #autoPong(): boolean {
    return (this.#bits & Bit.AutoPong) !== 0;
  }
  /** A compressed frame is being inflated: input is held back until it is done. */
  get #inflating(): boolean {
    return (this.#bits & Bit.Inflating) !== 0;
  }
  set #inflating(on: boolean) {
    this.#bits = on ? this.#bits | Bit.Inflating : this.#bits & ~Bit.Inflating;
  }
  /** The transport ended while input was held back behind an inflation; act on it once that input is processed. */
  get #eofPending(): boolean {
    return (this.#bits & Bit.EofPending) !== 0;
  }
  set #eofPending(on: boolean) {
    this.#bits = on ? this.#bits | Bit.EofPending : this.#bits & ~Bit.EofPending;
  }
  /**
   * Outgoing frames queued behind a compression in progress, to keep wire order. Starts as
   * the shared empty queue (never pushed to: see `#queue`), so a connection that never
   * compresses never allocates one.
   */
  #pending: Pending[] = NO_PENDING;
  /** Opcode of an outgoing message sent in pieces with `fin: false`, 0 when none is open. */
  #sendingOpcode = 0;
  #closeInfo: CloseInfo | null = null;
  /**
   * The closing handshake is over while sends accepted before it still wait for their
   * compression: they, then our Close (queued behind them), are written before CLOSED is reported.
   */
  #draining: CloseInfo | null = null;
  /** End the transport once drained: the handshake asked for it (a server's close, any failure). */
  get #endWhenDrained(): boolean {
    return (this.#bits & Bit.EndWhenDrained) !== 0;
  }
  set #endWhenDrained(on: boolean) {
    this.#bits = on ? this.#bits | Bit.EndWhenDrained : this.#bits & ~Bit.EndWhenDrained;
  }

  /**
   * The decoder's and the closing handshake's callbacks. They live on one small object per
   * connection rather than on Protocol, so no application can call them: a stray
   * `finished()` or `sendCloseFrame()` would corrupt the connection's state. Declared in
   * the class body so that it reaches the private members.
   */
  static readonly #Port = class ProtocolPort implements DecoderHandler, ClosingPort {
    constructor(readonly p: Protocol) {}

    onDataFrame(payload: Buffer, fin: boolean, opcode: number, compressed: boolean): void {
      if (compressed) this.p.#inflate(payload, fin, opcode);
      else this.p.#collect(payload, fin, opcode);
    }

    onControlFrame(opcode: number, payload: Buffer): void {
      this.p.#controlFrame(opcode, payload);
    }

    onDecodeError(error: ProtocolError): void {
      this.p.#closing.fail(error);
    }

    sendCloseFrame(code: number | undefined, reason: string): void {
      this.p.#sendCloseFrame(code, reason);
    }

    stopReading(): void {
      this.p.#stopReading();
    }

    finished(info: CloseInfo, transportOpen: boolean): void {
      this.p.#finished(info, transportOpen);
    }

    endTransport(): void {
      const p = this.p;
      if (p.#draining !== null) p.#endWhenDrained = true;
      else p.#handler.endTransport?.();
    }
  };

  /** A connection in the OPEN state: the handshake is done and `handler.write` can carry bytes. */
  constructor(options: ProtocolOptions, handler: ProtocolHandler) {
    this.role = options.role;
    this.#handler = handler;
    this.#maxPayload = options.maxPayload ?? DEFAULT_MAX_PAYLOAD;
    if (options.autoPong ?? true) this.#bits |= Bit.AutoPong;
    this.#fragmentSize = options.fragmentSize ?? 0;
    this.#mask = options.role !== 'client' ? NO_MASK : options.recycleWrites === true ? MASK_IN_BLOCKS : MASK;
    this.#generateMask = this.#mask ? (options.generateMask ?? null) : null;
    this.#maskKey = this.#generateMask === null ? null : Buffer.alloc(4);
    this.#codec = options.codec ?? null;
    this.#compressThreshold = options.compressThreshold ?? this.#codec?.threshold ?? DEFAULT_COMPRESS_THRESHOLD;
    this.#limits = decoderLimits(this.#maxPayload, options.maxFragments, options.validateUtf8);
  }

  /**
   * The port, made with the decoder or the closing handshake, its only users: a connection that
   * has received nothing and is not closing (a listening subscriber) holds none.
   */
  get #port(): DecoderHandler & ClosingPort {
    return (this.#portState ??= new Protocol.#Port(this));
  }

  /** The frame decoder, made on first use (the first bytes received, or a stop before any). */
  get #decoder(): FrameDecoder {
    return (this.#decoderState ??= new FrameDecoder(this.#port, { role: this.role, allowRsv1: this.#codec !== null, limits: this.#limits }));
  }

  /** The closing handshake, made on first use: everything that starts closing goes through here. */
  get #closing(): ClosingHandshake {
    return (this.#closingState ??= new ClosingHandshake(this.role, this.#port));
  }

  /** Queues an item behind a compression in progress (the first one gets the connection its own queue). */
  #queue(item: Pending): void {
    if (this.#pending === NO_PENDING) this.#pending = [item];
    else this.#pending.push(item);
  }

  /** `OPEN` (1), `CLOSING` (2) or `CLOSED` (3). */
  get readyState(): ReadyStateValue {
    return this.#draining !== null ? ReadyState.CLOSING : (this.#closingState?.state ?? ReadyState.OPEN);
  }

  /** How the connection closed, once it is CLOSED. */
  get closed(): CloseInfo | null {
    return this.#closeInfo;
  }

  /** Incoming bytes not yet processed (buffered while a message inflates). */
  get bufferedIncoming(): number {
    return this.#decoderState?.bufferedAmount ?? 0;
  }

  /** True while input is held back (a compressed message is being inflated): the adapter may pause reading. */
  get receivePaused(): boolean {
    return this.#inflating;
  }

  // ── Bytes in ────────────────────────────────────────────────────────────────

  /** Feed bytes received from the transport. Ignored once the connection is CLOSED. */
  receive(chunk: Buffer): void {
    this.#decoder.push(chunk);
    if ((this.#bits & Bit.ControlReceived) !== 0) this.#rest();
  }

  /**
   * After a Ping or Pong, lets go of the decoder (and the port) if nothing is in progress, as
   * if no bytes had come yet. A server's heartbeat gets a Pong from every idle connection each
   * round: without this, each one would keep a decoder, its chunk list and a masking key for
   * the rest of its life after the first round (≈ 0.3 KiB), which the laziness of `#decoder`
   * saves only until then. Only after control frames: a connection busy with messages keeps
   * its decoder rather than making one per read.
   */
  #rest(): void {
    this.#bits &= ~Bit.ControlReceived;
    const decoder = this.#decoderState;
    if (decoder === null || !decoder.atRest || this.#inflating || this.#closingState !== null) return;
    this.#decoderState = null;
    this.#portState = null;
  }

  /** The transport reached end of stream or broke. */
  receiveEof(): void {
    // Bytes held back while a message inflates arrived before the EOF (they may hold the
    // peer's Close): they are processed first, or a clean close would be reported as 1006.
    if (this.#inflating) {
      this.#eofPending = true;
      return;
    }
    this.#transportGone();
  }

  // ── Commands in ─────────────────────────────────────────────────────────────

  /**
   * Sends a message. Returns false (and writes nothing) when the connection is no longer
   * OPEN, i.e. once closing began. A message accepted here reaches the wire before our Close
   * frame, even when it is still being compressed as closing begins. Text may be given as a
   * string or as UTF-8 bytes.
   * `byteLength`, when the caller already measured a string `data`, saves a second scan of it.
   */
  send(data: string | Buffer, isBinary: boolean, options?: SendOptions, cb?: WriteCallback, byteLength?: number): boolean {
    if (!this.#canWrite) return false;
    const fin = options?.fin ?? true;
    const continuing = this.#sendingOpcode !== 0;
    const opcode = continuing ? Opcode.Continuation : isBinary ? Opcode.Binary : Opcode.Text;
    this.#sendingOpcode = fin ? 0 : continuing ? this.#sendingOpcode : opcode;

    const compress =
      this.#codec !== null && fin && !continuing && options?.compress !== false && this.#atThreshold(data, byteLength);
    if (compress) {
      this.#sendCompressed(typeof data === 'string' ? Buffer.from(data, 'utf8') : data, opcode, cb);
      return true;
    }
    let frames: Buffer[];
    // Short strings are encoded straight into the frame buffer; long ones are encoded once
    // and handed to the socket as the payload buffer (one pass over the text instead of two).
    if (typeof data === 'string' && data.length <= 16384 && (this.#fragmentSize === 0 || data.length * 3 <= this.#fragmentSize)) {
      frames = [encodeTextFrame(data, { fin, mask: this.#frameMask() }, opcode, byteLength)];
    } else {
      const payload = typeof data === 'string' ? Buffer.from(data, 'utf8') : data;
      if (this.#mask === MASK_IN_BLOCKS && payload.length >= BLOCK_SIZE && this.#fragmentSize === 0) {
        this.#sendInBlocks(opcode, payload, fin, cb);
        return true;
      }
      frames = encodeFragments(opcode, payload, this.#fragmentSize, { fin, mask: this.#frameMask() });
    }
    this.#output(frames, cb);
    return true;
  }

  /**
   * Writes frames encoded elsewhere (a message framed once for many connections). They must
   * suit this connection: masked for a client, unmasked for a server, RSV1 only with a codec.
   * Returns false when closing began or a fragmented message is open (nothing is written).
   */
  sendFrames(frames: readonly Buffer[], cb?: WriteCallback): boolean {
    if (!this.#canWrite || this.#sendingOpcode !== 0) return false;
    this.#output(frames as Buffer[], cb);
    return true;
  }

  /**
   * Frames may still be written: no Close frame was sent and the transport has not ended
   * (an end held back behind an inflating message counts as ended for writing).
   */
  get #canWrite(): boolean {
    const closing = this.#closingState;
    return (closing === null || !closing.closeSent) && !this.#eofPending;
  }

  /** Frames may still be written: no Close frame was sent and the transport has not ended. */
  get writable(): boolean {
    return this.#canWrite;
  }

  /** A message sent with `fin: false` is still open: only its continuation may follow. */
  get midMessage(): boolean {
    return this.#sendingOpcode !== 0;
  }

  /** Whether a compression extension is in use (outgoing frames are per-connection then). */
  get compressing(): boolean {
    return this.#codec !== null;
  }

  /** Whether sent messages still wait for their compression (frames sent since queue behind them). `onSendsFlushed` tells when none does. */
  get sendsQueued(): boolean {
    return this.#pending.length > 0;
  }

  /**
   * The codec's shared compressor (set when its output depends on nothing but the message), or
   * null: messages fanned out to many connections may then be compressed once for all of them.
   */
  get sharedCompressor(): SharedCompressor | null {
    return this.#codec?.shared ?? null;
  }

  /** Outgoing messages smaller than this many bytes are sent uncompressed. */
  get compressThreshold(): number {
    return this.#compressThreshold;
  }

  /**
   * Sends a message whose frames are made elsewhere and arrive later (compressed once for many
   * connections): it takes its place in the send order now, as a message being compressed
   * does, and whatever is sent after it waits for it. Returns the function that hands its
   * frames over — or the error that kept them from being made, which fails the connection
   * with 1011 as a failed compression of its own does — or null when closing began or a
   * fragmented message is open (nothing is queued). The frames must suit this connection.
   */
  sendDeferred(cb?: WriteCallback): ((err: Error | null, frames?: readonly Buffer[]) => void) | null {
    if (!this.#canWrite || this.#sendingOpcode !== 0) return null;
    const item: Pending = { frames: null, cb };
    this.#queue(item);
    return (err, frames) => {
      // Nothing to do once the connection is over or the item was dropped with the rest.
      if (this.#closeInfo !== null || !this.#pending.includes(item)) return;
      if (err !== null || frames === undefined) this.#compressionFailed(err ?? new Error('no output'));
      else {
        item.frames = frames as Buffer[];
        this.#flushPending();
      }
    };
  }

  /** Sends a Ping (payload at most 125 bytes, else RangeError); false once a Close frame was sent. */
  ping(payload: Buffer = EMPTY): boolean {
    return this.#sendControl(Opcode.Ping, payload);
  }

  /** Sends an unsolicited Pong (payload at most 125 bytes, else RangeError); false once a Close frame was sent. */
  pong(payload: Buffer = EMPTY): boolean {
    return this.#sendControl(Opcode.Pong, payload);
  }

  /**
   * Starts the closing handshake. `code` must be valid on the wire (1000–1003, 1007–1014,
   * 3000–4999) and `reason` at most 123 UTF-8 bytes. Returns false if closing already began.
   */
  close(code?: number, reason = ''): boolean {
    if (code !== undefined && !(Number.isInteger(code) && isValidWireCloseCode(code))) throw new RangeError(`invalid close code ${code}`);
    if (code === undefined && reason !== '') throw new TypeError('a close reason needs a close code');
    if (Buffer.byteLength(reason) > 123) throw new RangeError('close reason longer than 123 bytes');
    if (this.#eofPending) return false;
    return this.#closing.start(code, reason);
  }

  /**
   * Fails the connection for a local reason (e.g. a policy violation), with `code` in the Close
   * frame and `reason` cut to 123 UTF-8 bytes on a character boundary.
   */
  fail(code: number, reason: string): void {
    if (!(Number.isInteger(code) && isValidWireCloseCode(code))) throw new RangeError(`invalid close code ${code}`);
    // Cut by UTF-8 bytes on a character boundary: slicing UTF-16 units could exceed 123 bytes.
    const text = cutCloseReason(reason);
    this.#closing.fail(new ProtocolError(code, text), text);
  }

  /** Drops the connection without a closing handshake (terminate); reported as 1006. */
  abort(): void {
    this.#transportGone();
  }

  // ── Decoder events (called through the port) ────────────────────────────────

  #controlFrame(opcode: number, payload: Buffer): void {
    if (opcode !== Opcode.Close) this.#bits |= Bit.ControlReceived;
    if (opcode === Opcode.Ping) {
      if (this.#autoPong && this.#canWrite) this.#output(encodeFrame(Opcode.Pong, payload, { mask: this.#frameMask() }), undefined);
      this.#handler.onPing?.(payload);
    } else if (opcode === Opcode.Pong) {
      this.#handler.onPong?.(payload);
    } else {
      const parsed = parseClosePayload(payload);
      if (parsed instanceof ProtocolError) {
        this.#closing.fail(parsed);
        return;
      }
      this.#handler.onCloseFrame?.(parsed.code, parsed.reason);
      this.#closing.received(parsed.code, parsed.reason);
    }
  }

  // ── Closing handshake requests (called through the port) ─────────────────────

  #sendCloseFrame(code: number | undefined, reason: string): void {
    const frames = encodeFrame(Opcode.Close, encodeClosePayload(code, reason), { mask: this.#frameMask() });
    if (this.#pending.length > 0) this.#queue({ frames, cb: undefined, close: true });
    else this.#writeFrames(frames, undefined);
  }

  #stopReading(): void {
    this.#decoder.stop();
    this.#messageState?.clear();
  }

  #finished(info: CloseInfo, transportOpen: boolean): void {
    // A send accepted while OPEN reaches the wire before our Close, which is queued behind it
    // (ws does the same): while a compression is still running, CLOSED waits for it.
    if (transportOpen && this.#pending.length > 0) {
      this.#draining = info;
      return;
    }
    this.#complete(info);
  }

  /** The transport ended or broke: nothing more can be written, whatever was waiting. */
  #transportGone(): void {
    if (this.#draining !== null) this.#settleDrain(false);
    else this.#closing.transportClosed();
  }

  /** Draining is over: the queue was written (`transportOpen`), or it never will be. */
  #settleDrain(transportOpen: boolean): void {
    const end = this.#endWhenDrained && transportOpen;
    const info = this.#draining!;
    // Our Close still waited behind a compression when the transport went: it never left, so
    // the handshake did not complete (§7.1.4), whatever the peer's Close said.
    const closeUnsent = !transportOpen && this.#pending.some((p) => p.close);
    this.#complete(closeUnsent && info.wasClean ? { ...info, wasClean: false } : info);
    if (end) this.#handler.endTransport?.();
  }

  /** Reports CLOSED. */
  #complete(info: CloseInfo): void {
    this.#draining = null;
    this.#closeInfo = info;
    this.#codec?.close();
    // Only a transport that is gone leaves sends here (compressions still running are
    // abandoned): their callbacks learn so now, not never.
    for (const p of this.#pending.splice(0)) if (!p.close) p.cb?.(new Error('The socket was closed while data was being compressed'));
    this.#handler.onClose?.(info);
  }

  // ── Internals ───────────────────────────────────────────────────────────────

  #collect(payload: Buffer, fin: boolean, opcode: number): void {
    if (fin && (this.#messageState === null || this.#messageState.empty)) {
      this.#handler.onMessage?.(payload, opcode === Opcode.Binary);
      return;
    }
    this.#message.append(payload);
    if (fin) this.#handler.onMessage?.(this.#message.take(), opcode === Opcode.Binary);
  }

  #inflate(payload: Buffer, fin: boolean, opcode: number): void {
    const codec = this.#codec!;
    let sync = true;
    this.#inflating = true;
    const inflated = (err: (Error & { closeCode?: number }) | null, out?: Buffer): void => {
      this.#inflating = false;
      if (this.#closingState?.state === ReadyState.CLOSED) return;
      if (err) {
        this.#closing.fail(codecFailure(err, CloseCode.ProtocolError));
        return;
      }
      const data = out ?? EMPTY;
      // The message's rules check its inflated text: fail-fast, at the first bad frame.
      const bad = this.#decoder.message.inflated(data, fin);
      if (bad !== null) {
        this.#closing.fail(bad);
        return;
      }
      this.#collect(data, fin, opcode);
      if (!sync) this.#decoder.resume();
      if (this.#eofPending && !this.#inflating) this.#transportGone();
    };
    codec.decompress(payload, fin, this.#maxPayload, (err, out) => {
      inflated(err, out);
      // The input held back meanwhile is processed (or dropped): a transport paused because
      // of it may be read again.
      if (!sync && !this.#inflating) this.#handler.onReceiveResumed?.();
    });
    sync = false;
    if (this.#inflating) this.#decoder.pause();
  }

  #sendCompressed(data: Buffer, opcode: number, cb: WriteCallback | undefined): void {
    const item: Pending = { frames: null, cb };
    this.#queue(item);
    this.#codec!.compress(data, (err, out) => {
      if (this.#closeInfo !== null) return;
      if (err || !out) {
        this.#compressionFailed(err ?? new Error('no output'));
        return;
      }
      item.frames = this.#fragmentSize > 0
        ? encodeFragments(opcode, out, this.#fragmentSize, { rsv1: true, mask: this.#frameMask() })
        : encodeFrame(opcode, out, { rsv1: true, mask: this.#frameMask() });
      this.#flushPending();
    });
  }

  /**
   * A large client message masked into pooled blocks rather than a fresh buffer: the blocks go
   * back to the pool once the transport reports the whole frame written (its last piece
   * carries the callback; callbacks come in write order). A failed or abandoned write keeps
   * them: the transport may not be done with them, so they are left to the GC.
   */
  #sendInBlocks(opcode: number, payload: Buffer, fin: boolean, cb: WriteCallback | undefined): void {
    const blocks: Buffer[] = [];
    const frames = encodeMaskedBlocks(opcode, payload, fin, this.#frameMask() as true | Uint8Array, blocks);
    this.#output(frames, (err) => {
      if (err == null) giveBlocks(blocks);
      cb?.(err);
    });
  }

  /** Whether a message is large enough to compress: its size in bytes (as ws counts it), text as UTF-8. */
  #atThreshold(data: string | Buffer, byteLength: number | undefined): boolean {
    const threshold = this.#compressThreshold;
    if (data.length >= threshold || typeof data !== 'string') return data.length >= threshold;
    // A string has at least as many UTF-8 bytes as UTF-16 units and at most three times as many.
    return data.length * 3 >= threshold && (byteLength ?? Buffer.byteLength(data)) >= threshold;
  }

  /** A message could not be compressed: the connection fails with 1011. */
  #compressionFailed(cause: Error): void {
    const error = new ProtocolError(CloseCode.InternalError, `compression failed: ${cause.message}`, ErrorCode.ExtensionFailed, { cause });
    // Nothing queued can reach the wire in order any more; our Close, if queued, still does.
    for (const p of this.#pending.splice(0)) {
      if (p.close) this.#writeFrames(p.frames!, undefined);
      else p.cb?.(error);
    }
    // Closing had already ended and only waited for this; otherwise this fails it (1011).
    if (this.#draining !== null) this.#settleDrain(true);
    else this.#closing.fail(error);
  }

  #sendControl(opcode: number, payload: Buffer): boolean {
    if (payload.length > 125) throw new RangeError('control frame payload must be at most 125 bytes');
    if (!this.#canWrite) return false;
    this.#output(encodeFrame(opcode, payload, { mask: this.#frameMask() }), undefined);
    return true;
  }

  /**
   * The `mask` encoder option for the next frame: a client's fresh random key (the encoder
   * draws it), or the key the application's `generateMask` fills in, frame by frame.
   */
  #frameMask(): boolean | Uint8Array {
    const generate = this.#generateMask;
    if (generate === null) return this.#mask !== NO_MASK;
    generate(this.#maskKey!);
    return this.#maskKey!;
  }

  /** Writes frames now, or queues them behind a message still being compressed. */
  #output(frames: Buffer[], cb: WriteCallback | undefined): void {
    if (this.#pending.length > 0) {
      this.#queue({ frames, cb });
      return;
    }
    this.#writeFrames(frames, cb);
  }

  #flushPending(): void {
    while (this.#pending.length > 0 && this.#pending[0]!.frames !== null) {
      const item = this.#pending.shift()!;
      this.#writeFrames(item.frames!, item.cb);
    }
    if (this.#pending.length > 0) return;
    if (this.#draining !== null) this.#settleDrain(true);
    else this.#handler.onSendsFlushed?.();
  }

  #writeFrames(frames: Buffer[], cb: WriteCallback | undefined): void {
    const last = frames.length - 1;
    for (let i = 0; i < last; i++) this.#handler.write(frames[i]!);
    if (cb) this.#handler.write(frames[last]!, cb);
    else this.#handler.write(frames[last]!);
  }
}

const EMPTY = Buffer.alloc(0);
/** The bits of `Protocol.#bits`. */
const enum Bit {
  AutoPong = 1,
  Inflating = 2,
  EofPending = 4,
  EndWhenDrained = 8,
  /** A Ping or Pong was decoded during this `receive` (see `#rest`). */
  ControlReceived = 16,
}
const NO_MASK = 0;
const MASK = 1;
const MASK_IN_BLOCKS = 2;
/** The queue of every connection with nothing waiting for a compression; never pushed to (`#queue`). */
const NO_PENDING: Pending[] = [];

/**
 * A codec's decompression error as the connection fails with it: a ProtocolError passes
 * through (it already carries ws's class and code); another error keeps its `closeCode`
 * (else `closeCode`) and string `code`, and becomes the cause.
 */
function codecFailure(err: Error & { closeCode?: number; code?: unknown }, closeCode: number): ProtocolError {
  if (err instanceof ProtocolError) return err;
  const code = typeof err.code === 'string' ? err.code : ErrorCode.ExtensionFailed;
  return new ProtocolError(err.closeCode ?? closeCode, err.message, code, { cause: err });
}
