import { Opcode } from './opcodes.js';
import { Utf8Validator } from './utf8.js';
import {
  invalidOpcode,
  invalidUtf8,
  messageTooBig,
  tooManyFragments,
  unexpectedRsv1,
} from './violations.js';
import type { ProtocolError } from './errors.js';

/** Limits a {@link MessageState} enforces. */
export interface MessageLimits {
  /** Largest message in bytes (inflated size for compressed ones); 0 means unlimited. */
  maxPayload: number;
  /** Most frames one message may be split into. */
  maxFragments: number;
  /** Validate text as UTF-8 (1007 at the first bad fragment). */
  validateUtf8: boolean;
}

/**
 * The rules of the incoming data message in progress, in one place (RFC 6455 §5.4, §5.6,
 * §8.1; RFC 7692 §6): which message is open and with which opcode, the order of its frames,
 * its size against `maxPayload` and its fragment count, and the streaming UTF-8 check of its
 * text, on the wire for an uncompressed message and after inflation for a compressed one.
 *
 * Each check returns null or the violation (from violations.ts) for the caller to fail the
 * connection with; this object holds no I/O and never throws. The frame decoder drives the
 * wire side; the protocol core feeds a compressed message's inflated bytes to
 * {@link inflated} in order. The two never interleave: the decoder is paused while a frame
 * inflates, so the next message cannot open before the last one's text was checked.
 */
export class MessageState {
  /** Opcode of the open data message (Text or Binary), 0 between messages. */
  opcode = 0;
  /** Whether the open message is compressed (its first frame had RSV1). */
  compressed = false;
  /** Whether the open message's wire bytes are text to check as they arrive. */
  validatingWire = false;
  /** Whether the current (or last) message's inflated bytes are text to check. */
  private validatingInflated = false;
  /** Wire bytes of the open message so far, across its frames. */
  private length = 0;
  private fragments = 0;
  private readonly maxPayload: number;
  private readonly maxFragments: number;
  private readonly validateUtf8: boolean;
  private utf8State: Utf8Validator | null = null;

  constructor(limits: MessageLimits) {
    this.maxPayload = limits.maxPayload;
    this.maxFragments = limits.maxFragments;
    this.validateUtf8 = limits.validateUtf8;
  }

  /** Created with the first text message: idle and binary-only connections do without. */
  private get utf8(): Utf8Validator {
    return (this.utf8State ??= new Utf8Validator());
  }

  /** Whether a data message is open (a frame without FIN was seen). */
  get open(): boolean {
    return this.opcode !== 0;
  }

  /**
   * Frame order (§5.4) for a data frame's header: a continuation needs an open message and
   * may not set RSV1 (RFC 7692 §6.1); Text or Binary may not start inside an open message.
   * Called at the point of ws's check order, so a frame breaking several rules gets ws's code.
   */
  checkOrder(opcode: number, rsv1: boolean): ProtocolError | null {
    if (opcode === Opcode.Continuation) {
      if (rsv1) return unexpectedRsv1();
      if (this.opcode === 0) return invalidOpcode(0);
    } else if (this.opcode !== 0) {
      return invalidOpcode(opcode);
    }
    return null;
  }

  /**
   * Counts a data frame of `length` payload bytes into the message, opening the message on
   * its first frame; fails as soon as the header shows a limit is broken, before any of the
   * payload is buffered.
   */
  addFrame(opcode: number, compressed: boolean, length: number): ProtocolError | null {
    if (opcode !== Opcode.Continuation) {
      const text = this.validateUtf8 && opcode === Opcode.Text;
      this.opcode = opcode;
      this.compressed = compressed;
      this.length = 0;
      this.fragments = 0;
      this.validatingWire = text && !compressed;
      this.validatingInflated = text && compressed;
      if (text) this.utf8.reset();
    }
    this.length += length;
    this.fragments++;
    if (this.maxPayload > 0 && this.length > this.wireLimit()) return messageTooBig();
    if (this.fragments > this.maxFragments) return tooManyFragments();
    return null;
  }

  /**
   * A compressed message is limited by its inflated size (checked while it inflates); on the
   * wire it may be slightly larger than maxPayload when its content is incompressible.
   */
  private wireLimit(): number {
    return this.compressed ? this.maxPayload + (this.maxPayload >>> 8) + 1024 : this.maxPayload;
  }

  /** The next wire bytes of uncompressed text (only while {@link validatingWire}). */
  text(bytes: Uint8Array): ProtocolError | null {
    return this.utf8.write(bytes) ? null : invalidUtf8();
  }

  /** The frame with FIN has been read: the message is over on the wire. */
  end(): ProtocolError | null {
    if (this.validatingWire && !this.utf8.complete) return invalidUtf8();
    this.opcode = 0;
    this.validatingWire = false;
    return null;
  }

  /**
   * The inflated bytes of one frame of the compressed message, in order; `fin` for its last.
   * Text fails at the first frame whose output is not UTF-8, and at the end if the message
   * stops inside a character.
   */
  inflated(bytes: Uint8Array, fin: boolean): ProtocolError | null {
    if (!this.validatingInflated) return null;
    if (!this.utf8.write(bytes)) return invalidUtf8();
    if (fin && !this.utf8.complete) return invalidUtf8();
    return null;
  }

  /** Forgets the open message (the connection failed or closed). */
  reset(): void {
    this.opcode = 0;
    this.validatingWire = false;
    this.validatingInflated = false;
  }
}
