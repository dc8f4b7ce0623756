// Scenarios run both against sockwire's web face (in the test process) and against Node's
// own WebSocket (undici, in a child `node --experimental-websocket`), each given the
// WebSocket class and the URL of a `ws` echo server that closes on 'close-me:CODE:REASON'.
// Each returns plain data, so the two runs can be compared. Plain JavaScript: the child
// process runs it without a TypeScript loader.

const result = (fn) => {
  try {
    const value = fn();
    return value === undefined ? 'ok' : value;
  } catch (err) {
    return err instanceof DOMException ? `DOMException:${err.name}` : err.constructor.name;
  }
};

function settle(ws) {
  return new Promise((resolve) => {
    ws.onclose = resolve;
    ws.onerror = () => {};
  });
}

export const scenarios = {
  /** Constructor outcomes for URLs and subprotocol lists. */
  async construct(WebSocket, url) {
    const port = new URL(url).port;
    const cases = [
      [url],
      [url.replace('ws:', 'http:') + '/p?q=1'],
      [`ws://127.0.0.1:${port}/#`],
      [`ws://127.0.0.1:${port}/#x`],
      ['ftp://127.0.0.1/'],
      ['not a url'],
      [url, ['a', 'a']],
      [url, ['chat', 'CHAT']],
      [url, ['']],
      [url, ['with space']],
      [url, 'a,b'],
      [url, ['é']],
      [url, []],
      [url, 'chat'],
    ];
    const out = [];
    for (const args of cases) {
      out.push([
        args.map(String).join(' | '),
        result(() => {
          const ws = new WebSocket(...args);
          const seen = ws.url;
          ws.onerror = () => {};
          ws.close();
          return seen;
        }),
      ]);
    }
    return out;
  },

  /** The initial state and its types. */
  async initial(WebSocket, url) {
    const ws = new WebSocket(url);
    const out = {
      tag: Object.prototype.toString.call(ws),
      readyState: ws.readyState,
      binaryType: ws.binaryType,
      bufferedAmount: ws.bufferedAmount,
      protocol: ws.protocol,
      extensions: ws.extensions,
      handlers: [ws.onopen, ws.onmessage, ws.onerror, ws.onclose],
      constants: [WebSocket.CONNECTING, WebSocket.OPEN, WebSocket.CLOSING, WebSocket.CLOSED],
      sendConnecting: result(() => ws.send('x')),
      closeBadCode: result(() => ws.close(1001)),
      closeLongReason: result(() => ws.close(1000, 'x'.repeat(124))),
    };
    // Node 20's undici never fires close after close() while connecting: not awaited here.
    ws.onerror = () => {};
    ws.close();
    return out;
  },

  /** Echo of what send() converts, and the message events' fields. */
  async echo(WebSocket, url) {
    const ws = new WebSocket(url);
    ws.binaryType = 'arraybuffer';
    const messages = [];
    await new Promise((resolve) => (ws.onopen = resolve));
    const sent = [null, 42, 'text', { toString: () => 'object' }, Uint8Array.from([1, 2, 3])];
    for (const value of sent) ws.send(value);
    await new Promise((resolve) => {
      ws.onmessage = (e) => {
        messages.push({
          tag: Object.prototype.toString.call(e),
          data: typeof e.data === 'string' ? e.data : [...new Uint8Array(e.data)],
          origin: e.origin === new URL(url).origin,
          lastEventId: e.lastEventId,
          bubbles: e.bubbles,
          cancelable: e.cancelable,
        });
        if (messages.length === sent.length) resolve();
      };
    });
    ws.send('close-me:4000:bye');
    const close = await settle(ws);
    return { messages, close: [Object.prototype.toString.call(close), close.code, close.reason, close.wasClean, ws.readyState] };
  },

  /** Blob delivery (the default binaryType). */
  async blob(WebSocket, url) {
    const ws = new WebSocket(url);
    await new Promise((resolve) => (ws.onopen = resolve));
    ws.send(Uint8Array.from([9, 8, 7]));
    const e = await new Promise((resolve) => (ws.onmessage = resolve));
    const isBlob = e.data instanceof Blob;
    const bytes = isBlob ? [...new Uint8Array(await e.data.arrayBuffer())] : null;
    ws.close(3001, 'done');
    const close = await settle(ws);
    return { isBlob, bytes, close: [close.code, close.reason, close.wasClean] };
  },
};
