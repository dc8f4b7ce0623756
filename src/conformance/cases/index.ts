import type { ServerCase } from '../context.js';
import { closingCases } from './closing.js';
import { deflateCases } from './deflate.js';
import { fragmentationCases } from './fragmentation.js';
import { framingCases } from './framing.js';
import { handshakeCases } from './handshake.js';
import { autoFragmentCases, limitCases } from './limits.js';
import { pingCases } from './pings.js';
import { opcodeCases, reservedBitCases } from './reserved.js';
import { utf8Cases } from './utf8.js';
import { compareIds } from '../select.js';

/** The full server-mode catalogue, in report order. */
export function serverCatalogue(): ServerCase[] {
  return [
    ...handshakeCases,
    ...framingCases,
    ...pingCases,
    ...reservedBitCases,
    ...opcodeCases,
    ...fragmentationCases,
    ...utf8Cases,
    ...closingCases,
    ...limitCases,
    ...autoFragmentCases,
    ...deflateCases,
  ].sort((a, b) => compareIds(a.id, b.id));
}
