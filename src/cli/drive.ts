import { runClientDriver, type BrowserLikeWebSocketCtor } from '../conformance/driver.js';
import { WebSocket } from '../websocket/websocket.js';
import { UsageError, parseArgs, type Io } from './args.js';

export const DRIVE_HELP = `Usage: sockwire conformance drive --url ws://host:port [--agent NAME] [--case-timeout MS]

Drives sockwire's own client through a fuzzing server that speaks the Autobahn client-driver
convention (/getCaseCount, /runCase, /updateReports): 'sockwire conformance client', or the
original Autobahn|Testsuite fuzzingserver where you have it. Every message is echoed back
with its type; the fuzzing server judges and writes the report.
`;

const SPEC = {
  url: { type: 'string' },
  agent: { type: 'string' },
  'case-timeout': { type: 'number' },
  help: { type: 'boolean', short: 'h' },
} as const;

export async function driveCommand(argv: string[], io: Io): Promise<number> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    io.stdout.write(DRIVE_HELP);
    return 0;
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const url = options.url as string | undefined;
  if (!url) throw new UsageError('drive needs --url ws://host:port of the fuzzing server');
  const agent = (options.agent as string | undefined) ?? 'sockwire';
  const { caseCount } = await runClientDriver({
    url,
    agent,
    WebSocket: WebSocket as unknown as BrowserLikeWebSocketCtor,
    ...(options['case-timeout'] !== undefined ? { caseTimeoutMs: options['case-timeout'] as number } : {}),
  });
  io.stdout.write(`drove ${caseCount} cases as agent "${agent}"; the fuzzing server has the verdicts\n`);
  return 0;
}
