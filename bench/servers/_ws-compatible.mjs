// Server and client drivers for any library with the `ws` API shape. ws and
// sockwire share them so the two are driven by literally the same code.

/**
 * @param lib  module exposing WebSocketServer (and WebSocket for clients)
 * @param opts { port, mode: 'echo' | 'broadcast', compress }
 */
export function startWsCompatibleServer(lib, { port, mode, compress }) {
  return new Promise((resolve, reject) => {
    const options = { port, host: '127.0.0.1', perMessageDeflate: compress ? {} : false };
    const wss = new lib.WebSocketServer(options, () => resolve(handle));
    wss.once('error', reject);
    const OPEN = lib.WebSocket?.OPEN ?? 1;
    const hasBroadcast = typeof wss.broadcast === 'function';
    wss.on('connection', (socket) => {
      socket.on('error', () => {});
      if (mode === 'broadcast') {
        socket.on('message', (data, isBinary) => {
          if (hasBroadcast) wss.broadcast(data, { binary: isBinary });
          else wss.clients.forEach((c) => {
            if (c.readyState === OPEN) c.send(data, { binary: isBinary });
          });
        });
      } else {
        socket.on('message', (data, isBinary) => socket.send(data, { binary: isBinary }));
      }
    });
    const handle = {
      broadcastVia: mode === 'broadcast' ? (hasBroadcast ? 'wss.broadcast' : 'wss.clients.forEach') : undefined,
      close: () => new Promise((done) => {
        for (const c of wss.clients) c.terminate?.();
        wss.close(() => done());
      }),
    };
  });
}

/**
 * Sends as fast as backpressure allows: fill until bufferedAmount reaches the
 * high-water mark, then wait for the last send's callback (which fires once
 * that data has been handed to the kernel).
 */
export function startWsCompatibleClient(lib, { url, payload, binary, compress }) {
  return new Promise((resolve, reject) => {
    const ws = new lib.WebSocket(url, { perMessageDeflate: compress ? {} : false });
    const HIGH_WATER = Math.max(1 << 20, payload.length * 4);
    const PER_TICK = 4096;
    let stopped = false;
    let sent = 0;
    const opts = { binary };
    const data = binary ? payload : payload.toString('utf8');
    const pump = () => {
      if (stopped) return;
      for (let i = 0; i < PER_TICK; i++) {
        if (ws.bufferedAmount >= HIGH_WATER) {
          ws.send(data, opts, () => setImmediate(pump));
          sent++;
          return;
        }
        ws.send(data, opts);
        sent++;
      }
      setImmediate(pump);
    };
    ws.once('open', () => {
      pump();
      resolve({
        sent: () => sent,
        stop: () => {
          stopped = true;
          ws.terminate?.();
        },
      });
    });
    ws.once('error', reject);
  });
}
