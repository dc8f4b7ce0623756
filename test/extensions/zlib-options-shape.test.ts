import { spawnSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';

// The options handed to zlib for every one-shot inflate and deflate must share one V8 map from
// call to call. Built as `{ ...base, key }` with a key `base` lacks, V8 11 (Node 20) gave each
// such object a map of its own, and zlib's reads of it then missed every inline cache: a 1 KiB
// inflate took twice as long (bench/RESULTS.md, "Object shapes"). Only `%HaveSameMap` can see
// it, so the check runs in a child with --allow-natives-syntax, on the built package; on V8 12+
// the old code passes too, so it is Node 20's run of the suite that guards this.
const root = new URL('../../', import.meta.url).pathname;

const CHILD = `
import zlib from 'node:zlib';
import { createDeflateCodec } from 'sockwire/protocol';
const seen = { inflate: [], deflate: [] };
const inflateRawSync = zlib.inflateRawSync, deflateRawSync = zlib.deflateRawSync;
zlib.inflateRawSync = (b, o) => { seen.inflate.push(o); return inflateRawSync(b, o); };
zlib.deflateRawSync = (b, o) => { seen.deflate.push(o); return deflateRawSync(b, o); };
const run = (f) => new Promise((resolve, reject) => f((err, out) => (err ? reject(err) : resolve(out))));
const results = [];
for (const takeover of [false, true]) {
  seen.inflate.length = 0; seen.deflate.length = 0;
  // No takeover on the compressing side, so every message is deflated in one call; the
  // inflating side keeps the window with takeover (a dictionary from the second message on).
  const agreed = { serverNoContextTakeover: true, clientNoContextTakeover: !takeover, serverMaxWindowBits: 15, clientMaxWindowBits: 15 };
  const server = createDeflateCodec('server', agreed);
  const peer = createDeflateCodec('client', agreed);
  let roundTrips = 0;
  for (let i = 0; i < 40; i++) {
    const text = Buffer.from(JSON.stringify({ i, items: Array.from({ length: 40 }, (_, k) => 'item-' + k) }));
    const wire = await run((cb) => server.compress(text, cb));
    const back = await run((cb) => peer.decompress(wire, true, 0, cb));
    if (back.equals(text)) roundTrips++;
  }
  // V8 11's inline cache gives a fresh map on every call only after its first few: compare late ones.
  const same = (list) => list.length === 40 && list.slice(20).every((o) => %HaveSameMap(o, list[19]) && %HasFastProperties(o));
  results.push({ takeover, roundTrips, deflates: seen.deflate.length, inflates: seen.inflate.length, deflateSameMap: same(seen.deflate), inflateSameMap: same(seen.inflate) });
  server.close?.(); peer.close?.();
}
console.log(JSON.stringify(results));
`;

describe('zlib options for one-shot inflate and deflate', () => {
  // `npm test` builds dist/ before running the tests; a bare `vitest run` may not have.
  it.skipIf(!existsSync(join(root, 'dist/protocol/index.js')))('share one V8 map from call to call (with and without a window to resume)', () => {
    const result = spawnSync(process.execPath, ['--allow-natives-syntax', '--input-type=module', '-e', CHILD], { cwd: root, encoding: 'utf8', timeout: 20_000 });
    expect(result.stderr).toBe('');
    const runs = JSON.parse(result.stdout) as Array<Record<string, unknown>>;
    expect(runs).toEqual([
      { takeover: false, roundTrips: 40, deflates: 40, inflates: 40, deflateSameMap: true, inflateSameMap: true },
      { takeover: true, roundTrips: 40, deflates: 40, inflates: 40, deflateSameMap: true, inflateSameMap: true },
    ]);
  });
});
