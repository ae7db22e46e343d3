"""Write a profile's segment popularity from the data: share of users per segment and a
sample of each segment's user ids, so the load test's requests follow the real traffic.

    .venv/bin/python loadtests/make_profile.py --dsn "$DSN" loadtests/profiles/sandbox.yaml

Reads the ``users`` table once (an aggregate: run it against a replica in production, never
in a gate); only the ``segments:`` section of the profile is replaced.
"""

from __future__ import annotations

import argparse
import datetime as dt
from pathlib import Path

import psycopg
import yaml

QUERY = """
SELECT user_segment, count(*) AS users,
       (array_agg(user_id ORDER BY random()))[1:%(sample)s] AS sample
FROM users GROUP BY user_segment ORDER BY user_segment
"""


def popularity(dsn: str, sample: int) -> dict[str, object]:
    with psycopg.connect(dsn) as conn:
        rows = conn.execute(QUERY, {"sample": sample}).fetchall()
    total = sum(int(r[1]) for r in rows)
    today = dt.datetime.now(dt.UTC).date().isoformat()
    return {
        "source": f"users table, {today}: {total} users in {len(rows)} segments",
        "popularity": [
            {"segment": int(seg), "share": round(int(n) / total, 6), "users": list(ids)}
            for seg, n, ids in rows
        ],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--dsn", required=True, help="database to read the users table from")
    parser.add_argument("--sample", type=int, default=8, help="user ids kept per segment")
    parser.add_argument("profile", type=Path)
    args = parser.parse_args()
    data = yaml.safe_load(args.profile.read_text(encoding="utf-8"))
    data["segments"] = popularity(args.dsn, args.sample)
    head = "".join(line for line in args.profile.read_text().splitlines(True) if line.startswith("#"))
    body = yaml.safe_dump(data, sort_keys=False, default_flow_style=None, width=100)
    args.profile.write_text(head + body, encoding="utf-8")


if __name__ == "__main__":
    main()
