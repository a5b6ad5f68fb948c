"""Import/export benchmark: prints JSON.

Generates a CSV (default 1,000,000 rows, ~1% invalid), then times, each in a child process so
its peak memory can be read on its own:
- ``mailer subscribers import`` into SQLite and into PostgreSQL (a throwaway schema on the
  server named by $MAILER_TEST_DATABASE_URL, skipped when unset),
- the ``sqlite3`` command-line ``.import`` of the same file, as a floor,
- ``mailer subscribers export`` of the imported list from SQLite.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import random
import shutil
import subprocess
import tempfile
import uuid
from pathlib import Path
from typing import Any

import sqlalchemy as sa
from measure import mailer, run_measured

COUNTRIES = ["CN", "HK", "TW", "SG", "US", "JP", "DE", "ES"]
ZONES = ["Asia/Shanghai", "Asia/Hong_Kong", "Asia/Taipei", "Asia/Singapore", "America/New_York"]
TAGS = ["ai", "ecommerce", "logistics", "policy", "chips", "fintech"]
NAMES = ["Ada Lin", "王芳", "陈伟", "李娜", "Sam Taylor", "María García", "Kenji Sato"]


def write_csv(path: Path, rows: int, seed: int = 7) -> int:
    """Returns how many rows are invalid."""
    rng = random.Random(seed)
    invalid = 0
    with path.open("w", encoding="utf-8", newline="") as out:
        writer = csv.writer(out)
        writer.writerow(["email", "name", "country", "timezone", "tags"])
        for number in range(rows):
            if rng.random() < 0.01:
                email = rng.choice([f"user{number}.example.com", f"user{number}@", "a..b@x.com"])
                invalid += 1
            else:
                email = f"User{number}.{rng.randrange(10**6)}@mail{number % 2000}.example.com"
            tags = ";".join(rng.sample(TAGS, rng.randrange(3)))
            writer.writerow(
                [email, rng.choice(NAMES), rng.choice(COUNTRIES), rng.choice(ZONES), tags]
            )
    return invalid


def import_into(url: str, work: Path, data: Path, label: str) -> dict[str, Any]:
    config = work / f"{label}.toml"
    config.write_text(f'[database]\nurl = "{url}"\n', encoding="utf-8")
    subprocess.run(mailer(config, "lists", "create", "bench"), check=True, capture_output=True)
    result = run_measured(
        mailer(config, "subscribers", "import", str(data), "--list", "bench", "--json")
    )
    summary = json.loads(result.pop("stdout"))
    summary.pop("problems")
    return {**result, "summary": summary, "config": config}


def sqlite_floor(work: Path, data: Path) -> float:
    database = work / "floor.db"
    database.unlink(missing_ok=True)
    result = run_measured(["sqlite3", str(database), ".mode csv", f".import {data} people"])
    return float(result["seconds"])


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--rows", type=int, default=1_000_000)
    parser.add_argument("--floor-runs", type=int, default=3)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="mailer-bench-"))
    try:
        data = work / "people.csv"
        invalid = write_csv(data, args.rows)
        report: dict[str, Any] = {
            "rows": args.rows,
            "invalid_rows": invalid,
            "file_mb": round(data.stat().st_size / 2**20, 1),
        }

        sqlite = import_into(f"sqlite:///{work / 'mailer.db'}", work, data, "sqlite")
        floors = sorted(sqlite_floor(work, data) for _ in range(args.floor_runs))
        floor = floors[len(floors) // 2]
        report["sqlite_import"] = {
            "seconds": round(sqlite["seconds"], 2),
            "rows_per_second": round(args.rows / sqlite["seconds"]),
            "peak_rss_mb": round(sqlite["peak_rss_mb"], 1),
            "summary": sqlite["summary"],
        }
        report["sqlite3_cli_import_floor"] = {
            "median_seconds": round(floor, 2),
            "runs": args.floor_runs,
            "ratio": round(sqlite["seconds"] / floor, 2),
        }

        export = run_measured(
            mailer(
                sqlite["config"],
                "subscribers",
                "export",
                "--list",
                "bench",
                "-o",
                str(work / "export.csv"),
            )
        )
        report["sqlite_export"] = {
            "seconds": round(export["seconds"], 2),
            "peak_rss_mb": round(export["peak_rss_mb"], 1),
        }

        postgres = os.environ.get("MAILER_TEST_DATABASE_URL")
        if postgres:
            schema = f"mailer_bench_{uuid.uuid4().hex[:8]}"
            admin = sa.create_engine(postgres.replace("postgresql://", "postgresql+psycopg://", 1))
            with admin.begin() as connection:
                connection.exec_driver_sql(f"CREATE SCHEMA {schema}")
            try:
                url = f"{postgres}?options=-csearch_path%3D{schema}"
                pg = import_into(url, work, data, "postgresql")
                report["postgresql_import"] = {
                    "seconds": round(pg["seconds"], 2),
                    "rows_per_second": round(args.rows / pg["seconds"]),
                    "peak_rss_mb": round(pg["peak_rss_mb"], 1),
                    "summary": pg["summary"],
                }
            finally:
                with admin.begin() as connection:
                    connection.exec_driver_sql(f"DROP SCHEMA {schema} CASCADE")
                admin.dispose()
        print(json.dumps(report, indent=2))
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
