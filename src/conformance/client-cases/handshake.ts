import type { ClientCase } from '../client-context.js';
import { closeNormally, expectReplies, text } from '../judge.js';
import { clientRejects } from './common.js';

const G = '0 Opening handshake';

const wellFormed: ClientCase = {
  id: '0.1',
  group: G,
  description: 'The client\'s upgrade request is checked field by field; then a normal session.',
  expectation: 'GET over HTTP/1.1 with Host, Upgrade: websocket, Connection: Upgrade, a base64 16-byte Sec-WebSocket-Key and Sec-WebSocket-Version: 13.',
  async run(t) {
    const r = t.request;
    const key = t.header('sec-websocket-key') ?? '';
    const problems = [
      r.method !== 'GET' && `method is ${r.method}`,
      r.version !== 'HTTP/1.1' && `version is ${r.version}`,
      !t.header('host') && 'no Host header',
      t.header('upgrade')?.toLowerCase() !== 'websocket' && `Upgrade is ${JSON.stringify(t.header('upgrade') ?? null)}`,
      !/(^|,)\s*upgrade\s*(,|$)/i.test(t.header('connection') ?? '') && `Connection is ${JSON.stringify(t.header('connection') ?? null)}`,
      !(/^[A-Za-z0-9+/]{22}==$/.test(key) && Buffer.from(key, 'base64').length === 16) && `Sec-WebSocket-Key ${JSON.stringify(key)} is not 16 base64-encoded bytes`,
      t.header('sec-websocket-version') !== '13' && `Sec-WebSocket-Version is ${JSON.stringify(t.header('sec-websocket-version') ?? null)}`,
    ].filter((p): p is string => typeof p === 'string');
    t.log.note(`client request: ${r.method} ${r.target} ${r.version}; ${[...r.headers].map(([k, v]) => `${k}: ${v.join(', ')}`).join('; ')}`);
    const s = await t.accept();
    if (problems.length) return { verdict: 'FAILED', reason: `malformed upgrade request: ${problems.join('; ')}` };
    await s.send({ opcode: 1, payload: 'hello client' });
    await expectReplies(t, s, [text('hello client')]);
    return closeNormally(t, s);
  },
};

export const clientHandshakeCases: ClientCase[] = [
  wellFormed,
  clientRejects('0.2', G, 'The 101 answer carries a wrong Sec-WebSocket-Accept.', { acceptValue: 'dGhpcyBpcyBub3QgdGhlIGFjY2VwdA==' }, 'a wrong Sec-WebSocket-Accept'),
  clientRejects('0.3', G, 'The server answers 403 Forbidden (with the upgrade headers anyway).', { status: '403 Forbidden' }, 'a 403 answer'),
  clientRejects('0.4', G, 'The 101 answer selects a subprotocol the client did not offer.', { extra: [['Sec-WebSocket-Protocol', 'sockwire.unrequested']] }, 'an unrequested subprotocol'),
  clientRejects('0.5', G, 'The 101 answer enables an extension the client did not offer.', { extra: [['Sec-WebSocket-Extensions', 'x-sockwire-unrequested']] }, 'an unrequested extension'),
  clientRejects('0.6', G, 'The 101 answer has no Upgrade header.', { omit: ['Upgrade'] }, 'a missing Upgrade header'),
  clientRejects('0.7', G, 'The 101 answer has no Connection header.', { omit: ['Connection'] }, 'a missing Connection header'),
  clientRejects('0.8', G, 'The 101 answer has no Sec-WebSocket-Accept header.', { omit: ['Sec-WebSocket-Accept'] }, 'a missing Sec-WebSocket-Accept'),
  clientRejects('0.9', G, 'A 200 OK answer with otherwise valid upgrade headers.', { status: '200 OK' }, 'a 200 answer'),
];
