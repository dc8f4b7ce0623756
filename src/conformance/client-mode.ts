import { createServer, type AddressInfo, type Server, type Socket } from 'node:net';
import { clientCatalogue } from './client-cases/index.js';
import { ClientCaseContext, type ClientCase } from './client-context.js';
import type { CliIo } from './cli.js';
import { acceptFor, parseRequestHead, type RequestHead } from './http.js';
import { caseLimit, caseResult, outcomeWithin } from './case-run.js';
import { writeReports } from './report-json.js';
import { selectCases } from './select.js';
import { buildFrame, closePayload, OP } from './frames.js';
import { suiteResult, type CaseResult, type SuiteResult } from './types.js';

export interface ClientFuzzerOptions {
  port: number;
  host?: string;
  cases?: string[];
  exclude?: string[];
  timeoutMs?: number;
  /** Cap the deflate cases' messages at 64 KiB (instead of 1 MiB). */
  quick?: boolean;
  /** Where /updateReports writes; null to keep results in memory only. */
  reportDir?: string | null;
  onCase?: (agent: string, r: CaseResult) => void;
}

export interface ClientFuzzer {
  port: number;
  cases: readonly ClientCase[];
  /** Results so far, per agent, in case order. */
  results(agent: string): SuiteResult;
  /** Agents that have run at least one case. */
  agents(): string[];
  close(): Promise<void>;
}

const MAX_REQUEST_HEAD = 16 * 1024;

/**
 * The client-mode judge: a WebSocket server speaking the Autobahn driver convention.
 * /getCaseCount, /getCaseInfo?case=N, /runCase?case=N&agent=A, /updateReports?agent=A.
 */
export async function startClientFuzzer(opts: ClientFuzzerOptions): Promise<ClientFuzzer> {
  const cases = selectCases(clientCatalogue(), opts.cases, opts.exclude);
  const timeoutMs = opts.timeoutMs ?? 10_000;
  const byAgent = new Map<string, Map<string, CaseResult>>();
  const startedAt = new Map<string, Date>();
  const sockets = new Set<Socket>();

  const results = (agent: string): SuiteResult => {
    const got = byAgent.get(agent) ?? new Map<string, CaseResult>();
    const list = cases.map((c) => got.get(c.id)).filter((r): r is CaseResult => r !== undefined);
    const started = startedAt.get(agent) ?? new Date();
    return suiteResult({ agent, target: `client via ws://127.0.0.1:${port}`, mode: 'client', startedAt: started.toISOString(), durationMs: Date.now() - started.getTime() }, list);
  };

  const onRequest = async (sock: Socket, req: RequestHead, rest: Buffer): Promise<void> => {
    const url = new URL(req.target, 'ws://fuzzer');
    const agent = url.searchParams.get('agent') ?? 'unknown';
    switch (url.pathname) {
      case '/getCaseCount':
        return simpleSession(sock, req, String(cases.length));
      case '/getCaseInfo': {
        const c = cases[Number(url.searchParams.get('case')) - 1];
        return simpleSession(sock, req, JSON.stringify(c ? { id: c.id, description: c.description, expectation: c.expectation } : null));
      }
      case '/updateReports': {
        if (opts.reportDir) await writeReports(results(agent), opts.reportDir);
        return simpleSession(sock, req, null);
      }
      case '/runCase': {
        const c = cases[Number(url.searchParams.get('case')) - 1];
        if (!c) return httpError(sock, '404 Not Found', `no case ${url.searchParams.get('case')}`);
        if (!startedAt.has(agent)) startedAt.set(agent, new Date());
        const r = await runClientCase(c, sock, req, rest, timeoutMs, opts.quick ?? false);
        const m = byAgent.get(agent) ?? new Map<string, CaseResult>();
        m.set(c.id, r);
        byAgent.set(agent, m);
        opts.onCase?.(agent, r);
        return;
      }
      default:
        return httpError(sock, '404 Not Found', 'unknown path');
    }
  };

  const server: Server = createServer((sock) => {
    sockets.add(sock);
    sock.on('close', () => sockets.delete(sock));
    sock.on('error', () => undefined);
    let buf = Buffer.alloc(0);
    const onData = (d: Buffer): void => {
      buf = Buffer.concat([buf, d]);
      let req: RequestHead | null;
      try {
        req = parseRequestHead(buf);
      } catch {
        return httpError(sock, '400 Bad Request', 'malformed request');
      }
      if (!req) {
        if (buf.length > MAX_REQUEST_HEAD) httpError(sock, '431 Request Header Fields Too Large', 'request head too large');
        return;
      }
      sock.off('data', onData);
      void onRequest(sock, req, buf.subarray(req.length)).catch(() => sock.destroy());
    };
    sock.on('data', onData);
  });
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(opts.port, opts.host ?? '127.0.0.1', () => resolve());
  });
  const port = (server.address() as AddressInfo).port;
  return {
    port,
    cases,
    results,
    agents: () => [...byAgent.keys()],
    close: () =>
      new Promise<void>((r) => {
        for (const s of sockets) s.destroy();
        server.close(() => r());
      }),
  };
}

function httpError(sock: Socket, status: string, why: string): void {
  sock.end(`HTTP/1.1 ${status}\r\nContent-Type: text/plain\r\nContent-Length: ${Buffer.byteLength(why)}\r\nConnection: close\r\n\r\n${why}`);
}

/** Control endpoints: upgrade, optionally send one text message, close. */
function simpleSession(sock: Socket, req: RequestHead, message: string | null): void {
  const key = req.headers.get('sec-websocket-key')?.[0];
  if (!key) return httpError(sock, '400 Bad Request', 'expected a WebSocket upgrade');
  const parts: Buffer[] = [Buffer.from(`HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${acceptFor(key)}\r\n\r\n`, 'latin1')];
  if (message !== null) parts.push(buildFrame({ opcode: OP.TEXT, payload: message, mask: false }));
  parts.push(buildFrame({ opcode: OP.CLOSE, payload: closePayload(1000), mask: false }));
  sock.write(Buffer.concat(parts));
  // Give the client a moment to answer the close, then close TCP as the server should.
  const timer = setTimeout(() => sock.end(), 1000);
  sock.on('data', () => {
    clearTimeout(timer);
    sock.end();
  });
}

async function runClientCase(c: ClientCase, sock: Socket, req: RequestHead, rest: Buffer, timeoutMs: number, quick: boolean): Promise<CaseResult> {
  const limit = caseLimit(c, timeoutMs);
  const t = new ClientCaseContext(sock, req, rest, limit, quick);
  const started = performance.now();
  const o = await outcomeWithin(limit, () => c.run(t));
  // Let the client see our TCP close before it is torn down for good.
  setTimeout(() => t.cleanup(), 200).unref();
  return caseResult(c, o, started, t.log);
}

export interface ClientCommandOptions {
  cases: string[];
  exclude: string[];
  report: string | null;
  timeoutMs: number;
  quick?: boolean;
}

/**
 * `sockwire conformance client --port N`: serve until interrupted; reports are written on
 * /updateReports. Exits 1 if any agent had a FAILED case, like server mode.
 */
export async function runClientCommand(port: number, opts: ClientCommandOptions, io: CliIo): Promise<number> {
  const fuzzer = await startClientFuzzer({
    port,
    cases: opts.cases,
    exclude: opts.exclude,
    timeoutMs: opts.timeoutMs,
    quick: opts.quick ?? false,
    reportDir: opts.report,
    onCase: (agent, r) => io.stdout.write(`[${agent}] ${r.id} ${r.verdict}${r.verdict === 'OK' ? '' : `: ${r.reason}`}\n`),
  });
  io.stdout.write(
    `client-mode fuzzing server on ws://127.0.0.1:${fuzzer.port} with ${fuzzer.cases.length} cases\n` +
      `  drive your client with /getCaseCount, /runCase?case=N&agent=NAME, /updateReports?agent=NAME\n` +
      `  (or programmatically: runClientDriver from sockwire's conformance driver)\n`,
  );
  await new Promise<void>((resolve) => {
    process.once('SIGINT', resolve);
    process.once('SIGTERM', resolve);
  });
  await fuzzer.close();
  const failedAgents = fuzzer.agents().filter((a) => fuzzer.results(a).summary.FAILED > 0);
  for (const a of fuzzer.agents()) {
    const sum = fuzzer.results(a).summary;
    io.stdout.write(`${a}: ${Object.entries(sum).map(([v, n]) => `${n} ${v}`).join(', ')}\n`);
  }
  return failedAgents.length > 0 ? 1 : 0;
}
