#!/usr/bin/env python3
"""Sync push throughput: 500-log batches from one phone against a running `toso serve`.

Usage: python3 bench/push_throughput.py BASE_URL ADMIN_USER ADMIN_PASSWORD [BATCHES]
Creates a village, a team, a member account and its membership in commune 00004 (through
the API), then pushes BATCHES batches of 500 new logs and one batch of 500 resends, and prints
a results table (median and worst batch time, logs per second).
"""
import json
import statistics
import sys
import time
import urllib.request
import uuid

base, admin_user, admin_password = sys.argv[1], sys.argv[2], sys.argv[3]
batches = int(sys.argv[4]) if len(sys.argv) > 4 else 20
run = uuid.uuid4().hex[:8]


def call(method, path, token=None, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(base + path, data=data, method=method,
                                 headers={"content-type": "application/json"})
    if token:
        req.add_header("authorization", f"Bearer {token}")
    with urllib.request.urlopen(req) as r:
        return json.loads(r.read() or b"null")


def login(user, password):
    return call("POST", "/api/v1/auth/login", body={"username": user, "password": password})["access_token"]


admin = login(admin_user, admin_password)
village = call("POST", "/api/v1/villages", admin, {"name": f"Bench {run}", "kind": "thon", "commune_code": "00004"})
team = call("POST", "/api/v1/teams", admin, {"name": f"Bench team {run}", "commune_code": "00004", "village_id": village["id"]})
password = "bench-phone-sync-kx7-2025"
user = call("POST", "/api/v1/users", admin, {"username": f"bench.{run}", "password": password,
                                             "role": "team_member", "team_id": team["id"]})
call("POST", f"/api/v1/teams/{team['id']}/members", admin,
     {"full_name": "Bench member", "affiliation": "other", "user_id": user["id"], "joined_on": "2025-01-01"})
token = login(f"bench.{run}", password)
# A password set by an officer must be changed by its owner before anything else.
if call("GET", "/api/v1/me", token).get("must_change_password"):
    call("PUT", "/api/v1/me/password", token,
         {"current_password": password, "new_password": password + "-own"})


def batch():
    return [{"op": "create_log", "data": {
        "id": str(uuid.uuid4()), "occurred_at": "2025-10-15T09:30:00+07:00", "village_id": village["id"],
        "category_code": "vneid_level2", "channel": "home_visit", "citizens_helped": 2,
        "citizen_sex": "female", "citizen_age_band": "60_plus", "outcome": "done",
        "note": "Hướng dẫn kích hoạt định danh mức 2"}} for _ in range(500)]


times = []
last = None
for _ in range(batches):
    items = batch()
    body = {"device_id": "bench", "items": items}
    start = time.perf_counter()
    res = call("POST", "/api/v1/sync/push", token, body)
    times.append(time.perf_counter() - start)
    assert res["summary"]["created"] == 500, res["summary"]
    last = body

start = time.perf_counter()
res = call("POST", "/api/v1/sync/push", token, last)
resend = time.perf_counter() - start
assert res["summary"]["duplicate"] == 500, res["summary"]

median = statistics.median(times)
print(f"| batches of 500 new logs | {batches} |")
print(f"| batch time median / worst, ms | {median * 1000:.0f} / {max(times) * 1000:.0f} |")
print(f"| logs per second (median batch) | {500 / median:.0f} |")
print(f"| resend of 500 (all duplicate), ms | {resend * 1000:.0f} |")
