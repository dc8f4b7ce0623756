/**
 * The `sockwire` command: serve, echo, connect, conformance, bench.
 */
import { conformanceCommand } from '../conformance/cli.js';
import { UsageError, type Io } from './args.js';
import { connectCommand } from './connect.js';
import { driveCommand } from './drive.js';
import { serveCommand } from './serve.js';

export const HELP = `Usage: sockwire <command> [options]

Commands:
  serve          run a WebSocket server (echo, broadcast or chat), logging connections
  echo           an echo server for conformance runs (serve --mode echo)
  connect URL    an interactive terminal client, like wscat
  conformance    the Autobahn-style conformance suite against a server or a client
                 ('conformance drive' runs sockwire's client against a fuzzing server)
  bench URL      an echo load generator: msg/s, MB/s and latency percentiles
  bench --pubsub URL[,URL...]
                 a pub/sub load generator that checks delivery (gaps, duplicates, lost)

Run 'sockwire <command> --help' for a command's options.
`;

export async function main(argv: string[], io: Io = { stdout: process.stdout, stderr: process.stderr }): Promise<number> {
  const [command, ...rest] = argv;
  try {
    switch (command) {
      case undefined:
      case '-h':
      case '--help':
      case 'help':
        io.stdout.write(HELP);
        return command === undefined ? 2 : 0;
      case 'serve':
      case 'echo': {
        const { code, stop } = await serveCommand(rest, io, 'echo');
        // On a signal, close the clients too (1001), not only the listening socket as ws's close()
        // does; with --workers, the primary asks every worker to do so and waits for them.
        if (stop) await waitForSignal(stop);
        return code;
      }
      case 'connect':
        return await connectCommand(rest, io);
      case 'conformance':
        // 'drive' runs sockwire's own client; the suite itself never imports sockwire.
        if (rest[0] === 'drive') return await driveCommand(rest.slice(1), io);
        return await conformanceCommand(rest, io);
      case 'bench': {
        const { benchCommand } = await import('./bench.js');
        return await benchCommand(rest, io);
      }
      default:
        throw new UsageError(`unknown command ${JSON.stringify(command)}`);
    }
  } catch (err) {
    if (err instanceof UsageError) {
      io.stderr.write(`sockwire: ${err.message}\nRun 'sockwire ${command && !command.startsWith('-') ? `${command} ` : ''}--help' for usage.\n`);
      return 2;
    }
    io.stderr.write(`sockwire: ${(err as Error).message}\n`);
    return 1;
  }
}

function waitForSignal(stop: () => Promise<void>): Promise<void> {
  return new Promise((resolve) => {
    const onSignal = (): void => {
      process.removeListener('SIGINT', onSignal);
      process.removeListener('SIGTERM', onSignal);
      void stop().then(resolve);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
  });
}
