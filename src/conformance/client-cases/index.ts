import type { ClientCase } from '../client-context.js';
import { compareIds } from '../select.js';
import { clientDeflateCases } from './deflate.js';
import { clientFrameCases } from './frames.js';
import { clientHandshakeCases } from './handshake.js';
import { clientUtf8CloseCases } from './utf8-close.js';

/** The client-mode catalogue: what a conforming client must do when the server misbehaves. */
export function clientCatalogue(): ClientCase[] {
  return [...clientHandshakeCases, ...clientFrameCases, ...clientUtf8CloseCases, ...clientDeflateCases].sort((a, b) => compareIds(a.id, b.id));
}
