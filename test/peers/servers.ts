/** The echo-server peers, all configured the same way (see cases.ts). */
import { WebSocketServer as RefServer } from 'ws';
import { SERVER_SUBPROTOCOLS } from './cases.js';
import { startEchoServer } from './echo-server.js';
import { IMPL_NAME, WebSocketServer as ImplServer, shutdownServer } from './impl.js';
import { startPythonEchoServer } from './python.js';
import type { EchoServerHandle } from './server-handle.js';
import type { WsLikeServer, WsLikeServerCtor, WsLikeSocket } from './ws-like.js';

export interface ServerVariant {
  /** Negotiate permessage-deflate with clients that offer it. */
  compression: boolean;
}

export type ServerFactory = (variant: ServerVariant) => Promise<EchoServerHandle>;

/** The server under test (see impl.ts). */
export const implServer: ServerFactory = ({ compression }) =>
  startEchoServer({ name: IMPL_NAME, Server: ImplServer, subprotocols: SERVER_SUBPROTOCOLS, shutdown: shutdownServer, compression });

/** `ws` as a reference peer: independent of impl.ts, so it stays `ws` after the switch. */
export const wsServer: ServerFactory = ({ compression }) =>
  startEchoServer({
    name: 'ws',
    Server: RefServer satisfies WsLikeServerCtor,
    subprotocols: SERVER_SUBPROTOCOLS,
    compression,
    shutdown(wss: WsLikeServer, open: Iterable<WsLikeSocket>) {
      // ws 8's close() leaves open connections alone; going away is done by hand.
      for (const socket of open) socket.close(1001, 'going away');
      wss.close();
    },
  });

export const pythonServer: ServerFactory = ({ compression }) =>
  startPythonEchoServer({ subprotocols: SERVER_SUBPROTOCOLS, compression });
