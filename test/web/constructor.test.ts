/**
 * `new WebSocket(url, protocols)`: the URL record (WebSockets Standard "get a URL record"),
 * the subprotocol list (IDL union conversion, RFC 6455 token rule, repeats), the blocked
 * ports browsers refuse, and what the opening handshake then sends (subprotocols, deflate
 * offer, URL credentials as Basic auth).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { WebSocket } from '../../src/web/index.js';
import { header, nextEvent, rawServer, record, switching, within, type Peer } from './helpers.js';

function thrown(fn: () => unknown): string | null {
  try {
    fn();
    return null;
  } catch (err) {
    return err instanceof DOMException ? `DOMException:${err.name}` : (err as Error).constructor.name;
  }
}

/** Constructs and closes at once, so no test leaves a connection attempt behind. */
function construct(url: unknown, protocols?: unknown): WebSocket {
  const ws =
    arguments.length > 1
      ? new WebSocket(url as string, protocols as string[])
      : new WebSocket(url as string);
  ws.close();
  return ws;
}

describe('URL', () => {
  it.each([
    'not a url',
    'ws://',
    '/relative', // no base URL in Node
    'ftp://127.0.0.1/',
    'file:///etc/passwd',
    'mailto:a@b',
    'ws://127.0.0.1:8080/#',
    'ws://127.0.0.1:8080/#frag',
    'wss://127.0.0.1:8080/path#',
    'http://127.0.0.1:8080/#x',
    'ws://[::1/',
  ])('%j is a SyntaxError DOMException', (url) => {
    expect(thrown(() => construct(url))).toBe('DOMException:SyntaxError');
  });

  it.each([
    ['ws://127.0.0.1:8080', 'ws://127.0.0.1:8080/'],
    ['WS://127.0.0.1:8080/A?b=c', 'ws://127.0.0.1:8080/A?b=c'],
    ['http://127.0.0.1:8080/p', 'ws://127.0.0.1:8080/p'],
    ['https://127.0.0.1:8443/p', 'wss://127.0.0.1:8443/p'],
    ['http://127.0.0.1:80/', 'ws://127.0.0.1/'],
    ['wss://127.0.0.1:443/', 'wss://127.0.0.1/'],
    ['ws://user:pa%20ss@127.0.0.1:8080/', 'ws://user:pa%20ss@127.0.0.1:8080/'],
    ['ws://127.0.0.1:8080/a b', 'ws://127.0.0.1:8080/a%20b'],
    ['  ws://127.0.0.1:8080/\n', 'ws://127.0.0.1:8080/'],
  ])('%j serializes as %j', (url, expected) => {
    expect(construct(url).url).toBe(expected);
  });

  it('converts the URL argument as a USVString (objects by toString, lone surrogates to U+FFFD, Symbols throw)', () => {
    expect(construct(new URL('ws://127.0.0.1:8080/u')).url).toBe('ws://127.0.0.1:8080/u');
    expect(construct({ toString: () => 'ws://127.0.0.1:8080/o' }).url).toBe('ws://127.0.0.1:8080/o');
    expect(construct('ws://127.0.0.1:8080/\uD800').url).toBe('ws://127.0.0.1:8080/%EF%BF%BD');
    expect(thrown(() => construct(Symbol('ws://x')))).toBe('TypeError');
  });

  it('resolves relative URLs against a `location` global when one exists (the API base URL)', () => {
    const g = globalThis as { location?: unknown };
    g.location = { href: 'http://127.0.0.1:8080/dir/page.html' };
    try {
      expect(construct('sock').url).toBe('ws://127.0.0.1:8080/dir/sock');
    } finally {
      delete g.location;
    }
  });

  it.each([1, 7, 21, 22, 25, 53, 110, 143, 993, 2049, 6000, 6667, 10080])('port %i is refused with a SecurityError, as browsers do', (port) => {
    expect(thrown(() => construct(`ws://127.0.0.1:${port}/`))).toBe('DOMException:SecurityError');
  });

  it('default ports are never blocked', () => {
    expect(construct('ws://127.0.0.1/').url).toBe('ws://127.0.0.1/');
  });
});

describe('protocols', () => {
  const url = 'ws://127.0.0.1:8080/';

  it.each([
    [undefined, []],
    ['chat', ['chat']],
    [['a', 'b'], ['a', 'b']],
    [null, ['null']], // a union with DOMString: null is the string "null"
    [42, ['42']],
    [new Set(['x', 'y']), ['x', 'y']],
    [{ toString: () => 'fromobject' }, ['fromobject']],
  ])('%j is accepted (as %j)', (protocols, _expected) => {
    expect(thrown(() => construct(url, protocols))).toBeNull();
  });

  it.each([
    [['a', 'a']],
    [['chat', 'CHAT']], // repeats compare case-insensitively
    [''],
    [['']],
    ['with space'],
    [['a,b']],
    [['é']],
    [['a\u0000']],
    [['x/y']],
    [['{}']],
    [{}], // "[object Object]" is not a token
  ])('%j is a SyntaxError DOMException', (protocols) => {
    expect(thrown(() => construct(url, protocols))).toBe('DOMException:SyntaxError');
  });

  it('an iterator that is not callable is a TypeError; element conversion throws for Symbols', () => {
    expect(thrown(() => construct(url, { [Symbol.iterator]: 1 }))).toBe('TypeError');
    expect(thrown(() => construct(url, [Symbol('p')]))).toBe('TypeError');
  });

  it('validates the URL before the protocols', () => {
    expect(thrown(() => construct('ftp://x/', ['a', 'a']))).toBe('DOMException:SyntaxError');
    expect(thrown(() => construct('ws://127.0.0.1:25/', ['a', 'a']))).toBe('DOMException:SecurityError');
  });
});

describe('the opening handshake', () => {
  let server: Peer | null = null;
  afterEach(async () => {
    await server?.close();
    server = null;
  });

  /** Accepts with a 101 answering `extra` headers and returns the request head it saw. */
  async function handshakeOf(path: string, protocols: string[] | undefined, extra: (head: string) => string[]) {
    let seen = '';
    const raw = await rawServer((socket, head) => {
      seen = head;
      socket.write(switching(head, extra(head)));
    });
    server = raw;
    const ws = protocols ? new WebSocket(`${raw.url.replace('ws://', `ws://${path}`)}`, protocols) : new WebSocket(raw.url.replace('ws://', `ws://${path}`));
    return { ws, head: () => seen };
  }

  it('offers the subprotocols in order and permessage-deflate; exposes what the server chose once open', async () => {
    const { ws, head } = await handshakeOf('', ['v2.chat', 'v1.chat'], (h) => [
      'Sec-WebSocket-Protocol: v1.chat',
      `Sec-WebSocket-Extensions: ${header(h, 'sec-websocket-extensions')?.startsWith('permessage-deflate') ? 'permessage-deflate' : ''}`,
    ]);
    await nextEvent(ws, 'open');
    expect(header(head(), 'sec-websocket-protocol')?.split(/\s*,\s*/)).toEqual(['v2.chat', 'v1.chat']);
    expect(header(head(), 'sec-websocket-extensions')).toMatch(/^permessage-deflate/);
    expect(header(head(), 'sec-websocket-version')).toBe('13');
    expect(ws.protocol).toBe('v1.chat');
    expect(ws.extensions).toBe('permessage-deflate');
    ws.close();
  });

  it('sends URL credentials as a preemptive Basic Authorization, percent-decoded', async () => {
    const { ws, head } = await handshakeOf('us%40er:p%3Ass%20word@', undefined, () => []);
    await nextEvent(ws, 'open');
    const auth = header(head(), 'authorization');
    expect(auth).toBe(`Basic ${Buffer.from('us@er:p:ss word').toString('base64')}`);
    expect(ws.url).toMatch(/^ws:\/\/us%40er:p%3Ass%20word@127\.0\.0\.1:\d+\/$/);
    // The request line carries the path only, never the credentials.
    expect(head().split('\r\n')[0]).toBe('GET / HTTP/1.1');
    ws.close();
  });

  it('sends no Authorization without credentials', async () => {
    const { ws, head } = await handshakeOf('', undefined, () => []);
    await nextEvent(ws, 'open');
    expect(header(head(), 'authorization')).toBeUndefined();
    ws.close();
  });

  it('fails (error, then close 1006) when subprotocols were offered and the server chose none', async () => {
    const { ws } = await handshakeOf('', ['chat'], () => []);
    const { closed } = record(ws);
    const events = await closed;
    expect(events.map((e) => e.type)).toEqual(['error', 'close']);
    expect(events[1]).toMatchObject({ code: 1006, wasClean: false, readyState: 3 });
  });

  it('does not follow redirects (Fetch redirect mode "error"): the connection fails', async () => {
    const raw = await rawServer((socket) => {
      socket.end('HTTP/1.1 302 Found\r\nLocation: ws://127.0.0.1:1/\r\nContent-Length: 0\r\n\r\n');
    });
    server = raw;
    const ws = new WebSocket(raw.url);
    const events = await within(record(ws).closed, 'close');
    expect(events.map((e) => [e.type, e.code ?? null])).toEqual([['error', null], ['close', 1006]]);
  });
});
