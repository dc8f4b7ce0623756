/**
 * Close status codes (RFC 6455 §7.4). 1005, 1006 and 1015 are reporting-only: they
 * describe a closure to the application and must never appear in a Close frame.
 */
export const CloseCode = {
  Normal: 1000,
  GoingAway: 1001,
  ProtocolError: 1002,
  UnsupportedData: 1003,
  NoStatus: 1005,
  Abnormal: 1006,
  InvalidPayload: 1007,
  PolicyViolation: 1008,
  MessageTooBig: 1009,
  MandatoryExtension: 1010,
  InternalError: 1011,
  ServiceRestart: 1012,
  TryAgainLater: 1013,
  BadGateway: 1014,
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
