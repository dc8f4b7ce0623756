"""Drives Python `websockets` (10.4) as a client through sockwire's client mode.

Usage: python3 test/conformance/peers/py-client-driver.py ws://127.0.0.1:PORT AGENT
Follows the Autobahn driver convention: /getCaseCount, /runCase?case=N&agent=A, /updateReports.
"""
import asyncio
import sys

import websockets


async def echo_session(url, echo=True):
    got = []
    try:
        async with websockets.connect(url, max_size=None, compression=None, open_timeout=10) as ws:
            async for message in ws:
                got.append(message)
                if echo:
                    await ws.send(message)
    except Exception:
        # Refusing a broken handshake or failing the connection is what many cases expect.
        pass
    return got


async def main():
    base, agent = sys.argv[1].rstrip("/"), sys.argv[2]
    count = int((await echo_session(f"{base}/getCaseCount", echo=False))[0])
    for n in range(1, count + 1):
        await echo_session(f"{base}/runCase?case={n}&agent={agent}")
    await echo_session(f"{base}/updateReports?agent={agent}", echo=False)
    print(f"ran {count} cases", flush=True)


asyncio.run(main())
