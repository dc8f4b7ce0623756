// Types for frames.mjs, so TypeScript tests can import the load generator's helpers.
export declare const GUID: string;
export declare const FIXED_MASK: Buffer;
export declare function acceptKey(key: string): string;
export declare function maskInto(src: Uint8Array, mask: Uint8Array, dst: Uint8Array, offset?: number): Uint8Array;
export declare function buildFrame(
  opcode: number,
  payload: Buffer,
  options?: { masked?: boolean; rsv1?: boolean; fin?: boolean },
): Buffer;
export declare function serverHeader(opcode: number, length: number, rsv1?: boolean): Buffer;
export declare function buildBatch(frame: Buffer, count: number): Buffer;
export declare function deflateMessage(payload: Buffer): Buffer;
export declare function makePayload(size: number, text: boolean): Buffer;
export declare class FrameCounter {
  messages: number;
  controls: number;
  closed: boolean;
  payloadBytes: number;
  /** Returns the number of messages completed by this chunk. */
  push(chunk: Buffer): number;
}
