import fc from 'fast-check';

/** A message as the application sees it: the bytes and whether it is binary. */
export interface Msg {
  binary: boolean;
  data: Buffer;
}

/** Sizes with weight on the frame-length encoding boundaries (125/126, 65535/65536). */
export const messageSize = fc.oneof(
  { weight: 4, arbitrary: fc.nat({ max: 300 }) },
  { weight: 3, arbitrary: fc.constantFrom(0, 1, 124, 125, 126, 127, 1023, 1024, 1025, 65535, 65536, 65537) },
  { weight: 1, arbitrary: fc.integer({ min: 300, max: 70000 }) },
);

/**
 * Exactly `size` bytes of UTF-8 text built from `seed`, an arbitrary Unicode string: it is
 * repeated, cut back to a character boundary and padded with ASCII.
 */
export function textOfSize(seed: string, size: number): Buffer {
  const unit = Buffer.from(seed, 'utf8');
  if (unit.length === 0) return Buffer.alloc(size, 0x61);
  const bytes = Buffer.alloc(size, 0x61);
  for (let o = 0; o < size; o += unit.length) unit.copy(bytes, o, 0, Math.min(unit.length, size - o));
  // Back up over a character cut by the end, then pad it away with ASCII.
  let end = size;
  let k = size - 1;
  while (k >= 0 && size - k <= 4 && (bytes[k]! & 0xc0) === 0x80) k--;
  if (k >= 0) {
    const lead = bytes[k]!;
    const len = lead < 0x80 ? 1 : lead < 0xe0 ? 2 : lead < 0xf0 ? 3 : 4;
    if (k + len > size) end = k;
  }
  bytes.fill(0x61, end);
  return bytes;
}

/** Deterministic filler for large binary payloads (fast-check need not generate 70 kB). */
export function binaryOfSize(seed: number, size: number): Buffer {
  const out = Buffer.allocUnsafe(size);
  let x = seed | 1;
  for (let i = 0; i < size; i++) {
    x ^= x << 13;
    x ^= x >>> 17;
    x ^= x << 5;
    out[i] = x & 0xff;
  }
  return out;
}

export const message: fc.Arbitrary<Msg> = fc.oneof(
  fc.tuple(fc.string({ unit: 'grapheme', minLength: 1, maxLength: 8 }), messageSize).map(([seed, size]) => ({
    binary: false,
    data: textOfSize(seed, size),
  })),
  // Short text straight from arbitrary strings (lone surrogates excluded: they are not UTF-8).
  fc.string({ unit: 'grapheme', maxLength: 40 }).map((s) => ({ binary: false, data: Buffer.from(s, 'utf8') })),
  fc.tuple(fc.integer(), messageSize).map(([seed, size]) => ({ binary: true, data: binaryOfSize(seed, size) })),
);

/** Fragment sizes: none (0), tiny, around the boundaries, or random. */
export const fragmentSize = fc.oneof(
  fc.constant(0),
  fc.constantFrom(1, 2, 3, 125, 126, 1000, 65535, 65536),
  fc.integer({ min: 1, max: 5000 }),
);

/** At most ~this many frames per message, so 1-byte fragments of a 70 kB message stay cheap. */
export function boundedFragmentSize(fragment: number, size: number): number {
  return fragment === 0 ? 0 : Math.max(fragment, Math.ceil(size / 400));
}

/** How a byte stream is cut into transport chunks. */
export type Chunking = { kind: 'fixed'; size: number } | { kind: 'cuts'; cuts: number[] } | { kind: 'whole' };

export const chunking: fc.Arbitrary<Chunking> = fc.oneof(
  fc.constant<Chunking>({ kind: 'whole' }),
  fc.constantFrom(1, 2, 3, 5, 13, 125, 126, 127, 1000, 4096, 65536).map((size): Chunking => ({ kind: 'fixed', size })),
  fc.array(fc.nat({ max: 1 << 20 }), { maxLength: 40 }).map((cuts): Chunking => ({ kind: 'cuts', cuts })),
);

/**
 * Cuts `bytes` into chunks (fresh copies, as a socket would deliver them). 1-byte chunking of
 * a very long stream is capped at 7-byte chunks to keep runs fast; short streams get 1-byte.
 */
export function chunksOf(bytes: Buffer, c: Chunking): Buffer[] {
  const out: Buffer[] = [];
  if (c.kind === 'whole') {
    out.push(Buffer.from(bytes));
  } else if (c.kind === 'fixed') {
    const size = c.size < 7 && bytes.length > 40000 ? 7 : c.size;
    for (let i = 0; i < bytes.length; i += size) out.push(Buffer.from(bytes.subarray(i, i + size)));
  } else {
    const points = [...new Set(c.cuts.map((x) => x % (bytes.length + 1)))].sort((a, b) => a - b);
    let last = 0;
    for (const p of [...points, bytes.length]) {
      if (p <= last) continue;
      out.push(Buffer.from(bytes.subarray(last, p)));
      last = p;
    }
  }
  return out;
}
