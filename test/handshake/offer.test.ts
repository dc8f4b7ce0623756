import { describe, expect, it } from 'vitest';
import { HeadParser, parseOffer, selectSubprotocol } from '../../src/handshake/index.js';
import { RFC_REQUEST, b, handshakeError } from './helpers.js';

describe('parseOffer', () => {
  it('reads the RFC 6455 §1.2 request: subprotocols in the client’s order, origin, no extensions', () => {
    const parsed = new HeadParser('request').push(b(RFC_REQUEST))!;
    const offer = parseOffer(parsed.headers, true);
    expect([...offer.protocols]).toEqual(['chat', 'superchat']);
    expect(offer.origin).toBe('http://example.com');
    expect(offer.extensions).toBeNull();
  });

  it('gives an empty set and no origin when none were sent', () => {
    const offer = parseOffer({}, false);
    expect(offer.protocols.size).toBe(0);
    expect(offer.origin).toBeUndefined();
  });

  it('takes optional whitespace around subprotocols', () => {
    expect([...parseOffer({ 'sec-websocket-protocol': ' a ,\tb' }, false).protocols]).toEqual(['a', 'b']);
  });

  it.each(['', 'a,,b', 'a,', 'chat, chat', 'a b', 'chat; v=1', 'a/b'])('refuses the subprotocol list %j with 400 (ws’s message)', (value) => {
    const err = handshakeError(() => parseOffer({ 'sec-websocket-protocol': value }, false));
    expect([err.status, err.message]).toEqual([400, 'Invalid Sec-WebSocket-Protocol header']);
  });

  it('parses extension offers only when permessage-deflate is enabled (as ws)', () => {
    const header = { 'sec-websocket-extensions': 'permessage-deflate; client_max_window_bits' };
    expect(parseOffer(header, true).extensions).toEqual([{ name: 'permessage-deflate', params: [['client_max_window_bits', true]] }]);
    expect(parseOffer(header, false).extensions).toBeNull();
    expect(parseOffer({ 'sec-websocket-extensions': 'permessage-deflate; =x' }, false).extensions).toBeNull();
  });

  it.each(['permessage-deflate; =x', ' , ', 'a;b="unterminated'])('with deflate on, refuses the extensions %j with 400 (ws’s message)', (value) => {
    const err = handshakeError(() => parseOffer({ 'sec-websocket-extensions': value }, true));
    expect([err.status, err.message]).toEqual([400, 'Invalid or unacceptable Sec-WebSocket-Extensions header']);
  });

  it('handles a megabyte extension offer from a parser with raised limits (outcome only)', () => {
    const head = RFC_REQUEST.replace('\r\n\r\n', `\r\nSec-WebSocket-Extensions: a${';a'.repeat(500_000)}\r\n\r\n`);
    const parsed = new HeadParser('request', { maxHeaderBytes: 2 << 20 }).push(b(head))!;
    expect(parseOffer(parsed.headers, true).extensions![0]!.params).toHaveLength(500_000);
    const quoted = RFC_REQUEST.replace('\r\n\r\n', `\r\nSec-WebSocket-Extensions: a;b=${'"\\"'.repeat(300_000)}\r\n\r\n`);
    const parsedQuoted = new HeadParser('request', { maxHeaderBytes: 2 << 20 }).push(b(quoted))!;
    expect(handshakeError(() => parseOffer(parsedQuoted.headers, true)).status).toBe(400);
  });
});

describe('selectSubprotocol', () => {
  const offered = new Set(['a', 'b', 'c']);

  it('answers the client’s first offer without a chooser (ws’s default)', () => {
    expect(selectSubprotocol(offered, undefined, null)).toBe('a');
  });

  it('with a list, picks in the server’s order of preference; none in common is none', () => {
    expect(selectSubprotocol(offered, ['c', 'b'], null)).toBe('c');
    expect(selectSubprotocol(offered, ['z'], null)).toBe('');
  });

  it('gives a function the offered set and the request; false means none', () => {
    const req = { id: 1 };
    const seen: unknown[] = [];
    expect(
      selectSubprotocol(offered, (set, r) => {
        seen.push([...set], r);
        return 'b';
      }, req),
    ).toBe('b');
    expect(seen).toEqual([['a', 'b', 'c'], req]);
    expect(selectSubprotocol(offered, () => false, req)).toBe('');
  });

  it('does not call the chooser when nothing was offered', () => {
    let calls = 0;
    const chooser = (): string => {
      calls++;
      return 'a';
    };
    expect(selectSubprotocol(new Set(), chooser, null)).toBe('');
    expect(calls).toBe(0);
  });

  it('passes on a token the client did not offer (ws sends it; the client refuses it)', () => {
    expect(selectSubprotocol(offered, () => 'nope', null)).toBe('nope');
  });

  it.each<[string, unknown]>([
    ['a CRLF', 'a\r\nX-Evil: 1'],
    ['a space', 'a b'],
    ['a number', 5],
    ['an object', {}],
  ])('throws a TypeError for a chosen value holding %s', (_name, value) => {
    expect(() => selectSubprotocol(offered, () => value as string, null)).toThrow(TypeError);
  });
});
