#!/usr/bin/env python3
"""Synthetic registers for the import benchmark (bench/imports/run.sh).

  generate.py dongnai OUTDIR   Đồng Nai (75): 1,000 teams over its 95 communes, 6,400 members,
                               every member with a phone and an app account.
  generate.py national OUTDIR  every commune of the country: 74,000 teams, 350,000 members
                               (phones on all, no accounts).

Each writes teams.csv and members.csv (UTF-8, `;`, the template's Vietnamese headers)."""
import csv
import random
import sys

random.seed(15)
UNITS = "data/vn-admin-units-2025.csv"
FAMILY = ["Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ"]
MIDDLE = ["Văn", "Thị", "Hữu", "Minh", "Thanh", "Ngọc", "Quốc", "Thu"]
GIVEN = ["An", "Bình", "Cường", "Dung", "Giang", "Hà", "Hải", "Hoà", "Khánh", "Lan", "Long",
         "Mai", "Nam", "Nga", "Phúc", "Quang", "Sơn", "Tâm", "Thảo", "Trang", "Tuấn", "Yến"]
AFFIL = ["Đoàn Thanh niên", "Hội Phụ nữ", "Hội Nông dân", "Công an khu vực", "Giáo viên",
         "Người dân tình nguyện", "Trưởng thôn, tổ dân phố"]


def main(case: str, out: str) -> None:
    with open(UNITS, encoding="utf-8") as f:
        communes = [r["commune_code"] for r in csv.DictReader(f)
                    if case == "national" or r["province_code"] == "75"]
    teams_n, members_n = (1_000, 6_400) if case == "dongnai" else (74_000, 350_000)
    accounts = case == "dongnai"
    teams = [(communes[i % len(communes)], f"Tổ CNSCĐ số {i // len(communes) + 1}") for i in range(teams_n)]
    with open(f"{out}/teams.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Mã xã", "Tên tổ", "Số quyết định", "Ngày quyết định"])
        for i, (c, name) in enumerate(teams):
            w.writerow([c, name, f"{i + 1}/QĐ-UBND", "15/03/2025"])
    with open(f"{out}/members.csv", "w", encoding="utf-8", newline="") as f:
        w = csv.writer(f, delimiter=";")
        w.writerow(["Mã xã", "Tên tổ", "Họ và tên", "Giới tính", "Năm sinh", "Số điện thoại",
                    "Thành phần", "Vai trò", "Ngày tham gia", "Tạo tài khoản"])
        for i in range(members_n):
            c, name = teams[i % teams_n]
            leader = i < teams_n
            middle = random.choice(MIDDLE)
            w.writerow([c, name, f"{random.choice(FAMILY)} {middle} {random.choice(GIVEN)}",
                        "Nữ" if middle == "Thị" else "Nam", random.randint(1960, 2004),
                        f"09{i:08d}", random.choice(AFFIL), "Tổ trưởng" if leader else "Thành viên",
                        "01/04/2025", "Có" if accounts else ""])


main(sys.argv[1], sys.argv[2])
