// The protocol core without sockets: two `Protocol` objects, a client and a server, talk
// over a pair of in-process streams. The same wiring runs WebSocket framing over any
// byte stream (a pipe, a QUIC stream, a test harness) once its handshake is done elsewhere.
// Run: node examples/sans-io-duplex.js
import { Duplex } from 'node:stream';
import { Protocol } from 'sockwire/protocol';

/** Two connected in-memory streams: what one writes, the other reads. */
function duplexPair() {
  const make = (peer) =>
    new Duplex({
      read() {},
      write(chunk, _encoding, cb) {
        peer().push(chunk);
        cb();
      },
      final(cb) {
        peer().push(null);
        cb();
      },
    });
  const a = make(() => b);
  const b = make(() => a);
  return [a, b];
}

/** Connects a Protocol to a stream: the stream's bytes go in, the core's bytes go out. */
function attach(transport, options, events) {
  let wireBytes = 0;
  const ws = new Protocol(options, {
    write(bytes, cb) {
      wireBytes += bytes.length;
      transport.write(bytes, cb);
    },
    endTransport: () => transport.end(),
    ...events,
    onClose(info) {
      console.log(`${options.role} closed: code ${info.code} "${info.reason}" clean=${info.wasClean}, wrote ${wireBytes} bytes`);
    },
  });
  transport.on('data', (chunk) => ws.receive(chunk));
  transport.on('end', () => ws.receiveEof());
  return ws;
}

const [clientSide, serverSide] = duplexPair();

const server = attach(serverSide, { role: 'server' }, {
  onMessage(data, isBinary) {
    // Echo text upper-cased and binary reversed, so the output shows which side did what.
    if (isBinary) server.send(Buffer.from(data).reverse(), true);
    else server.send(data.toString().toUpperCase(), false);
  },
});

let replies = 0;
// fragmentSize splits each outgoing message into small frames; the server reassembles them.
const client = attach(clientSide, { role: 'client', fragmentSize: 4 }, {
  onMessage(data, isBinary) {
    console.log(`client got ${isBinary ? 'binary' : 'text'}: ${isBinary ? data.toString('hex') : data}`);
    if (++replies === 2) client.ping(Buffer.from('are you there?'));
  },
  onPong(payload) {
    console.log(`client got pong: ${payload}`);
    client.close(1000, 'done');
  },
});

client.send('hello from the client core', false);
client.send(Buffer.from([1, 2, 3, 4, 5]), true);
