/** `sockwire bench` arguments: parsed, checked and turned into BenchOptions, or a UsageError. */
import { parseWsUrl } from '../../client/url.js';
import { UsageError, parseArgs } from '../args.js';
import type { BenchOptions } from './run.js';

export const BENCH_HELP = `Usage: sockwire bench URL [options]

A load generator for any WebSocket echo server (sockwire echo, ws, Python websockets, ...).
N connections each keep K messages in flight; every reply is timed against its send. Prints
progress every second and a summary: round trips, msg/s, MB/s, latency p50/p90/p99/p99.9/max.
For pub/sub servers: sockwire bench --pubsub URL[,URL...] (see sockwire bench --pubsub --help).

Options:
  --connections N     connections to open (default 16, at most 10000)
  --size BYTES        message payload size (default 1024, at most 67108864)
  --duration S        seconds to measure (default 10, at most 86400)
  --warmup S          seconds of load before measuring starts (default 1; 0 for none)
  --binary            send binary messages (default: text, printable ASCII)
  --window K          messages in flight per connection (default 1, at most 1000)
  --rate R            cap the total send rate at R messages per second (default: no cap)
  --json FILE         write the results as JSON (schemaVersion 1)
  --html FILE         write a self-contained HTML report with charts
  --insecure          accept any TLS certificate (wss:// to a self-signed server)
  --connect-timeout MS  handshake deadline per connection (default 10000)
  -h, --help          show this help

Latency runs from a message's send to the arrival of its echo. With --rate, a message held back
because its connection's window was full is timed from when it actually went out.
Meant for your own servers: every client frame uses one fixed masking key (built once, reused)
and nothing is offered beyond plain RFC 6455 (no compression, no subprotocol).
Exit status: 0 after a run, 1 when no connection could be opened or no reply ever came back,
2 for bad arguments.
`;

const SPEC = {
  connections: { type: 'number', short: 'c' },
  size: { type: 'number', short: 's' },
  duration: { type: 'number', short: 'd' },
  warmup: { type: 'number' },
  binary: { type: 'boolean' },
  window: { type: 'number', short: 'w' },
  rate: { type: 'number', short: 'r' },
  json: { type: 'string' },
  html: { type: 'string' },
  insecure: { type: 'boolean', short: 'k' },
  'connect-timeout': { type: 'number' },
  help: { type: 'boolean', short: 'h' },
} as const;

export interface BenchCli {
  help: boolean;
  options?: BenchOptions;
  json?: string | undefined;
  html?: string | undefined;
}

export function parseBenchArgs(argv: readonly string[]): BenchCli {
  const { options: o, positionals } = parseArgs(argv, SPEC);
  if (o.help) return { help: true };
  if (positionals.length !== 1) throw new UsageError(positionals.length === 0 ? 'bench needs a URL, e.g. ws://localhost:8080/' : `unexpected argument ${positionals[1]}`);
  const url = positionals[0]!;
  let target;
  try {
    target = parseWsUrl(url);
  } catch (err) {
    throw new UsageError((err as Error).message);
  }
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = (o[name] as number | undefined) ?? dflt;
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${v}`);
    return v;
  };
  const num = (name: string, dflt: number, min: number, max: number, minInclusive: boolean): number => {
    const v = (o[name] as number | undefined) ?? dflt;
    if (!(minInclusive ? v >= min : v > min) || v > max) throw new UsageError(`--${name} must be ${minInclusive ? 'at least' : 'more than'} ${min} and at most ${max}, got ${v}`);
    return v;
  };
  const connections = int('connections', 16, 1, 10000);
  const window = int('window', 1, 1, 1000);
  if (connections * window > 1_000_000) throw new UsageError('--connections × --window must not exceed 1000000 messages in flight');
  const rate = o.rate === undefined ? undefined : num('rate', 0, 0, 1e9, false);
  const json = o.json as string | undefined;
  const html = o.html as string | undefined;
  if (json === '' || html === '') throw new UsageError('--json and --html need a file name');
  return {
    help: false,
    json,
    html,
    options: {
      url: target.href,
      target,
      connections,
      size: int('size', 1024, 1, 64 * 1024 * 1024),
      durationS: num('duration', 10, 0, 86400, false),
      warmupS: num('warmup', 1, 0, 3600, true),
      binary: o.binary === true,
      window,
      rate,
      insecure: o.insecure === true,
      connectTimeoutMs: int('connect-timeout', 10000, 1, 600000),
    },
  };
}
