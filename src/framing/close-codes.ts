/**
 * Close status codes (RFC 6455 §7.4). 1005, 1006 and 1015 are reporting-only: they
 * describe a closure to the application and must never appear in a Close frame.
 */
export const CloseCode = {
  /** 1000: the purpose of the connection is fulfilled. */
  Normal: 1000,
  /** 1001: an endpoint is going away (server shutdown, page navigation). */
  GoingAway: 1001,
  /** 1002: the peer broke the WebSocket protocol. */
  ProtocolError: 1002,
  /** 1003: a data type the endpoint cannot accept (e.g. binary for a text-only service). */
  UnsupportedData: 1003,
  /** 1005: reporting only — the peer's Close frame carried no code. */
  NoStatus: 1005,
  /** 1006: reporting only — the connection dropped without a closing handshake. */
  Abnormal: 1006,
  /** 1007: message data inconsistent with its type (text that is not UTF-8). */
  InvalidPayload: 1007,
  /** 1008: a message violated the endpoint's policy (generic refusal). */
  PolicyViolation: 1008,
  /** 1009: a message too big to process. */
  MessageTooBig: 1009,
  /** 1010: the client needed an extension the server did not negotiate. */
  MandatoryExtension: 1010,
  /** 1011: the server hit an unexpected condition. */
  InternalError: 1011,
  /** 1012: the service is restarting. */
  ServiceRestart: 1012,
  /** 1013: temporary overload; try again later. */
  TryAgainLater: 1013,
  /** 1014: a gateway or proxy got an invalid response upstream. */
  BadGateway: 1014,
  /** 1015: reporting only — the TLS handshake failed. */
  TlsHandshake: 1015,
} as const;

/**
 * Whether `code` may be carried in a Close frame. The IANA registry assigns 1000–1003 and
 * 1007–1014; 3000–3999 are registered for libraries and 4000–4999 are private use. Anything
 * else (0–999, 1004–1006, 1015, 1016–2999, ≥ 5000) is a protocol error when received.
 */
export function isValidWireCloseCode(code: number): boolean {
  return (
    (code >= 1000 && code <= 1003) ||
    (code >= 1007 && code <= 1014) ||
    (code >= 3000 && code <= 4999)
  );
}
