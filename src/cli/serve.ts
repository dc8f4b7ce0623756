import { readFileSync } from 'node:fs';
import { WebSocketServer } from '../server/websocket-server.js';
import type { WebSocket } from '../websocket/websocket.js';
import { UsageError, parseArgs, type Io } from './args.js';

export const SERVE_HELP = `Usage: sockwire serve [options]
       sockwire echo [options]          (same as: serve --mode echo)

Runs a WebSocket server and logs connections and closes.

Options:
  --port N            port to listen on (default 8080; 0 picks a free one)
  --host HOST         address to bind (default: all)
  --mode MODE         echo | broadcast | chat (default echo)
                        echo: every message comes back with its type (for conformance runs)
                        broadcast: every message goes to every client
                        chat: like broadcast, prefixed with the sender's name
  --tls-cert FILE     serve wss:// with this PEM certificate ...
  --tls-key FILE      ... and this PEM key
  --deflate           accept permessage-deflate
  --max-payload N     largest message in bytes (default 16777216; 0 = unlimited)
  --quiet             do not log connections
  -h, --help          show this help
`;

const SPEC = {
  port: { type: 'number' },
  host: { type: 'string' },
  mode: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  deflate: { type: 'boolean' },
  'max-payload': { type: 'number' },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** Starts the server; resolves with it once listening (so tests and the CLI can stop it). */
export async function serveCommand(argv: string[], io: Io, defaultMode = 'echo'): Promise<{ code: number; server?: WebSocketServer }> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    io.stdout.write(SERVE_HELP);
    return { code: 0 };
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const mode = (options.mode as string | undefined) ?? defaultMode;
  if (!['echo', 'broadcast', 'chat'].includes(mode)) throw new UsageError(`--mode must be echo, broadcast or chat, got ${mode}`);
  const cert = options['tls-cert'] as string | undefined;
  const key = options['tls-key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const port = (options.port as number | undefined) ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${port}`);
  const maxPayload = options['max-payload'] as number | undefined;
  const log = options.quiet ? () => {} : (line: string) => io.stdout.write(`${new Date().toISOString()} ${line}\n`);

  const wss = new WebSocketServer({
    port,
    ...(options.host !== undefined ? { host: options.host as string } : {}),
    ...(cert !== undefined && key !== undefined ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
    perMessageDeflate: options.deflate === true,
    ...(maxPayload !== undefined ? { maxPayload } : {}),
  });
  await new Promise<void>((resolve, reject) => {
    wss.once('listening', resolve);
    wss.once('error', reject);
  });
  const address = wss.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  io.stdout.write(`sockwire ${mode} server listening on ${cert ? 'wss' : 'ws'}://${options.host ?? 'localhost'}:${actualPort}\n`);

  let nextId = 1;
  wss.on('connection', (socket: WebSocket, req) => {
    const id = nextId++;
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    log(`#${id} open ${peer} ${req.url ?? ''}${socket.protocol ? ` protocol=${socket.protocol}` : ''}${socket.extensions ? ` extensions=${socket.extensions}` : ''}`);
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (mode === 'echo') {
        socket.send(data, { binary: isBinary });
      } else {
        const out = mode === 'chat' && !isBinary ? `#${id}: ${data.toString()}` : data;
        for (const c of wss.clients) if (c.readyState === c.OPEN) c.send(out, { binary: isBinary });
      }
    });
    socket.on('close', (code: number, reason: Buffer) => log(`#${id} close ${code}${reason.length ? ` ${reason.toString()}` : ''}`));
  });
  return { code: 0, server: wss };
}
