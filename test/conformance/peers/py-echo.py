"""Reference echo server on Python `websockets` (Debian python3-websockets 10.4).

Usage: python3 test/conformance/peers/py-echo.py [port] [--deflate]   (prints "listening <port>")
"""
import asyncio
import sys

import websockets


async def echo(ws, path=None):
    try:
        async for message in ws:
            await ws.send(message)
    except websockets.ConnectionClosed:
        pass


async def main():
    args = [a for a in sys.argv[1:] if not a.startswith("--")]
    port = int(args[0]) if args else 0
    compression = "deflate" if "--deflate" in sys.argv else None
    # No size limit: the suite's 9.x cases measure throughput up to 16 MiB.
    async with websockets.serve(echo, "127.0.0.1", port, max_size=None, compression=compression) as server:
        actual = server.sockets[0].getsockname()[1]
        print(f"listening {actual}", flush=True)
        await asyncio.Future()


asyncio.run(main())
