import { UsageError, type Io } from './args.js';

export async function benchCommand(argv: string[], io: Io): Promise<number> {
  if (argv.includes('--help') || argv.includes('-h')) {
    io.stdout.write('Usage: sockwire bench URL [--connections N] [--size BYTES] [--duration S]\n');
    return 0;
  }
  throw new UsageError('bench is not available yet');
}
