/**
 * The control messages every echo-server peer (py_echo_server.py, echo-server.ts) understands.
 *
 * A text message starting with `cmd:` followed by JSON is a command instead of being echoed.
 * Commands are in-band so that a client in another process (or a browser page) can steer the
 * server at the exact point of its scenario, without a side channel.
 */
import type { PayloadSpec } from './scenario.js';
import { text } from './scenario.js';

export const CMD_PREFIX = 'cmd:';

export type Command =
  /** Server closes this connection with the given code and reason. */
  | { op: 'close'; code: number; reason: string }
  /** Server pings with `data`; when the pong arrives it sends the text `pong:<data>`. */
  | { op: 'ping'; data: string }
  /** Server shuts down as a whole (going away, 1001 to every client). */
  | { op: 'shutdown' };

export const command = (c: Command): PayloadSpec => text(CMD_PREFIX + JSON.stringify(c));

export function parseCommand(message: string): Command | null {
  if (!message.startsWith(CMD_PREFIX)) return null;
  return JSON.parse(message.slice(CMD_PREFIX.length)) as Command;
}

/** What the server reports about each connection, in-process or as JSON lines on stdout. */
export type ServerEvent =
  | { event: 'listening'; port: number }
  | { event: 'connection'; id: number; path: string; protocol: string; extensions: string }
  | { event: 'closed'; id: number; path: string; code: number; reason: string };
