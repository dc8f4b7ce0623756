import { cluster as loadCluster } from '../builtins.js';

const cluster = loadCluster();
import { readFileSync } from 'node:fs';
import type { Broker } from '../pubsub/broker.js';
import { ClusterBroker, ClusterRelay } from '../pubsub/cluster-broker.js';
import { WebSocketServer } from '../server/websocket-server.js';
import type { WebSocket } from '../websocket/websocket.js';
import { UsageError, parseArgs, type Io } from './args.js';

export const SERVE_HELP = `Usage: sockwire serve [options]
       sockwire echo [options]          (same as: serve --mode echo)

Runs a WebSocket server and logs connections and closes.

Options:
  --port N            port to listen on (default 8080; 0 picks a free one)
  --host HOST         address to bind (default: all)
  --mode MODE         echo | broadcast | chat | pubsub (default echo)
                        echo: every message comes back with its type (for conformance runs)
                        broadcast: every message goes to every client
                        chat: like broadcast, prefixed with the sender's name
                        pubsub: clients speak sockwire.pubsub.v1 (docs/pubsub-v1.md): subscribe,
                        publish and resume on any topic (sockwire bench --pubsub drives it)
  --history P=SIZE[/TTL]  with --mode pubsub: keep the last SIZE messages (each for TTL ms, if
                        given) of topic P, or of every topic starting with P when P ends with *;
                        repeatable (e.g. --history 'h:*=10000'); other topics keep none
  --tls-cert FILE     serve wss:// with this PEM certificate ...
  --tls-key FILE      ... and this PEM key
  --deflate           accept permessage-deflate
  --max-payload N     largest message in bytes (default 16777216; 0 = unlimited)
  --workers N         run N worker processes sharing the port (node:cluster); broadcast and
                        chat messages reach the clients of every worker (a ClusterBroker in each
                        worker, a ClusterRelay in the primary)
  --redis URL         share broadcast and chat topics with every sockwire server on this Redis
                        (redis://[[user]:password@]host[:port][/db], rediss:// for TLS); needs
                        the 'redis' package installed next to sockwire (npm install redis)
  --redis-cluster URL[,URL...]
                      the same over a Redis Cluster: the URLs of some of its nodes, comma-
                        separated (the others are found); each topic goes to its slot's master
  --quiet             do not log connections
  -h, --help          show this help
`;

const SPEC = {
  port: { type: 'number' },
  host: { type: 'string' },
  mode: { type: 'string' },
  'tls-cert': { type: 'string' },
  'tls-key': { type: 'string' },
  deflate: { type: 'boolean' },
  'max-payload': { type: 'number' },
  workers: { type: 'number' },
  redis: { type: 'string' },
  'redis-cluster': { type: 'string' },
  history: { type: 'string', repeat: true },
  quiet: { type: 'boolean' },
  help: { type: 'boolean', short: 'h' },
} as const;

/** What `serve` leaves running: the server (in-process runs), and how to stop everything it started. */
export interface Served {
  code: number;
  server?: WebSocketServer;
  /** Graceful stop: clients closed with 1001, the broker closed, workers waited for. */
  stop?: () => Promise<void>;
}

/** Set in the environment of the workers `--workers` forks, so the same command line knows its role. */
const WORKER_ENV = 'SOCKWIRE_SERVE_WORKER';
/** The primary's request to a worker to shut down (a signal might reach only the primary). */
const SHUTDOWN = { sockwire: 'serve', op: 'shutdown' } as const;

/** Starts the server; resolves with it once listening (so tests and the CLI can stop it). */
export async function serveCommand(argv: string[], io: Io, defaultMode = 'echo'): Promise<Served> {
  const { options, positionals } = parseArgs(argv, SPEC);
  if (options.help) {
    io.stdout.write(SERVE_HELP);
    return { code: 0 };
  }
  if (positionals.length > 0) throw new UsageError(`unexpected argument ${positionals[0]}`);
  const mode = (options.mode as string | undefined) ?? defaultMode;
  if (!['echo', 'broadcast', 'chat', 'pubsub'].includes(mode)) throw new UsageError(`--mode must be echo, broadcast, chat or pubsub, got ${mode}`);
  const history = parseHistoryRules((options.history as string[] | undefined) ?? []);
  if (history !== undefined && mode !== 'pubsub') throw new UsageError('--history goes with --mode pubsub');
  const cert = options['tls-cert'] as string | undefined;
  const key = options['tls-key'] as string | undefined;
  if ((cert === undefined) !== (key === undefined)) throw new UsageError('--tls-cert and --tls-key go together');
  const port = (options.port as number | undefined) ?? 8080;
  if (!Number.isInteger(port) || port < 0 || port > 65535) throw new UsageError(`--port must be 0-65535, got ${port}`);
  const maxPayload = options['max-payload'] as number | undefined;
  const workers = options.workers as number | undefined;
  if (workers !== undefined && (!Number.isInteger(workers) || workers < 1 || workers > 1024)) {
    throw new UsageError(`--workers must be a whole number from 1 to 1024, got ${workers}`);
  }
  const redisUrl = options.redis as string | undefined;
  const isRedisUrl = (url: string): boolean => /^rediss?:\/\/[^/]/.test(url);
  if (redisUrl !== undefined && !isRedisUrl(redisUrl)) throw new UsageError(`--redis must be a redis:// or rediss:// URL, got ${JSON.stringify(redisUrl)}`);
  const rootNodes = (options['redis-cluster'] as string | undefined)?.split(',').map((url) => url.trim());
  if (rootNodes && redisUrl !== undefined) throw new UsageError('--redis and --redis-cluster: give one of them');
  const badNode = rootNodes?.find((url) => !isRedisUrl(url));
  if (badNode !== undefined) throw new UsageError(`--redis-cluster takes redis:// or rediss:// URLs separated by commas, got ${JSON.stringify(badNode)}`);
  const redis = redisUrl !== undefined ? { url: redisUrl } : rootNodes ? { rootNodes } : undefined;
  const scheme = cert ? 'wss' : 'ws';
  const host = (options.host as string | undefined) ?? 'localhost';

  const inWorker = cluster.isWorker && process.env[WORKER_ENV] === '1';
  if (workers !== undefined && !inWorker) return runPrimary(workers, redis === undefined, io, `sockwire ${mode} server listening on ${scheme}://${host}:`);

  // The broker that carries broadcast/chat topics to the other processes: Redis if asked,
  // else the cluster's relay in a worker, else none (the in-process default).
  let broker: Broker | undefined;
  if (redis !== undefined) {
    const made = await loadRedisBroker(redis, io);
    if (!made) return { code: 1 };
    broker = made;
  } else if (inWorker) {
    broker = new ClusterBroker();
  }
  const distributed = broker !== undefined;
  const tag = inWorker ? `[worker ${cluster.worker!.id}] ` : '';
  const log = options.quiet ? () => {} : (line: string) => io.stdout.write(`${new Date().toISOString()} ${tag}${line}\n`);

  const wss = new WebSocketServer({
    port,
    ...(options.host !== undefined ? { host: options.host as string } : {}),
    ...(cert !== undefined && key !== undefined ? { tls: { cert: readFileSync(cert), key: readFileSync(key) } } : {}),
    perMessageDeflate: options.deflate === true,
    ...(maxPayload !== undefined ? { maxPayload } : {}),
    ...(broker ? { broker } : {}),
    ...(mode === 'pubsub' ? { pubsub: true as const, ...(history ? { history } : {}) } : {}),
  });
  try {
    await new Promise<void>((resolve, reject) => {
      wss.once('listening', resolve);
      wss.once('error', reject);
    });
  } catch (err) {
    await broker?.close();
    const line = listenErrorLine(err as NodeJS.ErrnoException, port, options.host as string | undefined);
    if (inWorker) {
      // Every worker fails alike: the primary prints one of their lines, once.
      if (line !== null && process.connected) process.send!({ sockwire: 'serve', op: 'listen-failed', line });
      process.disconnect();
      if (line !== null) return { code: 1 };
    }
    if (line === null) throw err;
    io.stderr.write(`sockwire: ${line}\n`);
    return { code: 1 };
  }
  const address = wss.address();
  const actualPort = typeof address === 'object' && address !== null ? address.port : port;
  if (inWorker) io.stdout.write(`${tag}pid ${process.pid} listening\n`);
  else io.stdout.write(`sockwire ${mode} server listening on ${scheme}://${host}:${actualPort}${redis ? ' (topics on Redis)' : ''}\n`);
  // Which process a client landed on (the worker, or one of several servers on one Redis).
  if (distributed) wss.on('headers', (headers: string[]) => headers.push(`X-Sockwire-Pid: ${process.pid}`));

  let nextId = 1;
  wss.on('connection', (socket: WebSocket, req) => {
    const id = nextId++;
    // Chat names must not collide across processes sharing the topic.
    const name = distributed ? `${process.pid}#${id}` : `#${id}`;
    const peer = `${req.socket.remoteAddress ?? '?'}:${req.socket.remotePort ?? '?'}`;
    const opened = `${name} open ${peer} ${req.url ?? ''}${socket.protocol ? ` protocol=${socket.protocol}` : ''}${socket.extensions ? ` extensions=${socket.extensions}` : ''}`;
    if (mode === 'echo' || mode === 'pubsub') {
      // pubsub: the server's sockwire.pubsub.v1 session handles every frame of the socket.
      log(opened);
    } else {
      // broadcast and chat are topics, so a broker carries them to every process; the log
      // line comes once the subscription is in force there (scripts and tests wait for it).
      socket.subscribe(mode);
      if (broker) void broker.settled().then(() => log(opened));
      else log(opened);
    }
    socket.on('message', (data: Buffer, isBinary: boolean) => {
      if (mode === 'pubsub') return;
      if (mode === 'echo') socket.send(data, { binary: isBinary });
      else wss.publish(mode, mode === 'chat' && !isBinary ? `${name}: ${data.toString()}` : data, { binary: isBinary });
    });
    socket.on('close', (code: number, reason: Buffer) => log(`${name} close ${code}${reason.length ? ` ${reason.toString()}` : ''}`));
  });

  let stopping: Promise<void> | undefined;
  const stop = (): Promise<void> =>
    (stopping ??= (async () => {
      await wss.shutdown();
      await broker?.close(); // passed in, so shutdown() leaves it to us
      if (inWorker && process.connected) process.disconnect();
    })());
  if (inWorker) {
    // The primary asks; a terminal's Ctrl-C reaches every worker too. Later signals must not
    // kill a worker mid-way through its graceful stop, so the handlers stay installed.
    process.on('message', (msg: unknown) => {
      if (typeof msg === 'object' && msg !== null && (msg as { op?: unknown }).op === SHUTDOWN.op && (msg as { sockwire?: unknown }).sockwire === 'serve') void stop();
    });
    for (const signal of ['SIGINT', 'SIGTERM'] as const) process.on(signal, () => void stop());
  }
  return { code: 0, server: wss, stop };
}

/** `--history P=SIZE[/TTL]` rules as the server's `history` option (undefined when none given). */
function parseHistoryRules(rules: string[]): Record<string, { size: number; ttl?: number }> | undefined {
  if (rules.length === 0) return undefined;
  const out: Record<string, { size: number; ttl?: number }> = {};
  for (const rule of rules) {
    const m = /^(.+)=(\d+)(?:\/(\d+))?$/.exec(rule);
    const size = m ? Number(m[2]) : 0;
    if (!m || size < 1 || !Number.isSafeInteger(size)) throw new UsageError(`--history must look like PATTERN=SIZE or PATTERN=SIZE/TTL_MS (SIZE ≥ 1), got ${JSON.stringify(rule)}`);
    out[m[1]!] = m[3] !== undefined ? { size, ttl: Number(m[3]) } : { size };
  }
  return out;
}

/**
 * One line for the listen errors a user can fix (the port is taken, or needs privileges): which
 * port and how to pick another. Null for anything else, which the CLI reports as it comes.
 */
function listenErrorLine(err: NodeJS.ErrnoException, port: number, host: string | undefined): string | null {
  const where = `port ${port}${host !== undefined ? ` on ${host}` : ''}`;
  if (err.code === 'EADDRINUSE') return `${where} is already in use; pick another with --port N (--port 0 picks a free one)`;
  if (err.code === 'EACCES') return `no permission to listen on ${where}; pick a port above 1023 with --port N (--port 0 picks a free one)`;
  if (err.code === 'EADDRNOTAVAIL') return `cannot listen on ${where}: no such local address; pick another with --host`;
  return null;
}

/** `sockwire/redis` needs the optional `redis` package: one clear line if it is missing. */
async function loadRedisBroker(where: { url: string } | { rootNodes: string[] }, io: Io): Promise<Broker | undefined> {
  let mod: typeof import('../redis/index.js');
  try {
    mod = await import('../redis/index.js');
  } catch (err) {
    const e = err as NodeJS.ErrnoException;
    if (e.code === 'ERR_MODULE_NOT_FOUND' && /'redis'/.test(e.message)) {
      io.stderr.write("sockwire: --redis needs the 'redis' package: run `npm install redis` where sockwire is installed\n");
      return undefined;
    }
    throw err;
  }
  const broker = new mod.RedisBroker(where);
  const name = 'url' in where ? `Redis at ${where.url}` : `the Redis Cluster at ${where.rootNodes.join(',')}`;
  broker.on('error', () => {}); // reconnection is the broker's job; 'down'/'up' say what it cost
  broker.on('down', () => io.stderr.write(`sockwire: ${name} unreachable; messages to other servers are dropped until it is back\n`));
  broker.on('up', () => io.stderr.write(`sockwire: ${name} reachable\n`));
  return broker;
}

/**
 * The primary of `--workers N`: forks the workers (same command line, same port: node:cluster
 * shares it), relays their topics (unless Redis does), reports once all listen, and on a
 * signal asks each to shut down gracefully and waits for them.
 */
async function runPrimary(count: number, relay: boolean, io: Io, banner: string): Promise<Served> {
  if (relay) new ClusterRelay();
  // 'advanced' IPC: the cluster broker's batches cross as bytes, not base64 text (see cluster-broker.ts).
  cluster.setupPrimary({ exec: process.argv[1]!, args: process.argv.slice(2), serialization: 'advanced' });
  let stopping = false;
  const forked = Array.from({ length: count }, () => cluster.fork({ [WORKER_ENV]: '1' }));
  // A worker that cannot listen says why (e.g. the port is in use); the first reason is reported.
  let failure: string | undefined;
  const onFailed = (_w: unknown, msg: unknown): void => {
    const m = msg as { sockwire?: unknown; op?: unknown; line?: unknown } | null;
    if (typeof m === 'object' && m !== null && m.sockwire === 'serve' && m.op === 'listen-failed' && typeof m.line === 'string') failure ??= m.line;
  };
  cluster.on('message', onFailed);
  const port = await new Promise<number>((resolve, reject) => {
    let listening = 0;
    const onListening = (_w: unknown, address: { port: number }): void => {
      if (++listening === count) {
        cluster.off('listening', onListening);
        cluster.off('exit', onEarlyExit);
        cluster.off('message', onFailed);
        resolve(address.port);
      }
    };
    const onEarlyExit = (): void => {
      cluster.off('listening', onListening);
      cluster.off('exit', onEarlyExit);
      cluster.off('message', onFailed);
      stopping = true;
      for (const w of forked) w.process.kill('SIGKILL');
      reject(new Error(failure ?? 'a worker exited before listening'));
    };
    cluster.on('listening', onListening);
    cluster.on('exit', onEarlyExit);
  });
  io.stdout.write(`${banner}${port} (${count} workers)\n`);
  cluster.on('exit', (worker, code, signal) => {
    if (stopping) return;
    io.stderr.write(`sockwire: worker ${worker.id} exited (${signal ?? code})\n`);
    if (Object.keys(cluster.workers ?? {}).length === 0) process.exit(1);
  });
  const stop = async (): Promise<void> => {
    stopping = true;
    await Promise.all(
      forked.map((w) => {
        if (w.isDead()) return undefined;
        const exited = new Promise((r) => w.once('exit', r));
        if (w.isConnected()) w.send(SHUTDOWN);
        else w.process.kill('SIGTERM');
        return exited;
      }),
    );
  };
  return { code: 0, stop };
}
