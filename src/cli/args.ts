/** A small argument parser: `--name value`, `--name=value`, boolean `--flag`, repeatable options. */

export class UsageError extends Error {}

export interface OptionSpec {
  type: 'string' | 'number' | 'boolean';
  repeat?: boolean;
  short?: string;
}

export interface ParsedArgs {
  positionals: string[];
  options: Record<string, string | number | boolean | string[] | undefined>;
}

export function parseArgs(argv: readonly string[], spec: Record<string, OptionSpec>): ParsedArgs {
  const out: ParsedArgs = { positionals: [], options: {} };
  const byShort = new Map(Object.entries(spec).filter(([, s]) => s.short).map(([n, s]) => [s.short!, n]));
  for (let i = 0; i < argv.length; i++) {
    const arg = argv[i]!;
    if (arg === '--') {
      out.positionals.push(...argv.slice(i + 1));
      break;
    }
    if (!arg.startsWith('-') || arg === '-') {
      out.positionals.push(arg);
      continue;
    }
    let name: string;
    let inline: string | undefined;
    if (arg.startsWith('--')) {
      const eq = arg.indexOf('=');
      name = eq === -1 ? arg.slice(2) : arg.slice(2, eq);
      inline = eq === -1 ? undefined : arg.slice(eq + 1);
    } else {
      const long = byShort.get(arg.slice(1));
      if (long === undefined) throw new UsageError(`unknown option ${arg}`);
      name = long;
    }
    const s = spec[name];
    if (s === undefined) throw new UsageError(`unknown option --${name}`);
    let value: string | number | boolean;
    if (s.type === 'boolean') {
      if (inline !== undefined && inline !== 'true' && inline !== 'false') throw new UsageError(`--${name} takes no value`);
      value = inline !== 'false';
    } else {
      const raw = inline ?? argv[++i];
      if (raw === undefined) throw new UsageError(`--${name} needs a value`);
      if (s.type === 'number') {
        value = Number(raw);
        if (!Number.isFinite(value)) throw new UsageError(`--${name} must be a number, got ${JSON.stringify(raw)}`);
      } else {
        value = raw;
      }
    }
    if (s.repeat) ((out.options[name] ??= []) as string[]).push(String(value));
    else out.options[name] = value;
  }
  return out;
}

export interface Io {
  stdout: NodeJS.WritableStream;
  stderr: NodeJS.WritableStream;
}
