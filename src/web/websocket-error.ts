import { validateCloseCodeAndReason } from './url.js';
import { exposeInterface, toDictionary, toDOMString, toEnforcedUnsignedShort, toUSVString } from './webidl.js';

/** `WebSocketCloseInfo`: a close code and reason, for `WebSocketStream#close` and `WebSocketError`. */
export interface WebSocketCloseInfo {
  /** 1000 or 3000–4999. Absent: no code (or 1000 when there is a reason). */
  closeCode?: number;
  /** At most 123 bytes of UTF-8. Default ''. */
  reason?: string;
}

/** Converts a `WebSocketCloseInfo` dictionary (members in WebIDL order: closeCode, reason). */
export function toCloseInfo(value: unknown, what: string): { closeCode: number | null; reason: string } {
  const dict = toDictionary(value, what);
  if (dict === null) return { closeCode: null, reason: '' };
  const rawCode = dict['closeCode'];
  const closeCode = rawCode === undefined ? null : toEnforcedUnsignedShort(rawCode);
  const rawReason = dict['reason'];
  const reason = rawReason === undefined ? '' : toUSVString(rawReason);
  return { closeCode, reason };
}

/** Makes a WebSocketError without validation (1006 for a lost connection is not a code a script may use). */
export let createWebSocketError: (message: string, closeCode: number | null, reason: string) => WebSocketError;
/** Whether `value` is a WebSocketError (its brand, not its prototype chain). */
export let isWebSocketError: (value: unknown) => value is WebSocketError;

/**
 * The error a WebSocketStream rejects and errors its streams with (WebSockets Standard,
 * WebSocketStream draft): a DOMException named "WebSocketError" carrying the close code and
 * reason. Scripts make their own to close with a code by aborting or cancelling a stream.
 */
export class WebSocketError extends DOMException {
  #closeCode: number | null;
  #reason: string;

  static {
    createWebSocketError = (message, closeCode, reason) => {
      const error = new WebSocketError(message);
      error.#closeCode = closeCode;
      error.#reason = reason;
      return error;
    };
    isWebSocketError = (value): value is WebSocketError =>
      typeof value === 'object' && value !== null && #closeCode in value;
  }

  /**
   * Creates the error; `init.closeCode` must be 1000 or 3000–4999 ("InvalidAccessError"),
   * `init.reason` at most 123 UTF-8 bytes ("SyntaxError"). A reason without a code means 1000.
   */
  constructor(message: string = '', init: WebSocketCloseInfo | null | undefined = undefined) {
    const text = toDOMString(message);
    const { closeCode, reason } = toCloseInfo(init, "Failed to construct 'WebSocketError': init");
    validateCloseCodeAndReason(closeCode, reason);
    super(text, 'WebSocketError');
    this.#closeCode = closeCode === null && reason !== '' ? 1000 : closeCode;
    this.#reason = reason;
  }

  /** The close code, or null when there is none. */
  get closeCode(): number | null {
    return this.#closeCode;
  }

  /** The close reason ('' when there is none). */
  get reason(): string {
    return this.#reason;
  }
}

exposeInterface(WebSocketError, { name: 'WebSocketError', members: ['closeCode', 'reason'] });
