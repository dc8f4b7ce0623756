/**
 * `sockwire bench --pubsub URL[,URL...]`: a delivery-checking load generator for
 * sockwire.pubsub.v1 servers. The parts: options, payload stamps and per-stream checks, chaos
 * commands, the run, the report (bench-pubsub-*.ts).
 */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError, type Io } from './args.js';
import { BENCH_PUBSUB_HELP, parsePubsubBenchArgs } from './bench-pubsub-options.js';
import { buildPubsubReport, pubsubSummaryText } from './bench-pubsub-report.js';
import { ConnectError, runPubsubBench } from './bench-pubsub-run.js';

export { BENCH_PUBSUB_HELP } from './bench-pubsub-options.js';

export async function benchPubsubCommand(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  const cli = parsePubsubBenchArgs(argv);
  if (cli.help || cli.options === undefined) {
    io.stdout.write(BENCH_PUBSUB_HELP);
    return 0;
  }
  const opts = cli.options;
  if (cli.json !== undefined) {
    try {
      await access(dirname(resolve(cli.json)), constants.W_OK);
    } catch {
      throw new UsageError(`cannot write ${cli.json}: its directory does not exist or is not writable`);
    }
  }
  // Ctrl-C ends publishing early; the drain and the report still happen.
  let controller: AbortController | undefined;
  const onSigint = (): void => controller?.abort();
  if (signal === undefined) {
    controller = new AbortController();
    signal = controller.signal;
    process.once('SIGINT', onSigint);
  }
  const clients = opts.publishers + opts.subscribers;
  io.stdout.write(`connecting ${clients} clients (sockwire.pubsub.v1) to ${opts.urls.join(', ')}\n`);
  let result;
  try {
    result = await runPubsubBench(opts, { signal, onLine: (line) => io.stdout.write(`${line}\n`) });
  } catch (err) {
    if (err instanceof ConnectError) {
      io.stderr.write(`sockwire bench: ${err.message}\n`);
      return 1;
    }
    throw err;
  } finally {
    if (controller !== undefined) process.removeListener('SIGINT', onSigint);
  }
  const report = buildPubsubReport(opts, result);
  io.stdout.write(pubsubSummaryText(report));
  if (cli.json !== undefined) {
    await writeFile(cli.json, `${JSON.stringify(report, null, 2)}\n`);
    io.stdout.write(`JSON report: ${cli.json}\n`);
  }
  if (!report.verdict.ok) {
    io.stderr.write(`sockwire bench: ${report.verdict.lostWithHistory} acknowledged message(s) lost on topics with history\n`);
    return 3;
  }
  return 0;
}
