/**
 * A violation of the WebSocket protocol by the peer (or an exceeded local limit). It carries
 * the close code the connection must be failed with, so every layer above can act on it
 * without knowing which rule was broken.
 */
export class ProtocolError extends Error {
  /** The close code to fail the connection with: 1002, 1007, 1009, … */
  readonly closeCode: number;

  /** Creates a protocol error that fails the connection with `closeCode`. */
  constructor(closeCode: number, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
  }
}
