#!/usr/bin/python3
"""Echo server peer for sockwire's interop tests, on Python `websockets` (asyncio API, 10.x).

Listens on 127.0.0.1 on a random port and reports JSON lines on stdout:
  {"event":"listening","port":N}
  {"event":"connection","id":N,"path":...,"protocol":...,"extensions":...}
  {"event":"closed","id":N,"path":...,"code":N,"reason":...}
Echoes every message with the same type. A text message `cmd:{json}` is a command
(see test/peers/commands.ts): close with code/reason, ping, or shut the server down.
Exits when stdin reaches EOF, so it cannot outlive the test process that spawned it.
"""
import argparse
import asyncio
import json
import signal
import sys
import threading

import websockets

CMD_PREFIX = "cmd:"


def emit(obj):
    sys.stdout.write(json.dumps(obj) + "\n")
    sys.stdout.flush()


async def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--subprotocol", action="append", default=[])
    parser.add_argument("--no-compression", action="store_true")
    args = parser.parse_args()

    loop = asyncio.get_running_loop()
    stop = loop.create_future()
    next_id = 0
    server = None

    def request_stop():
        if not stop.done():
            stop.set_result(None)

    async def handler(ws, *_legacy_path):
        nonlocal next_id
        next_id += 1
        conn_id = next_id
        emit({
            "event": "connection",
            "id": conn_id,
            "path": ws.path,
            "protocol": ws.subprotocol or "",
            "extensions": ws.response_headers.get("Sec-WebSocket-Extensions", ""),
        })
        try:
            async for message in ws:
                if isinstance(message, str) and message.startswith(CMD_PREFIX):
                    await run_command(ws, json.loads(message[len(CMD_PREFIX):]))
                else:
                    await ws.send(message)
        except websockets.ConnectionClosed:
            pass
        # Wait for the closing handshake so close_code is what the peer actually sent.
        await ws.wait_closed()
        emit({
            "event": "closed",
            "id": conn_id,
            "path": ws.path,
            "code": ws.close_code,
            "reason": ws.close_reason or "",
        })

    async def run_command(ws, cmd):
        op = cmd.get("op")
        if op == "close":
            await ws.close(cmd["code"], cmd["reason"])
        elif op == "ping":
            waiter = await ws.ping(cmd["data"].encode("utf-8"))
            await waiter
            await ws.send("pong:" + cmd["data"])
        elif op == "shutdown":
            # Closing from inside a handler would wait on this very handler: let it return first.
            loop.call_soon(server.close)
        else:
            await ws.send("error:unknown command " + json.dumps(cmd))

    server = await websockets.serve(
        handler,
        "127.0.0.1",
        0,
        subprotocols=args.subprotocol or None,
        compression=None if args.no_compression else "deflate",
        max_size=None,
        ping_interval=None,
    )
    port = server.sockets[0].getsockname()[1]
    emit({"event": "listening", "port": port})

    for sig in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(sig, request_stop)

    def watch_stdin():
        sys.stdin.read()
        loop.call_soon_threadsafe(request_stop)

    threading.Thread(target=watch_stdin, daemon=True).start()

    await asyncio.wait([stop, asyncio.ensure_future(server.wait_closed())], return_when=asyncio.FIRST_COMPLETED)
    server.close()
    try:
        await asyncio.wait_for(server.wait_closed(), 5)
    except asyncio.TimeoutError:
        pass


if __name__ == "__main__":
    asyncio.run(main())
