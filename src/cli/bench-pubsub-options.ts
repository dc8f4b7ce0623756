/** `sockwire bench --pubsub` arguments: parsed, checked and turned into PubsubBenchOptions, or a UsageError. */
import { parseWsUrl } from '../client/url.js';
import { UsageError, parseArgs } from './args.js';
import { STAMP_BYTES } from './bench-pubsub-stamp.js';

export const BENCH_PUBSUB_HELP = `Usage: sockwire bench --pubsub URL[,URL...] [options]

A delivery-checking load generator for sockwire.pubsub.v1 servers (e.g. sockwire serve
--mode pubsub [--history 'h:*=10000'] [--redis URL]). N publishers publish on T topics; M
subscribers each subscribe to one topic; clients are spread over the URLs in turn and, when a
connection drops, reconnect to the next URL and resume (sockwire/pubsub-client's TopicClient).
Every payload starts with a stamp (publisher id, sequence number, send time), so each subscriber
checks every publisher's sequence on its topic end to end: gaps, duplicates, reorders, lost.

Options:
  --publishers N      publishing clients (default 2, at most 1000)
  --subscribers M     subscribing clients (default 8, at most 10000); subscriber j takes topic j mod T
  --topics T|LIST     a count (topics PREFIX0 ... PREFIX<T-1>) or a comma-separated list of names,
                        e.g. h:a,h:b,p:a,p:b to mix topics with and without history (default 2)
  --topic-prefix P    prefix of counted topic names (default bench:)
  --size BYTES        payload size, stamp included (default 64, ${STAMP_BYTES} to 16777216)
  --rate R            total publishes per second over all publishers (default: as fast as
                        acknowledgements allow, --window per publisher)
  --window K          publishes awaiting their acknowledgement per publisher (default 16, at most 1000)
  --duration S        seconds of publishing (default 10)
  --drain S           after publishing stops, wait up to S seconds for acknowledgements,
                        reconnections and recoveries before counting (default 5)
  --chaos "CMD@S"     run shell command CMD S seconds into the run (repeatable), e.g.
                        --chaos "kill -9 4242@3" --chaos "redis-cli -p 6380 shutdown nosave@5"
  --connect-timeout MS  time allowed for every client to connect and subscribe (default 10000)
  --json FILE         write the results as JSON (schemaVersion 1), every subscriber included
  -h, --help          show this help

What the counts mean (per subscriber, per publisher's stream on its topic):
  expected     messages the publishers sent on the topic while it was subscribed (all of them:
               publishing starts once every subscriber is subscribed)
  received     distinct messages that arrived; recovered: of those, delivered by a catch-up from
               history after a reconnect or a repaired gap
  lost         sent, acknowledged by the server, never arrived
  unconfirmed  never arrived, but its publish was not acknowledged (the publisher's connection
               dropped first, or the server answered dropped): it may never have been published
  gaps         times a sequence number arrived before earlier ones (a jump forward)
  reorders     arrivals that filled such a jump later; duplicates: arrivals seen before
Topics with history should show lost 0 whatever the chaos, as long as the outage fits the
history window (a resync means it did not); topics without history are at most once.
Latency (p50/p99/p99.9) is from send to arrival of live messages; recovered ones are counted apart.
Exit status: 0 after a run, 3 when a topic with history lost a message, 1 when the clients could
not connect, 2 for bad arguments.
`;

const SPEC = {
  pubsub: { type: 'string' },
  publishers: { type: 'number' },
  subscribers: { type: 'number' },
  topics: { type: 'string' },
  'topic-prefix': { type: 'string' },
  size: { type: 'number', short: 's' },
  rate: { type: 'number', short: 'r' },
  window: { type: 'number', short: 'w' },
  duration: { type: 'number', short: 'd' },
  drain: { type: 'number' },
  chaos: { type: 'string', repeat: true },
  'connect-timeout': { type: 'number' },
  json: { type: 'string' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** A shell command to run `atS` seconds into the run. */
export interface ChaosSpec {
  command: string;
  atS: number;
}

export interface PubsubBenchOptions {
  urls: string[];
  publishers: number;
  subscribers: number;
  topics: string[];
  size: number;
  /** Total publishes/s; undefined: as fast as the windows allow. */
  rate: number | undefined;
  window: number;
  durationS: number;
  drainS: number;
  chaos: ChaosSpec[];
  connectTimeoutMs: number;
}

export interface PubsubBenchCli {
  help: boolean;
  options?: PubsubBenchOptions;
  json?: string | undefined;
}

/** `"CMD@S"`: the last @ separates the command from its time (a command may contain @). */
export function parseChaos(spec: string): ChaosSpec {
  const at = spec.lastIndexOf('@');
  const command = at === -1 ? '' : spec.slice(0, at).trim();
  const atS = at === -1 ? NaN : Number(spec.slice(at + 1));
  if (command === '' || spec.slice(at + 1).trim() === '' || !Number.isFinite(atS) || atS < 0) {
    throw new UsageError(`--chaos must look like "COMMAND@SECONDS", e.g. "kill -9 4242@3", got ${JSON.stringify(spec)}`);
  }
  return { command, atS };
}

export function parsePubsubBenchArgs(argv: readonly string[]): PubsubBenchCli {
  // Before parsing: in `bench --pubsub --help`, --help would otherwise be taken as the URL list.
  if (argv.includes('--help') || argv.includes('-h')) return { help: true };
  const { options: o, positionals } = parseArgs(argv, SPEC);
  if (o.help) return { help: true };
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]} (server URLs go after --pubsub, comma-separated)`);
  const list = (o.pubsub as string | undefined) ?? '';
  const urls = list.split(',').map((u) => u.trim()).filter((u) => u !== '');
  if (urls.length === 0) throw new UsageError('--pubsub needs one or more server URLs, e.g. --pubsub ws://localhost:8080/');
  const checked = urls.map((u) => {
    try {
      return parseWsUrl(u).href;
    } catch (err) {
      throw new UsageError(`${JSON.stringify(u)}: ${(err as Error).message}`);
    }
  });
  const int = (name: string, dflt: number, min: number, max: number): number => {
    const v = (o[name] as number | undefined) ?? dflt;
    if (!Number.isInteger(v) || v < min || v > max) throw new UsageError(`--${name} must be a whole number from ${min} to ${max}, got ${v}`);
    return v;
  };
  const seconds = (name: string, dflt: number, min: number): number => {
    const v = (o[name] as number | undefined) ?? dflt;
    if (!(v >= min) || v > 86400) throw new UsageError(`--${name} must be from ${min} to 86400 seconds, got ${v}`);
    return v;
  };
  const topicArg = (o.topics as string | undefined) ?? '2';
  let topics: string[];
  if (/^\d+$/.test(topicArg)) {
    const n = Number(topicArg);
    if (n < 1 || n > 10000) throw new UsageError(`--topics must be from 1 to 10000, got ${n}`);
    const prefix = (o['topic-prefix'] as string | undefined) ?? 'bench:';
    topics = Array.from({ length: n }, (_, i) => `${prefix}${i}`);
  } else {
    if (o['topic-prefix'] !== undefined) throw new UsageError('--topic-prefix goes with a topic count, not a list of names');
    topics = topicArg.split(',').map((t) => t.trim());
    if (topics.some((t) => t === '')) throw new UsageError(`--topics has an empty name: ${JSON.stringify(topicArg)}`);
    if (new Set(topics).size !== topics.length) throw new UsageError(`--topics names a topic twice: ${JSON.stringify(topicArg)}`);
  }
  for (const t of topics) if (Buffer.byteLength(t) > 255) throw new UsageError(`topic ${JSON.stringify(t.slice(0, 40))}… is longer than 255 bytes`);
  const durationS = seconds('duration', 10, 0.1);
  const rate = o.rate === undefined ? undefined : (o.rate as number);
  if (rate !== undefined && !(rate > 0 && rate <= 1e7)) throw new UsageError(`--rate must be more than 0 and at most 10000000, got ${rate}`);
  const chaos = ((o.chaos as string[] | undefined) ?? []).map(parseChaos);
  for (const c of chaos) if (c.atS >= durationS) throw new UsageError(`--chaos "${c.command}" at ${c.atS} s would run after publishing stops (--duration ${durationS})`);
  const json = o.json as string | undefined;
  if (json === '') throw new UsageError('--json needs a file name');
  return {
    help: false,
    json,
    options: {
      urls: checked,
      publishers: int('publishers', 2, 1, 1000),
      subscribers: int('subscribers', 8, 1, 10000),
      topics,
      size: int('size', 64, STAMP_BYTES, 16 * 1024 * 1024),
      rate,
      window: int('window', 16, 1, 1000),
      durationS,
      drainS: seconds('drain', 5, 0),
      chaos,
      connectTimeoutMs: int('connect-timeout', 10000, 1, 600000),
    },
  };
}
