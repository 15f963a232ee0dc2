#!/usr/bin/env python3
"""Seeds a demo province through the public API (so every rule applies): Lai Châu (12) with a
province officer, two communes with their officers, villages, teams, members, a leader account
per team, three months of assistance logs, the communes' population figures, last month's
values of a few programme indicators and the province's targets for them; Xã Bình Lư's last
month is submitted, Xã Sin Suối Hồ's is left as a draft. Skips everything when the demo accounts already exist.

Usage: demo-seed.py BASE_URL   (admin password: TOSO_DEMO_PASSWORD, default demo-admin-2025;
       the demo accounts' password: TOSO_DEMO_USER_PASSWORD, default "so hoa ban lang 2026")
"""
import json
import os
import sys
import time
import urllib.error
import urllib.request
import uuid
from datetime import datetime, timedelta, timezone

BASE = sys.argv[1].rstrip("/") if len(sys.argv) > 1 else "http://127.0.0.1:8080"
ADMIN_PASSWORD = os.environ.get("TOSO_DEMO_PASSWORD", "demo-admin-2025")
PASSWORD = os.environ.get("TOSO_DEMO_USER_PASSWORD", "so hoa ban lang 2026")
VN = timezone(timedelta(hours=7))
PROVINCE = "12"
COMMUNES = {
    "03390": {
        "officer": "xa.binhlu",
        "submit": True,
        "villages": [("Bản Bình Lư", "ban", 212), ("Bản Nà Luồng", "ban", 148),
                     ("Bản Phiêng Phát", "ban", 131), ("Bản Sì Thâu Chải", "ban", 97)],
        # (team name, village index), the last village keeps no team
        "teams": [("Tổ CNS bản Bình Lư", 0), ("Tổ CNS bản Nà Luồng", 1), ("Tổ CNS bản Phiêng Phát", 2)],
    },
    "03394": {
        "officer": "xa.sinsuoiho",
        "submit": False,
        "villages": [("Bản Sin Suối Hồ", "ban", 180), ("Bản Phìn Ngan Sin Chải", "ban", 120)],
        "teams": [("Tổ CNS bản Sin Suối Hồ", 0), ("Tổ CNS bản Phìn Ngan", 1)],
    },
}
NAMES = ["Lò Văn Thắng", "Tao Thị Hoa", "Lù Văn Pằng", "Giàng A Sử", "Vàng Thị Mai", "Lý A Chá",
         "Hoàng Thị Lan", "Sần Văn Hải", "Phàn Thị Dung", "Chẻo A Lử", "Lò Thị Xuân", "Tẩn A Sinh",
         "Đèo Văn Hùng", "Lường Thị Hiền", "Hờ A Tủa"]
AFFILIATIONS = ["village_head", "youth_union", "womens_union", "resident_volunteer", "teacher"]


def call(method, path, token=None, body=None, ok=(200, 201, 204)):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(BASE + path, data=data, method=method)
    if data is not None:
        req.add_header("Content-Type", "application/json")
    if token:
        req.add_header("Authorization", f"Bearer {token}")
    try:
        with urllib.request.urlopen(req, timeout=60) as res:
            raw = res.read()
            return res.status, (json.loads(raw) if raw else None)
    except urllib.error.HTTPError as e:
        problem = e.read().decode(errors="replace")
        if e.code in ok:
            return e.code, None
        raise SystemExit(f"demo seed: {method} {path} answered {e.code}: {problem}")


def login(username, password):
    _, body = call("POST", "/api/v1/auth/login", body={"username": username, "password": password})
    token = body["access_token"]
    if body["must_change_password"]:
        # A password set by someone else: the owner sets its own (here, the same one).
        call("PUT", "/api/v1/me/password", token, {"current_password": password, "new_password": password})
    return token


def exists(admin, username):
    _, page = call("GET", f"/api/v1/users?q={username}&page_size=200", admin)
    return any(u["username"] == username for u in page["items"])


def month_start(months_back):
    now = datetime.now(VN)
    y, m = now.year, now.month - months_back
    while m < 1:
        y, m = y - 1, m + 12
    return datetime(y, m, 1, tzinfo=VN)


def wait_until_ready():
    for _ in range(150):
        try:
            with urllib.request.urlopen(BASE + "/health/ready", timeout=2) as res:
                if res.status == 200:
                    return
        except (urllib.error.URLError, OSError):
            pass
        time.sleep(0.2)
    raise SystemExit(f"demo seed: {BASE} did not become ready")


def main():
    wait_until_ready()
    admin = login("admin", ADMIN_PASSWORD)
    if exists(admin, "tinh.laichau"):
        print("demo seed: the demo province is already there")
        return
    call("POST", "/api/v1/users", admin, {"username": "tinh.laichau", "password": PASSWORD,
                                          "role": "province_officer", "unit_code": PROVINCE,
                                          "full_name": "Cán bộ Sở KH&CN Lai Châu"})
    province = login("tinh.laichau", PASSWORD)
    _, cats = call("GET", "/api/v1/categories", admin)
    categories = [c["code"] for c in cats if not c.get("retired_at")]
    joined = month_start(3).date().isoformat()
    names = iter(NAMES)
    last_month = month_start(1)
    total_logs = 0
    for code, spec in COMMUNES.items():
        call("POST", "/api/v1/users", admin, {"username": spec["officer"], "password": PASSWORD,
                                              "role": "commune_officer", "unit_code": code})
        officer = login(spec["officer"], PASSWORD)
        villages = []
        for name, kind, households in spec["villages"]:
            _, v = call("POST", "/api/v1/villages", officer, {"name": name, "kind": kind,
                                                              "households": households,
                                                              "population": households * 4})
            villages.append(v["id"])
        for t_index, (team_name, v_index) in enumerate(spec["teams"]):
            _, team = call("POST", "/api/v1/teams", officer, {
                "name": team_name, "village_id": villages[v_index],
                "decision_number": f"{40 + t_index}/QĐ-UBND", "established_on": joined})
            leader_login = f"{spec['officer'].split('.')[1]}.to{t_index + 1}"
            _, account = call("POST", "/api/v1/users", officer, {
                "username": leader_login, "password": PASSWORD, "role": "team_leader",
                "team_id": team["id"]})
            members = []
            for k in range(3):
                body = {"full_name": next(names), "affiliation": AFFILIATIONS[(t_index + k) % 5],
                        "team_role": "leader" if k == 0 else "member", "joined_on": joined,
                        "sex": "female" if k % 2 else "male", "birth_year": 1980 + 5 * k + t_index}
                if k == 0:
                    body["user_id"] = account["id"]
                _, member = call("POST", f"/api/v1/teams/{team['id']}/members", officer, body)
                members.append(member["id"])
            leader = login(leader_login, PASSWORD)
            # Three months of work; the third team's last member never records (a zero).
            for back in (3, 2, 1):
                start = month_start(back)
                for n in range(4 + 3 * t_index - back):
                    member = members[n % (2 if t_index == 2 else 3)]
                    when = start + timedelta(days=1 + (n * 3) % 26, hours=8 + n % 9)
                    call("POST", "/api/v1/assistance-logs", leader, {
                        "id": str(uuid.uuid4()), "member_id": member,
                        "occurred_at": when.isoformat(), "category_code": categories[n % len(categories)],
                        "citizens_helped": 1 + n % 3, "outcome": "done" if n % 4 else "partly_done",
                        "channel": ["home_visit", "commune_centre", "phone"][n % 3],
                        "village_id": villages[v_index], "citizen_sex": "female" if n % 2 else "male"})
                    total_logs += 1
        # The year's population figures, last month's indicator values, the province's targets.
        year = last_month.year
        households = sum(v[2] for v in spec["villages"])
        call("PUT", "/api/v1/denominators", officer, {
            "year": year, "population": households * 4, "adults": households * 3,
            "households": households, "source_note": "Thống kê của UBND xã"})
        for indicator, value in (("vneid_level2", households * 2), ("fibre_households", households // 2),
                                 ("cashless_account", households + households // 3),
                                 ("ecommerce_farms", 12 if spec["submit"] else 4)):
            call("PUT", "/api/v1/indicator-values", officer, {
                "indicator_code": indicator, "month": f"{last_month:%Y-%m}", "value": value,
                "source_note": "Công an xã" if indicator == "vneid_level2" else None})
        for indicator, target in (("vneid_level2", {"target_percent": 80}),
                                  ("fibre_households", {"target_percent": 60}),
                                  ("cashless_account", {"target_percent": 75}),
                                  ("ecommerce_farms", {"target_value": 30})):
            call("PUT", "/api/v1/indicator-targets", province, {
                "indicator_code": indicator, "year": year, "unit_kind": "commune", "unit_key": code,
                **target})
        if spec["submit"]:
            call("POST", f"/api/v1/reports/monthly/{code}/{last_month:%Y-%m}/submit", officer)
    print(f"demo seed: Lai Châu with 2 communes, {total_logs} logs; {last_month:%Y-%m} of Xã Bình Lư submitted")
    print(f"demo seed: log in as tinh.laichau (province), xa.binhlu or xa.sinsuoiho (communes), password \"{PASSWORD}\"")


if __name__ == "__main__":
    main()
