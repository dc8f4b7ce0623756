/**
 * `sockwire bench URL`: an echo load generator. The parts live in ./bench/: options, raw
 * connections, the run loop, the histogram and the text/JSON/HTML reports.
 */
import { constants } from 'node:fs';
import { access, writeFile } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { UsageError, type Io } from './args.js';
import { BENCH_HELP, parseBenchArgs } from './bench/options.js';
import { htmlReport } from './bench/report-html.js';
import { buildJsonReport } from './bench/report-json.js';
import { runBench, type RunHooks } from './bench/run.js';
import { progressLine, summaryText } from './bench/text.js';

export { BENCH_HELP } from './bench/options.js';

export async function benchCommand(argv: string[], io: Io, signal?: AbortSignal): Promise<number> {
  // --pubsub URL[,URL...]: the delivery-checking pub/sub load generator (bench-pubsub.ts).
  if (argv.some((a) => a === '--pubsub' || a.startsWith('--pubsub='))) {
    const { benchPubsubCommand } = await import('./bench-pubsub.js');
    return await benchPubsubCommand(argv, io, signal);
  }
  const cli = parseBenchArgs(argv);
  if (cli.help || cli.options === undefined) {
    io.stdout.write(BENCH_HELP);
    return 0;
  }
  const opts = cli.options;
  // Find out now, not after the whole run, that a report cannot be written.
  for (const file of [cli.json, cli.html]) {
    if (file === undefined) continue;
    try {
      await access(dirname(resolve(file)), constants.W_OK);
    } catch {
      throw new UsageError(`cannot write ${file}: its directory does not exist or is not writable`);
    }
  }
  const tty = (io.stdout as { isTTY?: boolean }).isTTY === true;
  let lineShown = false;
  const hooks: RunHooks = {
    onProgress(p) {
      const line = progressLine(p);
      if (tty) {
        // \r and clear-to-end-of-line rewrite one status line in place.
        io.stdout.write(`\r${line}\x1b[K`);
        lineShown = true;
      } else {
        io.stdout.write(`${line}\n`);
      }
    },
  };

  // Ctrl-C ends the measurement early and still prints what was measured, unless a caller
  // (a test, an embedding program) brought its own signal.
  let controller: AbortController | undefined;
  const onSigint = (): void => controller?.abort();
  if (signal === undefined) {
    controller = new AbortController();
    hooks.signal = controller.signal;
    process.once('SIGINT', onSigint);
  } else {
    hooks.signal = signal;
  }
  io.stdout.write(`opening ${opts.connections} connection${opts.connections === 1 ? '' : 's'} to ${opts.url}\n`);
  let result;
  try {
    result = await runBench(opts, hooks);
  } finally {
    if (controller !== undefined) process.removeListener('SIGINT', onSigint);
  }
  if (lineShown) io.stdout.write('\n');

  if (result.opened === 0) {
    const why = result.errorMessages[0]?.message ?? 'unknown error';
    io.stderr.write(`sockwire bench: could not open any connection to ${opts.url}: ${why}\n`);
    return 1;
  }
  const report = buildJsonReport(opts, result);
  io.stdout.write(summaryText(report));
  if (cli.json !== undefined) {
    await writeFile(cli.json, `${JSON.stringify(report, null, 2)}\n`);
    io.stdout.write(`JSON report: ${cli.json}\n`);
  }
  if (cli.html !== undefined) {
    await writeFile(cli.html, htmlReport(report));
    io.stdout.write(`HTML report: ${cli.html}\n`);
  }
  if (result.messages === 0 && hooks.signal?.aborted) {
    io.stderr.write('sockwire bench: stopped before any round trip was measured\n');
    return 1;
  }
  if (result.messages === 0) {
    io.stderr.write(`sockwire bench: no reply came back from ${opts.url} while measuring; is it an echo server?\n`);
    return 1;
  }
  return 0;
}
