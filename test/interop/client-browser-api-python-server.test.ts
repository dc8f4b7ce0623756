// Client under test (test/peers/impl.ts: currently the `ws` stand-in), used only through its
// browser-style API (onmessage, binaryType 'arraybuffer', CloseEvent) × Python websockets server.
import { implClientBrowserApi } from '../peers/clients.js';
import { IMPL_NAME } from '../peers/impl.js';
import { pythonServer } from '../peers/servers.js';
import { interopSuite } from '../peers/suite.js';

interopSuite({ title: `client ${IMPL_NAME} browser-style API × server python websockets`, server: pythonServer, client: implClientBrowserApi });
