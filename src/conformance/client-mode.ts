import type { CliIo } from './cli.js';

export interface ClientCommandOptions {
  cases: string[];
  exclude: string[];
  report: string | null;
  timeoutMs: number;
}

export async function runClientCommand(_port: number, _opts: ClientCommandOptions, io: CliIo): Promise<number> {
  io.stderr.write('client mode is not implemented yet\n');
  return 2;
}
