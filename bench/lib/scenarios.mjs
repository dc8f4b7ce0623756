// The scenario matrix. Each scenario says which load-generator routine runs,
// how the peer process is started, and which metrics it yields.

const KiB = 1024;
const MiB = 1024 * KiB;

export const sizeLabel = (n) => (n >= MiB ? `${n / MiB}MiB` : n >= KiB ? `${n / KiB}KiB` : `${n}B`);

const THROUGHPUT = [
  { key: 'msgsPerSec', label: 'msgs/s', better: 'higher' },
  { key: 'mbPerSec', label: 'MB/s', better: 'higher' },
];

/**
 * Messages kept in flight per connection: enough to keep the server busy
 * (so we measure it, not round trips), bounded so that all connections
 * together never have more than ~16 MiB outstanding.
 */
export function pipelineWindow(size, conns) {
  return Math.max(1, Math.min(64, Math.floor((16 * MiB) / (size * conns))));
}

function echo(conns, size, text) {
  return {
    id: `echo c${conns} ${sizeLabel(size)} ${text ? 'text' : 'bin'}`,
    kind: 'echo',
    mode: 'echo',
    loadgen: { kind: 'echo', conns, size, text, window: pipelineWindow(size, conns), compress: false },
    metrics: THROUGHPUT,
  };
}

/** Compressed scenarios send deterministic generated JSON (`makeJsonPayload`), as APIs and chats do. */
function compressed(conns, size) {
  return {
    id: `deflate echo c${conns} ${sizeLabel(size)} text`,
    kind: 'echo',
    mode: 'echo',
    compress: true,
    loadgen: { kind: 'echo', conns, size, text: true, json: true, window: pipelineWindow(size, conns), compress: true },
    metrics: THROUGHPUT,
  };
}

/** The library's client compressing (context kept, as negotiated by default) to a sink that only counts. */
function clientCompressed(size) {
  return {
    id: `client deflate send ${sizeLabel(size)} text`,
    kind: 'client',
    loadgen: { kind: 'sink', size, compress: true },
    client: { size, text: true, json: true, compress: true },
    metrics: THROUGHPUT,
  };
}

function latency(size, text) {
  return {
    id: `latency ${sizeLabel(size)} ${text ? 'text' : 'bin'}`,
    kind: 'echo',
    mode: 'echo',
    loadgen: { kind: 'latency', size, text },
    metrics: [
      { key: 'p50us', label: 'p50 µs', better: 'lower' },
      { key: 'p99us', label: 'p99 µs', better: 'lower' },
    ],
  };
}

/**
 * Connect + handshake + close, `concurrency` at a time. Plain, it measures a fresh process in the
 * run's warm-up and window (a second or few): what a server just restarted into a reconnect storm
 * sees. `warm` first runs the load for `WARM_HANDSHAKES_MS`: handshakes per second still climb for
 * seconds — raw net's by a quarter, sockwire's (more code for V8 to tier up, one call per
 * connection) by half and more — so the steady state of a long-running server needs its own row.
 */
const WARM_HANDSHAKES_MS = 6000;
function handshakes(concurrency, warm = false) {
  return {
    id: `handshakes x${concurrency}${warm ? ' warm' : ''}`,
    kind: 'echo',
    mode: 'echo',
    loadgen: { kind: 'handshakes', concurrency },
    ...(warm ? { minWarmupMs: WARM_HANDSHAKES_MS } : {}),
    metrics: [{ key: 'handshakesPerSec', label: 'handshakes/s', better: 'higher' }],
  };
}

function idle(conns) {
  return {
    id: `idle memory ${conns} conns`,
    kind: 'echo',
    mode: 'echo',
    loadgen: { kind: 'idle', conns },
    metrics: [
      { key: 'rssPerConnKiB', label: 'RSS KiB/conn', better: 'lower' },
      { key: 'heapPerConnKiB', label: 'heap+ext KiB/conn', better: 'lower' },
    ],
  };
}

function broadcast(subscribers, size) {
  return {
    id: `broadcast ${subscribers} subs ${sizeLabel(size)}`,
    kind: 'echo',
    mode: 'broadcast',
    loadgen: { kind: 'broadcast', subscribers, size, text: true, window: 32 },
    metrics: [{ key: 'deliveredPerSec', label: 'delivered/s', better: 'higher' }],
  };
}

function clientSend(size, text) {
  return {
    id: `client send ${sizeLabel(size)} ${text ? 'text' : 'bin'}`,
    kind: 'client',
    loadgen: { kind: 'sink', size },
    client: { size, text },
    metrics: THROUGHPUT,
  };
}

export function scenarios({ quick, idleConns }) {
  if (quick) {
    return [
      echo(1, 16, false),
      echo(256, 16, false),
      echo(16, KiB, true),
      echo(16, 64 * KiB, false),
      echo(1, MiB, false),
      latency(16, false),
      handshakes(8),
      handshakes(8, true),
      idle(idleConns ?? 1000),
      broadcast(100, 128),
      broadcast(1000, 128),
      clientSend(KiB, false),
      clientSend(64 * KiB, false),
      compressed(16, 16 * KiB),
    ];
  }
  const list = [];
  for (const conns of [1, 16, 256]) {
    for (const size of [16, KiB, 64 * KiB, MiB]) {
      // 256 connections × 1 MiB would mean 256 MiB in flight on a shared box.
      if (conns * size > 64 * MiB) continue;
      for (const text of [false, true]) list.push(echo(conns, size, text));
    }
  }
  list.push(latency(16, false), latency(KiB, true));
  list.push(handshakes(8), handshakes(8, true));
  list.push(idle(idleConns ?? 10_000));
  list.push(broadcast(100, 128), broadcast(1000, 128));
  for (const size of [16, KiB, 64 * KiB, MiB]) list.push(clientSend(size, false));
  list.push(clientSend(KiB, true));
  list.push(compressed(16, KiB), compressed(16, 16 * KiB), compressed(16, 64 * KiB));
  list.push(clientCompressed(KiB), clientCompressed(16 * KiB), clientCompressed(64 * KiB));
  return list;
}
