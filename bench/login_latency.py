#!/usr/bin/env python3
"""Login latency and server memory: sequential logins against a running `toso serve`.

Usage: python3 bench/login_latency.py [BASE_URL] [USERNAME] [PASSWORD] [N]
Start the server first (bash scripts/run.sh). Prints median/p90 latency and the server's RSS
before and after (read from /proc for the local `toso serve` process).
"""
import json
import statistics
import subprocess
import sys
import time
import urllib.request

base = sys.argv[1] if len(sys.argv) > 1 else "http://127.0.0.1:8080"
user = sys.argv[2] if len(sys.argv) > 2 else "admin"
password = sys.argv[3] if len(sys.argv) > 3 else "demo-admin-2025"
n = int(sys.argv[4]) if len(sys.argv) > 4 else 50


def rss_kb():
    try:
        pid = subprocess.check_output(["pgrep", "-f", "toso serve"], text=True).split()[0]
        with open(f"/proc/{pid}/status") as f:
            for line in f:
                if line.startswith("VmRSS"):
                    return int(line.split()[1])
    except Exception:
        return None


def login():
    body = json.dumps({"username": user, "password": password}).encode()
    req = urllib.request.Request(f"{base}/api/v1/auth/login", data=body,
                                 headers={"content-type": "application/json"})
    t = time.perf_counter()
    with urllib.request.urlopen(req) as r:
        r.read()
    return (time.perf_counter() - t) * 1000


before = rss_kb()
times = sorted(login() for _ in range(n))
after = rss_kb()
print(f"| logins (sequential) | {n} |")
print(f"| login median ms | {statistics.median(times):.1f} |")
print(f"| login p90 ms | {times[int(n * 0.9) - 1]:.1f} |")
print(f"| server RSS before / after, MB | {before and before / 1024:.1f} / {after and after / 1024:.1f} |")
