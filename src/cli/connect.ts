import { createInterface } from 'node:readline';
import { WebSocket } from '../websocket/websocket.js';
import { UsageError, parseArgs, type Io } from './args.js';

export const CONNECT_HELP = `Usage: sockwire connect URL [options]

An interactive terminal client: lines you type are sent, what arrives is printed.
Commands: /ping [payload]   /close [code] [reason]   /quit
When standard input is not a terminal, each input line is sent as a message and the
connection is closed (1000) once input ends and --wait ms have passed.

Options:
  --protocol P        offer a subprotocol (repeatable)
  --header K:V        add a request header (repeatable)
  --origin O          send an Origin header
  --binary            send input lines as binary messages
  --deflate           offer permessage-deflate (off by default here)
  --execute MSG       send MSG after connecting (repeatable), then close after --wait
  --wait MS           how long to wait for replies before closing (default 1000)
  --insecure          accept any TLS certificate (wss:// to a self-signed server)
  -h, --help          show this help

Exit status: 0 after a normal close (1000, or 1005 when no code was sent), 1 when the
connection failed or dropped (1006), 3 for 3000-4999, and 10 + (code - 1000) for the
other 1xxx codes (e.g. 11 for 1001, 12 for 1002).
`;

const SPEC = {
  protocol: { type: 'string', repeat: true },
  header: { type: 'string', repeat: true },
  origin: { type: 'string' },
  binary: { type: 'boolean' },
  deflate: { type: 'boolean' },
  execute: { type: 'string', repeat: true },
  wait: { type: 'number' },
  insecure: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

export function exitCodeFor(code: number): number {
  if (code === 1000 || code === 1005) return 0;
  if (code === 1006) return 1;
  if (code >= 3000 && code <= 4999) return 3;
  if (code > 1000 && code < 1100) return 10 + (code - 1000);
  return 1;
}

export async function connectCommand(argv: string[], io: Io, stdin: NodeJS.ReadableStream & { isTTY?: boolean } = process.stdin): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    io.stdout.write(CONNECT_HELP);
    return 0;
  }
  if (positionals.length !== 1) throw new UsageError('connect needs exactly one URL');
  const headers: Record<string, string> = {};
  for (const h of (options.header as string[] | undefined) ?? []) {
    const colon = h.indexOf(':');
    if (colon <= 0) throw new UsageError(`--header must be K:V, got ${JSON.stringify(h)}`);
    headers[h.slice(0, colon).trim()] = h.slice(colon + 1).trim();
  }
  const wait = (options.wait as number | undefined) ?? 1000;
  const binary = options.binary === true;
  const executes = (options.execute as string[] | undefined) ?? [];
  let ws: WebSocket;
  try {
    ws = new WebSocket(positionals[0]!, (options.protocol as string[] | undefined) ?? [], {
      headers,
      perMessageDeflate: options.deflate === true,
      ...(options.origin !== undefined ? { origin: options.origin as string } : {}),
      ...(options.insecure ? { rejectUnauthorized: false } : {}),
    });
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const out = (line: string): void => {
    io.stdout.write(`${line}\n`);
  };

  return new Promise<number>((resolve) => {
    let failure: Error | null = null;
    ws.on('error', (err: Error) => {
      failure = err;
      io.stderr.write(`error: ${err.message}\n`);
    });
    ws.on('open', () => {
      out(`connected to ${ws.url}${ws.protocol ? ` (protocol ${ws.protocol})` : ''}${ws.extensions ? ` (extensions ${ws.extensions})` : ''}`);
      if (executes.length > 0) {
        for (const m of executes) ws.send(m, { binary });
        setTimeout(() => ws.close(1000), wait).unref();
        return;
      }
      const rl = createInterface({ input: stdin, terminal: false });
      rl.on('line', (line) => handleLine(ws, line, binary, out));
      rl.on('close', () => {
        if (ws.readyState === ws.OPEN) setTimeout(() => ws.readyState === ws.OPEN && ws.close(1000), wait).unref();
      });
      ws.once('close', () => rl.close());
    });
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      out(isBinary ? `< [binary ${data.length} bytes] ${data.subarray(0, 64).toString('hex')}${data.length > 64 ? '…' : ''}` : `< ${data.toString()}`);
    });
    ws.on('ping', (p: Buffer) => out(`< ping ${p.toString()}`));
    ws.on('pong', (p: Buffer) => out(`< pong ${p.toString()}`));
    ws.on('close', (code: number, reason: Buffer) => {
      out(`closed ${code}${reason.length ? ` ${reason.toString()}` : ''}`);
      resolve(failure !== null && code === 1006 ? 1 : exitCodeFor(code));
    });
  });
}

function handleLine(ws: WebSocket, line: string, binary: boolean, out: (l: string) => void): void {
  if (ws.readyState !== ws.OPEN) return;
  if (line.startsWith('/ping')) {
    ws.ping(line.slice(6));
  } else if (line.startsWith('/close')) {
    const [, code, ...reason] = line.split(' ');
    try {
      ws.close(code ? Number(code) : 1000, reason.join(' '));
    } catch (err) {
      out(`! ${(err as Error).message}`);
    }
  } else if (line === '/quit') {
    ws.close(1000);
  } else {
    ws.send(line, { binary });
  }
}
