import { runExample } from './spawn-example.js';

export interface Finished {
  code: number | null;
  output: string;
}

/** Runs an example that exits by itself and resolves with its exit code and output; kills it after `ms`. */
export async function runToExit(script: string, args: string[] = [], ms = 15_000): Promise<Finished> {
  const running = runExample(script, args);
  const timer = setTimeout(() => running.child.kill('SIGKILL'), ms);
  try {
    const code = await new Promise<number | null>((resolve) => {
      if (running.child.exitCode !== null) resolve(running.child.exitCode);
      else running.child.once('exit', (c) => resolve(c));
    });
    return { code, output: running.output() };
  } finally {
    clearTimeout(timer);
  }
}
