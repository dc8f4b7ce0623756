/**
 * Reusable blocks for the masked payload bytes of large client frames. A masked payload must be
 * a copy (the caller's buffer is not ours to scramble), and a fresh large buffer per message
 * costs more than the masking: its pages are mapped and zeroed by the kernel on first touch
 * (tens to hundreds of µs per 64 KiB on a busy machine, against ~1 µs to fill a warm block).
 * Blocks only ever go to the transport, never to the application, so once the transport has
 * reported a block written it can be filled again.
 */
export const BLOCK_SIZE = 64 * 1024;
/** Free blocks kept for reuse (2 MiB per process at most); more are left to the GC. */
const MAX_FREE = 32;
const free: Buffer[] = [];

/** A block to fill; its old contents are garbage. */
export function takeBlock(): Buffer {
  return free.pop() ?? Buffer.allocUnsafeSlow(BLOCK_SIZE);
}

/** Hands blocks back once the transport is done with them (never while a write may still read them). */
export function giveBlocks(blocks: readonly Buffer[]): void {
  for (let i = 0; i < blocks.length && free.length < MAX_FREE; i++) free.push(blocks[i]!);
}

/** Free blocks held now (for tests). */
export function freeBlockCount(): number {
  return free.length;
}
