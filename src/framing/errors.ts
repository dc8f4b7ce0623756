/**
 * A violation of the WebSocket protocol by the peer (or an exceeded local limit). It carries
 * the close code the connection must be failed with, so every layer above can act on it
 * without knowing which rule was broken.
 */
export class ProtocolError extends Error {
  readonly closeCode: number;

  constructor(closeCode: number, message: string) {
    super(message);
    this.name = 'ProtocolError';
    this.closeCode = closeCode;
  }
}
