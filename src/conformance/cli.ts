import { Progress, type Out } from './progress.js';
import { writeReports } from './report-json.js';
import { DEFAULT_TIMEOUT_MS, runServerSuite } from './runner.js';
import { splitPatterns } from './select.js';
import { VERDICTS, type SuiteResult } from './types.js';

export interface CliIo {
  stdout: Out;
  stderr: Out;
}

export const HELP = `Usage:
  sockwire conformance server --url ws://host:port/path [options]
      Tests a WebSocket echo server (one that echoes every message with its type).
  sockwire conformance client --port N [options]
      Starts a fuzzing server that tests a WebSocket client driven by the
      Autobahn-style driver protocol (/getCaseCount, /runCase, /updateReports).

Options:
  --url URL         (server mode) the echo endpoint, ws:// or wss://
  --port N          (client mode) port to listen on (0 picks a free one)
  --cases LIST      only these cases: comma-separated ids or globs (1.*,6.4.*,7.7.3)
  --exclude LIST    skip these cases (same syntax)
  --report DIR      write report.json and index.html into DIR (default ./conformance-report)
  --no-report       do not write reports
  --http2           (server mode) open each WebSocket as an HTTP/2 extended CONNECT
                    (RFC 8441; TLS for wss://, h2c for ws://) instead of an upgrade;
                    the cases that probe HTTP/1.1 request handling are left out
  --quick           cap message sizes at 1 MiB and shorten throughput cases
                    (client mode: deflate messages at 64 KiB)
  --agent NAME      name of the implementation under test, used in reports
  --timeout MS      per-case timeout (default ${DEFAULT_TIMEOUT_MS}; large transfers get at least 60000)
  -h, --help        show this help

Exit code: 0 when no case FAILED, 1 when any did, 2 on usage or connection errors.
`;

interface Parsed {
  mode: 'server' | 'client' | 'help';
  url?: string;
  port?: number;
  cases: string[];
  exclude: string[];
  report: string | null;
  quick: boolean;
  http2: boolean;
  agent?: string;
  timeoutMs?: number;
}

class UsageError extends Error {}

export function parseArgs(argv: readonly string[]): Parsed {
  const args = argv[0] === 'conformance' ? argv.slice(1) : [...argv];
  const p: Parsed = { mode: 'help', cases: [], exclude: [], report: 'conformance-report', quick: false, http2: false };
  if (args.length === 0 || args.includes('-h') || args.includes('--help')) return p;
  const mode = args.shift();
  if (mode !== 'server' && mode !== 'client') throw new UsageError(`unknown mode ${JSON.stringify(mode)}; expected "server" or "client"`);
  p.mode = mode;
  while (args.length) {
    const raw = args.shift()!;
    const eq = raw.indexOf('=');
    const flag = eq > 0 ? raw.slice(0, eq) : raw;
    const value = (): string => {
      const v = eq > 0 ? raw.slice(eq + 1) : args.shift();
      if (v === undefined || v === '') throw new UsageError(`${flag} needs a value`);
      return v;
    };
    switch (flag) {
      case '--url': p.url = value(); break;
      case '--port': {
        const n = Number(value());
        if (!Number.isInteger(n) || n < 0 || n > 65535) throw new UsageError('--port must be an integer between 0 and 65535');
        p.port = n;
        break;
      }
      case '--cases': p.cases.push(...splitPatterns([value()])); break;
      case '--exclude': p.exclude.push(...splitPatterns([value()])); break;
      case '--report': p.report = value(); break;
      case '--no-report': p.report = null; break;
      case '--quick': p.quick = true; break;
      case '--http2': p.http2 = true; break;
      case '--agent': p.agent = value(); break;
      case '--timeout': {
        const n = Number(value());
        if (!Number.isFinite(n) || n <= 0) throw new UsageError('--timeout must be a positive number of milliseconds');
        p.timeoutMs = n;
        break;
      }
      default: throw new UsageError(`unknown option ${flag}`);
    }
  }
  if (p.mode === 'server' && !p.url) throw new UsageError('server mode needs --url ws://host:port/path');
  if (p.mode === 'client' && p.port === undefined) throw new UsageError('client mode needs --port N');
  if (p.mode === 'client' && p.http2) throw new UsageError('--http2 is for server mode');
  return p;
}

function summaryLine(r: SuiteResult): string {
  return VERDICTS.map((v) => `${r.summary[v]} ${v}`).join(', ');
}

/** Entry point for `sockwire conformance ...`; resolves to the process exit code. */
export async function conformanceCommand(argv: string[], io: CliIo = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  let p: Parsed;
  try {
    p = parseArgs(argv);
  } catch (e) {
    if (!(e instanceof UsageError)) throw e;
    io.stderr.write(`sockwire conformance: ${e.message}\n\n${HELP}`);
    return 2;
  }
  if (p.mode === 'help') {
    io.stdout.write(HELP);
    return 0;
  }
  try {
    if (p.mode === 'client') {
      const { runClientCommand } = await import('./client-mode.js');
      return await runClientCommand(p.port!, { cases: p.cases, exclude: p.exclude, report: p.report, timeoutMs: p.timeoutMs ?? DEFAULT_TIMEOUT_MS, quick: p.quick }, io);
    }
    const progress = new Progress(io.stdout);
    const result = await runServerSuite({
      url: p.url!,
      cases: p.cases,
      exclude: p.exclude,
      quick: p.quick,
      http2: p.http2,
      ...(p.timeoutMs === undefined ? {} : { timeoutMs: p.timeoutMs }),
      agent: p.agent ?? p.url!,
      onStart: (n) => progress.start(n),
      onCase: (r, done) => progress.update(r, done),
    });
    progress.finish();
    io.stdout.write(`${result.cases.length} cases in ${(result.durationMs / 1000).toFixed(1)} s: ${summaryLine(result)}\n`);
    for (const c of result.cases) if (c.verdict === 'FAILED') io.stdout.write(`  FAILED ${c.id}: ${c.reason}\n`);
    if (p.report !== null) {
      const files = await writeReports(result, p.report);
      io.stdout.write(`reports: ${files.json}, ${files.html}\n`);
    }
    return result.summary.FAILED > 0 ? 1 : 0;
  } catch (e) {
    io.stderr.write(`sockwire conformance: ${e instanceof Error ? e.message : String(e)}\n`);
    return 2;
  }
}
