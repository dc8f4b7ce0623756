import type { IncomingMessage } from 'node:http';
import type { Duplex } from 'node:stream';
import type { ParsedRequest } from '../handshake/index.js';

/**
 * The request handed to hooks and to `'connection'`: Node's IncomingMessage when the
 * upgrade came through an http server, else our parsed head with the same fields ws users
 * read (`url`, `headers`, `method`, `socket`).
 */
export type UpgradeRequest =
  | IncomingMessage
  | (ParsedRequest & {
      /** The connection the request arrived on. */
      socket: Duplex;
    });

export function isIncomingMessage(req: unknown): req is IncomingMessage {
  return typeof req === 'object' && req !== null && 'rawHeaders' in req && typeof (req as IncomingMessage).on === 'function';
}
