import fc from 'fast-check';
import { describe, expect, test } from 'vitest';
import type { PerMessageDeflateOptions } from '../../src/extensions/deflate-options.js';
import { clientAccept, clientOffer, serverAccept } from '../../src/extensions/deflate-params.js';
import type { ExtensionOffer } from '../../src/extensions/types.js';

const PMD = 'permessage-deflate';
function offer(...params: Array<[string, string | true]>): ExtensionOffer {
  return { name: PMD, params };
}
const BITS = [8, 9, 10, 11, 12, 13, 14, 15];
const BAD_BITS = ['7', '16', 'abc', '08', '', '8.0', ' 9', '-9', '0x9', '1e1', '150'];

describe('serverAccept', () => {
  test('an offer without parameters is accepted with defaults', () => {
    expect(serverAccept([offer()])).toEqual({
      response: { name: PMD, params: [] },
      agreed: { serverNoContextTakeover: false, clientNoContextTakeover: false, serverMaxWindowBits: 15, clientMaxWindowBits: 15 },
    });
  });

  test('no permessage-deflate offer, or none at all, yields null', () => {
    expect(serverAccept([])).toBeNull();
    expect(serverAccept([{ name: 'x-webkit-deflate-frame', params: [] }])).toBeNull();
  });

  test('server_no_context_takeover is echoed and agreed', () => {
    const r = serverAccept([offer(['server_no_context_takeover', true])]);
    expect(r?.response.params).toEqual([['server_no_context_takeover', true]]);
    expect(r?.agreed.serverNoContextTakeover).toBe(true);
  });

  test('serverNoContextTakeover: true adds it unasked; false declines offers asking for it', () => {
    expect(serverAccept([offer()], { serverNoContextTakeover: true })?.response.params).toEqual([
      ['server_no_context_takeover', true],
    ]);
    expect(serverAccept([offer(['server_no_context_takeover', true])], { serverNoContextTakeover: false })).toBeNull();
    expect(serverAccept([offer()], { serverNoContextTakeover: false })?.agreed.serverNoContextTakeover).toBe(false);
  });

  test('client_no_context_takeover is echoed by default, dropped with false, added with true', () => {
    const asked = [offer(['client_no_context_takeover', true])];
    expect(serverAccept(asked)?.response.params).toEqual([['client_no_context_takeover', true]]);
    expect(serverAccept(asked)?.agreed.clientNoContextTakeover).toBe(true);
    const dropped = serverAccept(asked, { clientNoContextTakeover: false });
    expect(dropped?.response.params).toEqual([]);
    expect(dropped?.agreed.clientNoContextTakeover).toBe(false);
    const added = serverAccept([offer()], { clientNoContextTakeover: true });
    expect(added?.response.params).toEqual([['client_no_context_takeover', true]]);
    expect(added?.agreed.clientNoContextTakeover).toBe(true);
  });

  test.each(BITS)('server_max_window_bits=%i is accepted with the same value', (bits) => {
    const r = serverAccept([offer(['server_max_window_bits', String(bits)])]);
    expect(r?.response.params).toEqual([['server_max_window_bits', String(bits)]]);
    expect(r?.agreed.serverMaxWindowBits).toBe(bits);
  });

  test('serverMaxWindowBits option takes the smaller of offer and option', () => {
    const lower = serverAccept([offer(['server_max_window_bits', '12'])], { serverMaxWindowBits: 10 });
    expect(lower?.response.params).toEqual([['server_max_window_bits', '10']]);
    const offerWins = serverAccept([offer(['server_max_window_bits', '9'])], { serverMaxWindowBits: 10 });
    expect(offerWins?.agreed.serverMaxWindowBits).toBe(9);
    const unasked = serverAccept([offer()], { serverMaxWindowBits: 11 });
    expect(unasked?.response.params).toEqual([['server_max_window_bits', '11']]);
    expect(unasked?.agreed.serverMaxWindowBits).toBe(11);
    expect(serverAccept([offer(['server_max_window_bits', '9'])], { serverMaxWindowBits: false })).toBeNull();
  });

  test('server_max_window_bits without a value is declined', () => {
    expect(serverAccept([offer(['server_max_window_bits', true])])).toBeNull();
  });

  test.each(BAD_BITS)('window bits value %j is declined for both parameters', (value) => {
    expect(serverAccept([offer(['server_max_window_bits', value])])).toBeNull();
    expect(serverAccept([offer(['client_max_window_bits', value])])).toBeNull();
  });

  test('client_max_window_bits without a value: not echoed by default, limited by option', () => {
    const plain = serverAccept([offer(['client_max_window_bits', true])]);
    expect(plain?.response.params).toEqual([]);
    expect(plain?.agreed.clientMaxWindowBits).toBe(15);
    for (const bits of BITS) {
      const r = serverAccept([offer(['client_max_window_bits', true])], { clientMaxWindowBits: bits });
      expect(r?.agreed.clientMaxWindowBits).toBe(bits);
      if (bits < 15) expect(r?.response.params).toEqual([['client_max_window_bits', String(bits)]]);
    }
  });

  test.each(BITS)('client_max_window_bits=%i hint is echoed, or lowered by the option', (bits) => {
    const r = serverAccept([offer(['client_max_window_bits', String(bits)])]);
    expect(r?.response.params).toEqual([['client_max_window_bits', String(bits)]]);
    expect(r?.agreed.clientMaxWindowBits).toBe(bits);
    const limited = serverAccept([offer(['client_max_window_bits', String(bits)])], { clientMaxWindowBits: 10 });
    expect(limited?.agreed.clientMaxWindowBits).toBe(Math.min(bits, 10));
  });

  test('a client window limit declines offers that cannot take one; false never sends one', () => {
    expect(serverAccept([offer()], { clientMaxWindowBits: 10 })).toBeNull();
    const r = serverAccept([offer(['client_max_window_bits', '10'])], { clientMaxWindowBits: false });
    expect(r?.response.params).toEqual([]);
    expect(r?.agreed.clientMaxWindowBits).toBe(15);
  });

  test.each([
    ['server_no_context_takeover with a value', [['server_no_context_takeover', 'yes']]],
    ['client_no_context_takeover with a value', [['client_no_context_takeover', '1']]],
    ['duplicate server_no_context_takeover', [['server_no_context_takeover', true], ['server_no_context_takeover', true]]],
    ['duplicate client_no_context_takeover', [['client_no_context_takeover', true], ['client_no_context_takeover', true]]],
    ['duplicate server_max_window_bits', [['server_max_window_bits', '10'], ['server_max_window_bits', '10']]],
    ['duplicate client_max_window_bits', [['client_max_window_bits', true], ['client_max_window_bits', '9']]],
    ['an unknown parameter', [['x_unknown', true]]],
    ['a differently cased parameter', [['Server_No_Context_Takeover', true]]],
  ] as Array<[string, Array<[string, string | true]>]>)('an offer with %s is declined', (_label, params) => {
    expect(serverAccept([offer(...params)])).toBeNull();
  });

  test('the first acceptable offer wins; invalid ones before it are skipped', () => {
    const offers = [
      offer(['server_max_window_bits', '7']),
      { name: 'foo', params: [] },
      offer(['client_no_context_takeover', 'x']),
      offer(['server_max_window_bits', '10']),
      offer(['server_no_context_takeover', true]),
    ];
    const r = serverAccept(offers);
    expect(r?.response.params).toEqual([['server_max_window_bits', '10']]);
    expect(r?.agreed.serverNoContextTakeover).toBe(false);
  });

  test('offers the options decline are skipped in favour of later ones', () => {
    const r = serverAccept(
      [offer(['server_no_context_takeover', true]), offer(['server_max_window_bits', '9'])],
      { serverNoContextTakeover: false },
    );
    expect(r?.agreed.serverMaxWindowBits).toBe(9);
  });

  test('invalid options throw', () => {
    expect(() => serverAccept([offer()], { serverMaxWindowBits: 7 })).toThrow(RangeError);
    expect(() => serverAccept([offer()], { clientMaxWindowBits: 16 })).toThrow(RangeError);
    expect(() => serverAccept([offer()], { clientMaxWindowBits: 9.5 })).toThrow(RangeError);
    expect(() => serverAccept([offer()], { threshold: -1 })).toThrow(RangeError);
    expect(() => serverAccept([offer()], { concurrencyLimit: 0 })).toThrow(RangeError);
  });
});

describe('clientOffer', () => {
  test('by default offers client_max_window_bits without a value', () => {
    expect(clientOffer()).toEqual({ name: PMD, params: [['client_max_window_bits', true]] });
  });

  test('all parameters', () => {
    expect(
      clientOffer({ serverNoContextTakeover: true, clientNoContextTakeover: true, serverMaxWindowBits: 10, clientMaxWindowBits: 9 }),
    ).toEqual({
      name: PMD,
      params: [
        ['server_no_context_takeover', true],
        ['client_no_context_takeover', true],
        ['server_max_window_bits', '10'],
        ['client_max_window_bits', '9'],
      ],
    });
  });

  test('clientMaxWindowBits: false leaves it out; serverMaxWindowBits: true is not a value', () => {
    expect(clientOffer({ clientMaxWindowBits: false, serverMaxWindowBits: true }).params).toEqual([]);
  });

  test('invalid options throw', () => {
    expect(() => clientOffer({ serverMaxWindowBits: 16 })).toThrow(RangeError);
  });
});

describe('clientAccept', () => {
  test('an empty response means defaults; our own window hint still applies to us', () => {
    expect(clientAccept(offer())).toEqual({
      serverNoContextTakeover: false,
      clientNoContextTakeover: false,
      serverMaxWindowBits: 15,
      clientMaxWindowBits: 15,
    });
    expect(clientAccept(offer(), { clientMaxWindowBits: 10 }).clientMaxWindowBits).toBe(10);
  });

  test('the server may add server_no_context_takeover and client_no_context_takeover unasked', () => {
    const a = clientAccept(offer(['server_no_context_takeover', true], ['client_no_context_takeover', true]));
    expect(a.serverNoContextTakeover).toBe(true);
    expect(a.clientNoContextTakeover).toBe(true);
  });

  test('a response ignoring our server_no_context_takeover fails', () => {
    expect(() => clientAccept(offer(), { serverNoContextTakeover: true })).toThrow(/server_no_context_takeover/);
  });

  test.each(BITS)('the server may limit its own window to %i unasked', (bits) => {
    expect(clientAccept(offer(['server_max_window_bits', String(bits)])).serverMaxWindowBits).toBe(bits);
  });

  test('server_max_window_bits must be echoed and not exceed the offer', () => {
    expect(() => clientAccept(offer(), { serverMaxWindowBits: 10 })).toThrow(/server_max_window_bits/);
    expect(() => clientAccept(offer(['server_max_window_bits', '11']), { serverMaxWindowBits: 10 })).toThrow(/exceeds/);
    expect(clientAccept(offer(['server_max_window_bits', '10']), { serverMaxWindowBits: 10 }).serverMaxWindowBits).toBe(10);
    expect(clientAccept(offer(['server_max_window_bits', '8']), { serverMaxWindowBits: 10 }).serverMaxWindowBits).toBe(8);
  });

  test.each(BITS)('client_max_window_bits=%i is accepted after a valueless offer', (bits) => {
    expect(clientAccept(offer(['client_max_window_bits', String(bits)])).clientMaxWindowBits).toBe(bits);
  });

  test('client_max_window_bits: unrequested, above the offer, or without a value fails', () => {
    expect(() => clientAccept(offer(['client_max_window_bits', '10']), { clientMaxWindowBits: false })).toThrow(/not offered/);
    expect(() => clientAccept(offer(['client_max_window_bits', '12']), { clientMaxWindowBits: 10 })).toThrow(/exceeds/);
    expect(() => clientAccept(offer(['client_max_window_bits', true]))).toThrow(/requires a value/);
    expect(clientAccept(offer(['client_max_window_bits', '9']), { clientMaxWindowBits: 10 }).clientMaxWindowBits).toBe(9);
  });

  test.each(BAD_BITS)('window bits value %j fails', (value) => {
    expect(() => clientAccept(offer(['server_max_window_bits', value]))).toThrow(/invalid server_max_window_bits/);
    expect(() => clientAccept(offer(['client_max_window_bits', value]))).toThrow(/invalid client_max_window_bits/);
  });

  test('duplicate, unknown or value-carrying flag parameters fail', () => {
    expect(() => clientAccept(offer(['server_no_context_takeover', true], ['server_no_context_takeover', true]))).toThrow(/duplicate/);
    expect(() => clientAccept(offer(['server_max_window_bits', '9'], ['server_max_window_bits', '9']))).toThrow(/duplicate/);
    expect(() => clientAccept(offer(['foo', 'bar']))).toThrow(/unknown parameter/);
    expect(() => clientAccept(offer(['client_no_context_takeover', 'on']))).toThrow(/must not have a value/);
  });

  test('a response naming another extension fails', () => {
    expect(() => clientAccept({ name: 'x-deflate', params: [] })).toThrow(/x-deflate/);
  });
});

describe('client and server agree', () => {
  const bitsOption = fc.option(fc.oneof(fc.boolean(), fc.integer({ min: 8, max: 15 })), { nil: undefined });
  const options: fc.Arbitrary<PerMessageDeflateOptions> = fc.record(
    {
      serverNoContextTakeover: fc.boolean(),
      clientNoContextTakeover: fc.boolean(),
      serverMaxWindowBits: bitsOption,
      clientMaxWindowBits: bitsOption,
    },
    { requiredKeys: [] },
  ).map((o) => Object.fromEntries(Object.entries(o).filter(([, v]) => v !== undefined)) as PerMessageDeflateOptions);

  test('whatever the server answers to our offer, we accept, and both sides agree', () => {
    fc.assert(
      fc.property(options, options, (clientOpts, serverOpts) => {
        const accepted = serverAccept([clientOffer(clientOpts)], serverOpts);
        if (accepted === null) return;
        const mine = clientAccept(accepted.response, clientOpts);
        const theirs = accepted.agreed;
        expect(mine.serverNoContextTakeover).toBe(theirs.serverNoContextTakeover);
        expect(mine.clientNoContextTakeover).toBe(theirs.clientNoContextTakeover);
        expect(mine.serverMaxWindowBits).toBe(theirs.serverMaxWindowBits);
        // The client may compress with less than the server inflates with, never more.
        expect(mine.clientMaxWindowBits).toBeLessThanOrEqual(theirs.clientMaxWindowBits);
        if (typeof clientOpts.serverMaxWindowBits === 'number') {
          expect(theirs.serverMaxWindowBits).toBeLessThanOrEqual(clientOpts.serverMaxWindowBits);
        }
        if (clientOpts.serverNoContextTakeover === true) expect(theirs.serverNoContextTakeover).toBe(true);
      }),
      { numRuns: 500 },
    );
  });
});
