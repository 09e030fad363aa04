#!/usr/bin/env python3
"""Times `status` over exsyncd's control socket and checks every stream is on schedule.

Used by bench-load.sh. Speaks the control protocol itself (one JSON object per line: a hello,
then requests), so what it times is the daemon's answer, not a process start:

    bench-load-status.py SOCKET latency N [GAP_MS]   one connection, N `status` requests, each
        timed from the request's write to the last byte of its answer; prints
        `p50 p99 max bytes` (milliseconds, and the size of the last answer)
    bench-load-status.py SOCKET schedule SLACK_S     one `status`: per stream, the age of its
        last success against its interval (the scheduler waits interval + at most 10% jitter
        after a sync ends); prints `streams on_time late failing never max_age_ratio`
"""

import json
import pathlib
import re
import socket
import sys
import time

# The control protocol version this checkout speaks (protocol/src/lib.rs).
PROTOCOL = int(re.search(
    r"PROTOCOL_VERSION: u32 = (\d+);",
    (pathlib.Path(__file__).resolve().parent.parent / "protocol/src/lib.rs").read_text(),
).group(1))


def connect(path):
    sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    sock.connect(path)
    f = sock.makefile("rb", buffering=1 << 20)
    sock.sendall(json.dumps({"protocol": PROTOCOL, "agent": "bench-load"}).encode() + b"\n")
    hello = json.loads(f.readline())
    if hello.get("type") != "hello":
        raise SystemExit(f"no hello from the daemon: {hello}")
    return sock, f


def status(sock, f):
    sock.sendall(b'{"command":"status"}\n')
    return f.readline()


def percentile(sorted_values, p):
    i = min(len(sorted_values) - 1, max(0, int(round(p / 100 * len(sorted_values) + 0.5)) - 1))
    return sorted_values[i]


def latency(path, n, gap_ms):
    sock, f = connect(path)
    times = []
    size = 0
    for _ in range(n):
        t0 = time.perf_counter()
        line = status(sock, f)
        times.append((time.perf_counter() - t0) * 1000)
        size = len(line)
        if gap_ms:
            time.sleep(gap_ms / 1000)
    times.sort()
    print(f"{percentile(times, 50):.2f} {percentile(times, 99):.2f} {times[-1]:.2f} {size}")


def schedule(path, slack_s):
    sock, f = connect(path)
    answer = json.loads(status(sock, f))
    now = time.time() * 1000
    streams = on_time = late = failing = never = 0
    worst = 0.0
    for it in answer["integrations"]:
        for s in it["streams"]:
            if s.get("state") == "unsupported":
                continue
            streams += 1
            if s.get("last_error"):
                failing += 1
            last = s.get("last_success_ms")
            if last is None:
                never += 1
                continue
            interval = s["interval_s"] * 1000
            age = now - last
            worst = max(worst, age / interval)
            if age <= interval * 1.1 + slack_s * 1000:
                on_time += 1
            else:
                late += 1
    print(f"{streams} {on_time} {late} {failing} {never} {worst:.2f}")


def main():
    path, what = sys.argv[1], sys.argv[2]
    if what == "latency":
        latency(path, int(sys.argv[3]), float(sys.argv[4]) if len(sys.argv) > 4 else 0)
    elif what == "schedule":
        schedule(path, float(sys.argv[3]))
    else:
        raise SystemExit(f"unknown mode {what}")


if __name__ == "__main__":
    main()
