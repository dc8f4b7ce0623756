#!/usr/bin/python3
"""Client peer for sockwire's interop tests, on Python `websockets` (asyncio API, 10.x).

Usage: py_client.py URL [SCENARIO_JSON]   (scenario read from stdin when not on argv)
Runs the scripted scenario (see test/peers/scenario.ts) and prints one JSON result on stdout.
"""
import asyncio
import hashlib
import json
import sys

import websockets

SHORT_TEXT = 256


async def within(awaitable, timeout, what):
    try:
        return await asyncio.wait_for(awaitable, timeout)
    except asyncio.TimeoutError:
        raise RuntimeError("timed out waiting for " + what) from None


def make_payload(spec):
    if spec["kind"] == "text":
        return spec["text"] * spec.get("repeat", 1)
    start = spec.get("start", 0)
    return bytes((start + i) & 0xFF for i in range(spec["seq"]))


def record_of(message):
    data = message.encode("utf-8") if isinstance(message, str) else message
    rec = {
        "type": "text" if isinstance(message, str) else "binary",
        "length": len(data),
        "sha256": hashlib.sha256(data).hexdigest(),
    }
    # JS counts UTF-16 code units; astral characters count twice there.
    if isinstance(message, str) and len(message.encode("utf-16-le")) // 2 <= SHORT_TEXT:
        rec["text"] = message
    return rec


async def run(url, scenario):
    result = {"protocol": "", "extensions": "", "messages": [], "pongs": [], "close": None}
    timeout = scenario.get("timeoutMs", 10000) / 1000
    protocols = scenario.get("protocols") or None
    ws = await within(
        websockets.connect(url, subprotocols=protocols, max_size=None, ping_interval=None, close_timeout=5),
        timeout,
        "the opening handshake",
    )
    result["protocol"] = ws.subprotocol or ""
    result["extensions"] = ws.response_headers.get("Sec-WebSocket-Extensions", "")
    received = asyncio.Condition()

    async def reader():
        try:
            async for message in ws:
                async with received:
                    result["messages"].append(record_of(message))
                    received.notify_all()
        except websockets.ConnectionClosed:
            pass
        async with received:
            received.notify_all()

    reader_task = asyncio.create_task(reader())

    def close_record():
        # 1006 is what websockets reports when no close frame arrived: that is not clean.
        return {
            "code": ws.close_code,
            "reason": ws.close_reason or "",
            "wasClean": ws.close_code is not None and ws.close_code != 1006,
        }

    try:
        for step in scenario["steps"]:
            op = step["op"]
            if op == "send":
                await ws.send(make_payload(step["payload"]))
            elif op == "expect":
                async with received:
                    await within(
                        received.wait_for(
                            lambda: len(result["messages"]) >= step["count"] or reader_task.done()
                        ),
                        timeout,
                        "%d messages (got %d)" % (step["count"], len(result["messages"])),
                    )
                if len(result["messages"]) < step["count"]:
                    raise RuntimeError(
                        "connection closed after %d of %d messages" % (len(result["messages"]), step["count"])
                    )
            elif op == "ping":
                waiter = await ws.ping(step["data"].encode("utf-8"))
                await within(waiter, timeout, "pong")
                result["pongs"].append(step["data"])
            elif op == "close":
                await within(ws.close(step.get("code", 1000), step.get("reason", "")), timeout, "close")
                result["close"] = close_record()
            elif op == "waitClose":
                await within(ws.wait_closed(), timeout, "server close")
                result["close"] = close_record()
            else:
                raise RuntimeError("unknown step " + json.dumps(step))
    except Exception as exc:  # reported, not raised: the harness asserts on it
        result["error"] = "%s: %s" % (type(exc).__name__, exc)
    finally:
        await ws.close()
        await reader_task
    return result


def main():
    url = sys.argv[1]
    scenario = json.loads(sys.argv[2] if len(sys.argv) > 2 else sys.stdin.read())
    try:
        result = asyncio.run(run(url, scenario))
    except Exception as exc:  # e.g. a refused handshake: still one JSON result
        result = {"protocol": "", "extensions": "", "messages": [], "pongs": [], "close": None,
                  "error": "%s: %s" % (type(exc).__name__, exc)}
    sys.stdout.write(json.dumps(result) + "\n")


if __name__ == "__main__":
    main()
