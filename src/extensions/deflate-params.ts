import {
  MAX_WINDOW_BITS,
  validateDeflateOptions,
  type PerMessageDeflateOptions,
} from './deflate-options.js';
import type { ExtensionOffer } from './types.js';

export const PERMESSAGE_DEFLATE = 'permessage-deflate';

/**
 * What both sides agreed on, from one side's point of view. Window bits are the largest
 * window the named side may compress with; its peer inflates with the same value.
 */
export interface DeflateAgreement {
  /** The server resets its compression context after every message. */
  serverNoContextTakeover: boolean;
  /** The client resets its compression context after every message. */
  clientNoContextTakeover: boolean;
  /** The server's LZ77 window, 8–15 bits (15 when the handshake named none). */
  serverMaxWindowBits: number;
  /** The client's LZ77 window, 8–15 bits (15 when the handshake named none). */
  clientMaxWindowBits: number;
}

export interface ServerAcceptance {
  /** The extension to put in the response (formatted by the handshake layer). */
  response: ExtensionOffer;
  agreed: DeflateAgreement;
}

/** The four RFC 7692 parameters of one offer or response, each seen at most once. */
interface ParsedParams {
  serverNoContextTakeover: boolean;
  clientNoContextTakeover: boolean;
  serverMaxWindowBits: number | undefined;
  /** `true`: present without a value (only legal in an offer). */
  clientMaxWindowBits: number | true | undefined;
}

/** RFC 7692 §7.1.2.1: a decimal integer 8–15 without leading zeros. */
const WINDOW_BITS_VALUE = /^(?:[89]|1[0-5])$/;

function parseWindowBits(name: string, value: string | true, valueRequired: boolean): number | true {
  if (value === true) {
    if (valueRequired) throw new Error(`permessage-deflate: ${name} requires a value`);
    return true;
  }
  if (!WINDOW_BITS_VALUE.test(value)) {
    throw new Error(`permessage-deflate: invalid ${name} value ${JSON.stringify(value)} (must be 8-15)`);
  }
  return Number(value);
}

/**
 * Reads one offer's or response's parameters, throwing on anything RFC 7692 §7.1 does not
 * allow: unknown names, repeated names, values where none belong, or bad window sizes.
 */
function parseParams(params: ExtensionOffer['params'], isResponse: boolean): ParsedParams {
  const parsed: ParsedParams = {
    serverNoContextTakeover: false,
    clientNoContextTakeover: false,
    serverMaxWindowBits: undefined,
    clientMaxWindowBits: undefined,
  };
  const seen = new Set<string>();
  for (const [name, value] of params) {
    if (seen.has(name)) throw new Error(`permessage-deflate: duplicate parameter ${name}`);
    seen.add(name);
    switch (name) {
      case 'server_no_context_takeover':
      case 'client_no_context_takeover':
        if (value !== true) throw new Error(`permessage-deflate: ${name} must not have a value`);
        if (name === 'server_no_context_takeover') parsed.serverNoContextTakeover = true;
        else parsed.clientNoContextTakeover = true;
        break;
      case 'server_max_window_bits':
        parsed.serverMaxWindowBits = parseWindowBits(name, value, true) as number;
        break;
      case 'client_max_window_bits':
        // §7.1.2.2: only the client's offer may omit the value; a response must give one.
        parsed.clientMaxWindowBits = parseWindowBits(name, value, isResponse);
        break;
      default:
        throw new Error(`permessage-deflate: unknown parameter ${JSON.stringify(name)}`);
    }
  }
  return parsed;
}

/** Builds the client's single offer from its options. */
export function clientOffer(options: PerMessageDeflateOptions = {}): ExtensionOffer {
  validateDeflateOptions(options);
  const params: ExtensionOffer['params'] = [];
  if (options.serverNoContextTakeover === true) params.push(['server_no_context_takeover', true]);
  if (options.clientNoContextTakeover === true) params.push(['client_no_context_takeover', true]);
  if (typeof options.serverMaxWindowBits === 'number') {
    params.push(['server_max_window_bits', String(options.serverMaxWindowBits)]);
  }
  if (typeof options.clientMaxWindowBits === 'number') {
    params.push(['client_max_window_bits', String(options.clientMaxWindowBits)]);
  } else if (options.clientMaxWindowBits !== false) {
    // Offering it without a value costs nothing and lets a memory-conscious server shrink our window.
    params.push(['client_max_window_bits', true]);
  }
  return { name: PERMESSAGE_DEFLATE, params };
}

/**
 * Checks the server's permessage-deflate response against the offer `clientOffer(options)`
 * produced and returns the agreement. Throws an Error describing the violation when the
 * response is not a valid acceptance of that offer; the client must then fail the connection.
 */
export function clientAccept(
  response: ExtensionOffer,
  options: PerMessageDeflateOptions = {},
): DeflateAgreement {
  validateDeflateOptions(options);
  if (response.name !== PERMESSAGE_DEFLATE) {
    throw new Error(`permessage-deflate: response names extension ${JSON.stringify(response.name)}`);
  }
  const p = parseParams(response.params, true);

  // §7.1.1.1 / §7.1.2.1: a server accepts an offer carrying these only by echoing them.
  if (options.serverNoContextTakeover === true && !p.serverNoContextTakeover) {
    throw new Error('permessage-deflate: server ignored the offered server_no_context_takeover');
  }
  let serverMaxWindowBits = MAX_WINDOW_BITS;
  if (typeof options.serverMaxWindowBits === 'number') {
    if (p.serverMaxWindowBits === undefined) {
      throw new Error('permessage-deflate: server ignored the offered server_max_window_bits');
    }
    if (p.serverMaxWindowBits > options.serverMaxWindowBits) {
      throw new Error(
        `permessage-deflate: server_max_window_bits=${p.serverMaxWindowBits} exceeds the offered ${options.serverMaxWindowBits}`,
      );
    }
  }
  if (p.serverMaxWindowBits !== undefined) serverMaxWindowBits = p.serverMaxWindowBits;

  let clientMaxWindowBits =
    typeof options.clientMaxWindowBits === 'number' ? options.clientMaxWindowBits : MAX_WINDOW_BITS;
  if (p.clientMaxWindowBits !== undefined) {
    // §7.1.2.2: the server may only send it if the offer had it.
    if (options.clientMaxWindowBits === false) {
      throw new Error('permessage-deflate: server sent client_max_window_bits which was not offered');
    }
    const bits = p.clientMaxWindowBits as number; // a response always has a value (parseParams)
    if (bits > clientMaxWindowBits) {
      throw new Error(
        `permessage-deflate: client_max_window_bits=${bits} exceeds the offered ${clientMaxWindowBits}`,
      );
    }
    clientMaxWindowBits = bits;
  }

  return {
    serverNoContextTakeover: p.serverNoContextTakeover,
    // §7.1.1.2: a client must honour this whether or not it asked for it.
    clientNoContextTakeover: p.clientNoContextTakeover,
    serverMaxWindowBits,
    clientMaxWindowBits,
  };
}

/** The server's answer to one syntactically valid offer, or null if its options decline it. */
function answerOffer(p: ParsedParams, options: PerMessageDeflateOptions): ServerAcceptance | null {
  if (options.serverNoContextTakeover === false && p.serverNoContextTakeover) return null;
  if (options.serverMaxWindowBits === false && p.serverMaxWindowBits !== undefined) return null;
  // A configured client window limit can only be imposed on a client that accepts one.
  if (typeof options.clientMaxWindowBits === 'number' && p.clientMaxWindowBits === undefined) return null;

  const params: ExtensionOffer['params'] = [];
  const serverNoContextTakeover = p.serverNoContextTakeover || options.serverNoContextTakeover === true;
  if (serverNoContextTakeover) params.push(['server_no_context_takeover', true]);

  const clientNoContextTakeover =
    options.clientNoContextTakeover === true ||
    (p.clientNoContextTakeover && options.clientNoContextTakeover !== false);
  if (clientNoContextTakeover) params.push(['client_no_context_takeover', true]);

  let serverMaxWindowBits = p.serverMaxWindowBits ?? MAX_WINDOW_BITS;
  if (typeof options.serverMaxWindowBits === 'number') {
    serverMaxWindowBits = Math.min(serverMaxWindowBits, options.serverMaxWindowBits);
  }
  // Echo it when offered (§7.1.2.1 requires that) or when we shrink our own window below the default.
  if (p.serverMaxWindowBits !== undefined || serverMaxWindowBits < MAX_WINDOW_BITS) {
    params.push(['server_max_window_bits', String(serverMaxWindowBits)]);
  }

  let clientMaxWindowBits = MAX_WINDOW_BITS;
  if (p.clientMaxWindowBits !== undefined && options.clientMaxWindowBits !== false) {
    const hint = p.clientMaxWindowBits === true ? MAX_WINDOW_BITS : p.clientMaxWindowBits;
    const limit = typeof options.clientMaxWindowBits === 'number' ? options.clientMaxWindowBits : MAX_WINDOW_BITS;
    clientMaxWindowBits = Math.min(hint, limit);
    // Taking the client's hint lets our inflater allocate only the window it needs.
    if (clientMaxWindowBits < MAX_WINDOW_BITS || p.clientMaxWindowBits !== true) {
      params.push(['client_max_window_bits', String(clientMaxWindowBits)]);
    }
  }

  return {
    response: { name: PERMESSAGE_DEFLATE, params },
    agreed: { serverNoContextTakeover, clientNoContextTakeover, serverMaxWindowBits, clientMaxWindowBits },
  };
}

/**
 * Picks the first acceptable permessage-deflate offer (RFC 7692 §5: offers are in the
 * client's order of preference). Offers for other extensions are ignored; malformed offers
 * are declined rather than failing the handshake, since a later offer may be fine.
 * Returns null when nothing is acceptable (respond without the extension).
 */
export function serverAccept(
  offers: readonly ExtensionOffer[],
  options: PerMessageDeflateOptions = {},
): ServerAcceptance | null {
  validateDeflateOptions(options);
  for (const offer of offers) {
    if (offer.name !== PERMESSAGE_DEFLATE) continue;
    let parsed: ParsedParams;
    try {
      parsed = parseParams(offer.params, false);
    } catch {
      continue;
    }
    const answer = answerOffer(parsed, options);
    if (answer !== null) return answer;
  }
  return null;
}
