// The permessage-deflate codec alone, in one process: CPU time per message (process.cpuUsage,
// so zlib's thread-pool work counts too) to compress and to decompress deterministic JSON
// (makeJsonPayload) of 1, 16 and 64 KiB, with and without context takeover, one message at a
// time as one connection sends them. Loads the codec from SOCKWIRE_DIST (default dist/), so two
// builds can be compared run against run (interleave them: the machine is shared).
//
//   node bench/deflate-codec.mjs [--messages N] [--rounds N]
import { pathToFileURL, fileURLToPath } from 'node:url';
import { parseArgs } from 'node:util';
import { makeJsonPayload } from './lib/frames.mjs';

const { values: args } = parseArgs({ options: { messages: { type: 'string', default: '2000' }, rounds: { type: 'string', default: '3' } } });
const root = fileURLToPath(new URL('../', import.meta.url));
const dist = process.env.SOCKWIRE_DIST ?? `${root}dist`;
const { createDeflateCodec } = await import(pathToFileURL(`${dist}/extensions/permessage-deflate.js`).href);

const agreement = (takeover) => ({
  serverNoContextTakeover: !takeover,
  clientNoContextTakeover: !takeover,
  serverMaxWindowBits: 15,
  clientMaxWindowBits: 15,
});

/**
 * Runs `n` operations one after another (each waits for the previous callback). A callback
 * may come synchronously (one-shot paths): the loop then continues instead of recursing.
 */
function sequential(n, op) {
  return new Promise((resolve, reject) => {
    let i = 0;
    let inLoop = false;
    let pending = false;
    const loop = () => {
      inLoop = true;
      while (i < n) {
        pending = true;
        i++;
        op(done);
        if (pending) break; // asynchronous: done() resumes the loop
      }
      inLoop = false;
      if (i === n && !pending) resolve();
    };
    const done = (err) => {
      if (err) return reject(err);
      pending = false;
      if (!inLoop) loop();
    };
    loop();
  });
}

async function measure(n, op) {
  await sequential(Math.min(200, n), op); // warm-up
  const c0 = process.cpuUsage();
  await sequential(n, op);
  const c = process.cpuUsage(c0);
  return (c.user + c.system) / n;
}

const median = (xs) => [...xs].sort((a, b) => a - b)[Math.floor((xs.length - 1) / 2)];
const n = Number(args.messages);
const rows = [];
for (const size of [1024, 16 * 1024, 64 * 1024]) {
  // Distinct messages cycle through a few offsets of a long JSON text, so takeover finds history
  // but not the same message again.
  const long = makeJsonPayload(size * 9);
  const messages = Array.from({ length: 8 }, (_, i) => long.subarray(i * size, (i + 1) * size));
  for (const takeover of [true, false]) {
    const samples = { compress: [], decompress: [] };
    for (let r = 0; r < Number(args.rounds); r++) {
      const sender = createDeflateCodec('server', agreement(takeover));
      let k = 0;
      samples.compress.push(await measure(n, (cb) => sender.compress(messages[k++ % 8], cb)));
      sender.close();
      // The receiver gets what one continuing sender would send: compress the sequence once.
      const source = createDeflateCodec('server', agreement(takeover));
      const wire = [];
      for (let i = 0; i < 8 * 4; i++) wire.push(await new Promise((res, rej) => source.compress(messages[i % 8], (e, out) => (e ? rej(e) : res(Buffer.from(out))))));
      source.close();
      if (!takeover) wire.length = 8;
      const receiver = createDeflateCodec('client', agreement(takeover));
      let j = 0;
      // With takeover the receiver must see the sender's sequence in order: replay it from the
      // start each time it wraps (a fresh receiver per pass).
      let rx = receiver;
      samples.decompress.push(
        await measure(n, (cb) => {
          if (j === wire.length) {
            rx.close();
            rx = createDeflateCodec('client', agreement(takeover));
            j = 0;
          }
          rx.decompress(wire[j++], true, 0, cb);
        }),
      );
      rx.close();
    }
    rows.push({ size, takeover, compress: median(samples.compress), decompress: median(samples.decompress) });
  }
}
console.log(`# deflate codec, ${process.version}, ${dist}, ${n} messages × ${args.rounds} rounds (median CPU µs per message)`);
console.log('| size | takeover | compress µs | decompress µs |');
console.log('| ---: | --- | ---: | ---: |');
for (const r of rows) console.log(`| ${r.size / 1024} KiB | ${r.takeover ? 'yes' : 'no'} | ${r.compress.toFixed(1)} | ${r.decompress.toFixed(1)} |`);
