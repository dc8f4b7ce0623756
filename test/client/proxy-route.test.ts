import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { bypassesProxy, parseNoProxy, parseProxyUrl, proxyFor, proxyTableFromEnv, type ProxyOption } from '../../src/client/proxy-route.js';
import { parseClientUrl } from '../../src/client/url.js';

/**
 * Which proxy a connection takes, as a pure function: NO_PROXY matching by undici's
 * EnvHttpProxyAgent rules, the choice between HTTP_PROXY and HTTPS_PROXY, the environment's
 * spelling rules, and proxy URL parsing.
 */
describe('NO_PROXY matching', () => {
  // [NO_PROXY value, host, port, bypassed]
  const table: Array<[string, string, number, boolean]> = [
    ['', 'example.com', 80, false],
    [' , ,', 'example.com', 80, false],
    ['*', 'example.com', 443, true],
    ['*', '127.0.0.1', 1, true],
    // Only the whole value '*' means every host (undici compares the raw value).
    ['*,other.org', 'example.com', 80, false],
    ['example.com', 'example.com', 80, true],
    ['example.com', 'EXAMPLE.com', 80, true],
    ['EXAMPLE.COM', 'example.com', 80, true],
    ['example.com', 'a.b.example.com', 443, true],
    ['example.com', 'badexample.com', 80, false],
    ['example.com', 'example.com.evil.org', 80, false],
    ['.example.com', 'example.com', 80, true],
    ['.example.com', 'www.example.com', 80, true],
    ['*.example.com', 'example.com', 80, true],
    ['*.example.com', 'www.example.com', 80, true],
    ['example.com.', 'example.com', 80, true],
    ['example.com', 'example.com.', 80, true],
    ['example.com:8080', 'example.com', 8080, true],
    ['example.com:8080', 'example.com', 80, false],
    ['example.com:8080', 'www.example.com', 8080, true],
    ['example.com:443', 'example.com', 443, true],
    ['a.org,example.com', 'example.com', 80, true],
    ['a.org example.com', 'example.com', 80, true],
    ['a.org,\texample.com', 'example.com', 80, true],
    ['a.org b.org', 'example.com', 80, false],
    ['127.0.0.1', '127.0.0.1', 9000, true],
    ['127.0.0.1:9000', '127.0.0.1', 9001, false],
    ['10.0.0.1', '10.0.0.10', 80, false],
    // An IP address has no parent domains (undici would match "0.1" against 10.0.0.1).
    ['0.0.1', '10.0.0.1', 80, false],
    ['::1', '::1', 80, true],
    ['[::1]', '::1', 80, true],
    ['[::1]', '[::1]', 80, true],
    ['[::1]:443', '::1', 443, true],
    ['[::1]:443', '::1', 80, false],
    ['fe80::1', '::1', 80, false],
    ['localhost', 'localhost', 3000, true],
  ];
  it.each(table)('NO_PROXY=%j, host %s, port %i → bypassed: %s', (noProxy, host, port, bypassed) => {
    expect(bypassesProxy(noProxy, host, port)).toBe(bypassed);
  });

  it('entries: separators, brackets, ports, dots and case', () => {
    expect(parseNoProxy('A.org:81, .b.org *.c.org  d.org. [::1]:9 [fe80::2] ::3 1.2.3.4:5')).toEqual([
      { hostname: 'a.org', port: 81 },
      { hostname: 'b.org', port: 0 },
      { hostname: 'c.org', port: 0 },
      { hostname: 'd.org', port: 0 },
      { hostname: '::1', port: 9 },
      { hostname: 'fe80::2', port: 0 },
      { hostname: '::3', port: 0 },
      { hostname: '1.2.3.4', port: 5 },
    ]);
  });

  // Labels start with a letter: all-digit names would make IPv4 addresses, which have no parent domains.
  const label = fc.stringMatching(/^[a-z]([a-z0-9-]{0,8}[a-z0-9])?$/);
  const domain = fc.array(label, { minLength: 1, maxLength: 4 }).map((parts) => parts.join('.'));

  it('property: an entry naming the host, or a parent domain of it, bypasses; any port entry must match', () => {
    fc.assert(
      fc.property(fc.array(label, { maxLength: 3 }), domain, fc.integer({ min: 1, max: 65535 }), fc.integer({ min: 1, max: 65535 }), (sub, parent, port, other) => {
        const host = [...sub, parent].join('.');
        expect(bypassesProxy(parent, host, port)).toBe(true);
        expect(bypassesProxy(`.${parent}`, host, port)).toBe(true);
        expect(bypassesProxy(`${parent}:${port}`, host, port)).toBe(true);
        expect(bypassesProxy(`${parent}:${other}`, host, port)).toBe(other === port);
      }),
    );
  });

  it('property: a name is never matched by an entry that is only a suffix of its last label', () => {
    fc.assert(
      fc.property(label, domain, (prefix, entry) => {
        // "bad" + "example.com": shares the text, not the domain.
        expect(bypassesProxy(entry, `${prefix}${entry}`, 80)).toBe(false);
      }),
    );
  });
});

describe('which proxy a connection takes', () => {
  const ws = parseClientUrl('ws://example.com/');
  const wss = parseClientUrl('wss://example.com/');
  const origin = (option: ProxyOption | undefined, target = ws): string | null => proxyFor(option, target, {})?.origin ?? null;

  it('no option, false-y values, and ws+unix: go direct', () => {
    expect(origin(undefined)).toBeNull();
    expect(origin('')).toBeNull();
    expect(proxyFor(null, ws)).toBeNull();
    expect(proxyFor(false, ws)).toBeNull();
    expect(proxyFor('http://p:1', parseClientUrl('ws+unix:/tmp/s.sock'))).toBeNull();
  });

  it('one URL: every ws:// and wss:// connection, whatever NO_PROXY says', () => {
    const env = { NO_PROXY: '*' };
    expect(proxyFor('http://p:3128', ws, env)?.origin).toBe('http://p:3128');
    expect(proxyFor(new URL('http://p:3128'), wss, env)?.origin).toBe('http://p:3128');
  });

  it('a table: httpsProxy for wss:, httpProxy for ws: and for wss: without httpsProxy', () => {
    const both = { httpProxy: 'http://h:1', httpsProxy: 'http://s:2' };
    expect(origin(both, ws)).toBe('http://h:1');
    expect(origin(both, wss)).toBe('http://s:2');
    expect(origin({ httpProxy: 'http://h:1' }, wss)).toBe('http://h:1');
    expect(origin({ httpsProxy: 'http://s:2' }, ws)).toBeNull();
    expect(origin({ httpProxy: 'http://h:1', httpsProxy: '' }, wss)).toBe('http://h:1');
    expect(origin({ httpProxy: '', httpsProxy: 'http://s:2' }, ws)).toBeNull();
    expect(origin({ ...both, noProxy: 'example.com' }, wss)).toBeNull();
    expect(origin({ ...both, noProxy: 'example.com:80' }, wss)).toBe('http://s:2');
    expect(origin({ ...both, noProxy: 'example.com:443' }, wss)).toBeNull();
  });

  it("'env': lower-case names win over upper-case ones, even when empty; read only for 'env'", () => {
    const target = wss;
    const pick = (env: NodeJS.ProcessEnv): string | null => proxyFor('env', target, env)?.origin ?? null;
    expect(pick({})).toBeNull();
    expect(pick({ HTTPS_PROXY: 'http://S:1' })).toBe('http://s:1');
    expect(pick({ HTTPS_PROXY: 'http://S:1', https_proxy: 'http://lower:2' })).toBe('http://lower:2');
    expect(pick({ HTTP_PROXY: 'http://h:3' })).toBe('http://h:3');
    // An empty https_proxy hides HTTPS_PROXY; then http_proxy serves wss: as undici does.
    expect(pick({ https_proxy: '', HTTPS_PROXY: 'http://S:1', http_proxy: 'http://h:3' })).toBe('http://h:3');
    expect(pick({ https_proxy: '', HTTPS_PROXY: 'http://S:1' })).toBeNull();
    expect(pick({ HTTPS_PROXY: 'http://S:1', NO_PROXY: 'example.com' })).toBeNull();
    expect(pick({ HTTPS_PROXY: 'http://S:1', no_proxy: '', NO_PROXY: 'example.com' })).toBe('http://s:1');
    expect(proxyTableFromEnv({ http_proxy: 'a', NO_PROXY: 'b' }).table).toEqual({ httpProxy: 'a', httpsProxy: undefined, noProxy: 'b' });
    // A table never looks at the environment it is not given.
    expect(proxyFor({ noProxy: 'x' }, ws, { HTTP_PROXY: 'http://h:3' })).toBeNull();
  });
});

describe('proxy URLs', () => {
  it('credentials become a Basic Proxy-Authorization, percent-decoded; the origin carries none', () => {
    const p = parseProxyUrl('http://al%69ce:p%40ss%3Aw%C3%B6rd@Proxy.Example:3128/ignored?x');
    expect(p).toEqual({
      secure: false,
      hostname: 'proxy.example',
      port: 3128,
      origin: 'http://proxy.example:3128',
      authorization: `Basic ${Buffer.from('alice:p@ss:wörd').toString('base64')}`,
    });
    expect(parseProxyUrl('http://user@p').authorization).toBe(`Basic ${Buffer.from('user:').toString('base64')}`);
  });

  it('default ports, https: proxies, IPv6, and host:port without a scheme (as curl reads it)', () => {
    expect(parseProxyUrl('http://p')).toMatchObject({ port: 80, secure: false });
    expect(parseProxyUrl('https://p')).toMatchObject({ port: 443, secure: true, origin: 'https://p' });
    expect(parseProxyUrl('http://[::1]:8080')).toMatchObject({ hostname: '::1', port: 8080, origin: 'http://[::1]:8080' });
    expect(parseProxyUrl('proxy.corp:3128')).toMatchObject({ hostname: 'proxy.corp', port: 3128, secure: false });
    expect(parseProxyUrl(' proxy.corp:3128 ')).toMatchObject({ hostname: 'proxy.corp' });
  });

  it('unusable URLs are SyntaxErrors naming where they came from, never the value', () => {
    expect(() => parseProxyUrl('http://us:secret@')).toThrow(new SyntaxError('Invalid proxy URL in the proxy option'));
    expect(() => parseProxyUrl('socks5://us:secret@p:1080')).toThrow(new SyntaxError('The proxy URL in the proxy option must use "http:" or "https:", not "socks5:"'));
    expect(() => proxyFor('env', parseClientUrl('wss://h/'), { HTTPS_PROXY: 'ftp://secret@p' })).toThrow(/in HTTPS_PROXY must use/);
    expect(() => proxyFor('env', parseClientUrl('ws://h/'), { http_proxy: 'http://[bad' })).toThrow(new SyntaxError('Invalid proxy URL in http_proxy'));
    expect(() => proxyFor({ httpsProxy: 'file:///x' }, parseClientUrl('wss://h/'))).toThrow(/in httpsProxy/);
    expect(() => proxyFor(42 as unknown as ProxyOption, parseClientUrl('ws://h/'))).toThrow(TypeError);
    for (const bad of ['http://us:secret@', 'socks5://us:secret@p']) {
      try {
        parseProxyUrl(bad);
      } catch (err) {
        expect((err as Error).message).not.toContain('secret');
      }
    }
  });
});
