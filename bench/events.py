"""Event Webhook benchmark: prints JSON.

A project (SQLite, then PostgreSQL) sends issue 87 to ``--subscribers`` people through the
SendGrid emulator, so the batches, campaign and subscribers the events name exist. Then the
events SendGrid would post for that send (for each recipient ``processed`` and
``delivered``, and for shares of them ``open`` and ``click``, about 3.3 events a recipient)
are signed with a P-256 key, as SendGrid signs them, in POSTs of ``--per-post`` (1,000)
events, all built beforehand. ``--clients`` (4) threads POST them over keep-alive
connections to one ``mailer serve`` (SQLite) or two (PostgreSQL, the clients split between
them), with signature verification on. Reported: events/s over the whole run, the POSTs'
latencies, and that every event was stored once; then the same POSTs again, which must add
nothing.
"""

from __future__ import annotations

import argparse
import base64
import http.client
import json
import random
import statistics
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import orjson
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec
from web_parts import Project, Server, database, fresh_work, make_project, remove, send_once

ISSUE = "87"
LIST = "bench-0"
TIMESTAMP = str(int(time.time()))


class Signer:
    def __init__(self) -> None:
        self.key = ec.generate_private_key(ec.SECP256R1())

    @property
    def public_key(self) -> str:
        der = self.key.public_key().public_bytes(
            serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
        )
        return base64.b64encode(der).decode("ascii")

    def headers(self, body: bytes) -> dict[str, str]:
        signed = self.key.sign(TIMESTAMP.encode() + body, ec.ECDSA(hashes.SHA256()))
        return {
            "Content-Type": "application/json",
            "X-Twilio-Email-Event-Webhook-Signature": base64.b64encode(signed).decode("ascii"),
            "X-Twilio-Email-Event-Webhook-Timestamp": TIMESTAMP,
        }


def recipients(project: Project) -> list[tuple[int, int, str, str]]:
    """(campaign id, subscriber id, address, X-Message-Id) of everyone the send reached."""
    import sqlalchemy as sa

    from mailer.db.tables import batches, deliveries, subscribers

    app = project.mailer_object()
    with app.engine.connect() as connection:
        rows = connection.execute(
            sa.select(
                deliveries.c.campaign_id,
                deliveries.c.subscriber_id,
                subscribers.c.email,
                batches.c.message_id,
            )
            .join(subscribers, subscribers.c.id == deliveries.c.subscriber_id)
            .join(batches, batches.c.id == deliveries.c.batch_id)
            .where(deliveries.c.status == "sent")
        ).all()
    app.close()
    return [(int(r[0]), int(r[1]), str(r[2]), str(r[3])) for r in rows]


def make_events(people: list[tuple[int, int, str, str]], seed: int = 3) -> list[dict[str, Any]]:
    rng = random.Random(seed)
    found: list[dict[str, Any]] = []
    base = int(TIMESTAMP) - 3600
    for number, (campaign, subscriber, email, message_id) in enumerate(people):
        common = {
            "email": email,
            "sg_message_id": f"{message_id}.filter0001.{number}.0",
            "mailer_campaign": str(campaign),
            "mailer_subscriber": str(subscriber),
            "category": ["newsletter"],
        }
        kinds = ["processed", "delivered"]
        if rng.random() < 0.9:
            kinds.append("open")
        if rng.random() < 0.4:
            kinds.append("click")
        for step, kind in enumerate(kinds):
            event = {
                **common,
                "event": kind,
                "timestamp": base + step * 60,
                "sg_event_id": f"bench-{number}-{kind}",
            }
            if kind == "click":
                event["url"] = f"https://example.com/story/{rng.randrange(12)}"
            if kind == "open":
                event["sg_machine_open"] = rng.random() < 0.3
            found.append(event)
    return found


def post_all(servers: list[Server], posts: list[tuple[bytes, dict[str, str]]], clients: int) -> Any:
    """POST every body (each client its own keep-alive connection to one server); the
    seconds it took, each POST's latency, and the answers."""
    chunks = [posts[number::clients] for number in range(clients)]

    def client(number: int) -> list[tuple[float, int, dict[str, Any]]]:
        server = servers[number % len(servers)]
        connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=60)
        done = []
        for body, headers in chunks[number]:
            started = time.perf_counter()
            connection.request("POST", "/webhooks/sendgrid", body=body, headers=headers)
            answer = connection.getresponse()
            payload = answer.read()
            done.append((time.perf_counter() - started, answer.status, json.loads(payload)))
        connection.close()
        return done

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        answers = [item for part in pool.map(client, range(clients)) for item in part]
    return time.perf_counter() - started, answers


def summary(seconds: float, answers: list[tuple[float, int, dict[str, Any]]], events: int) -> Any:
    latencies = sorted(latency for latency, _, _ in answers)
    return {
        "posts": len(answers),
        "events": events,
        "seconds": round(seconds, 2),
        "events_per_second": round(events / seconds),
        "not_200": sum(1 for _, status, _ in answers if status != 200),
        "new": sum(answer.get("new", 0) for _, _, answer in answers),
        "duplicates": sum(answer.get("duplicates", 0) for _, _, answer in answers),
        "post_p50_ms": round(statistics.median(latencies) * 1000, 1),
        "post_p99_ms": round(latencies[int(len(latencies) * 0.99) - 1] * 1000, 1),
    }


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    work = fresh_work()
    try:
        with database(backend, work) as url:
            project = make_project(work, url, args.subscribers, [LIST])
            try:
                send_once(project, ISSUE, LIST)
                events = make_events(recipients(project))
                signer = Signer()
                posts = []
                for start in range(0, len(events), args.per_post):
                    body = orjson.dumps(events[start : start + args.per_post])
                    posts.append((body, signer.headers(body)))
                env = {"SENDGRID_WEBHOOK_PUBLIC_KEY": signer.public_key}
                servers = [Server(project, env) for _ in range(1 if backend == "sqlite" else 2)]
                try:
                    first = summary(*post_all(servers, posts, args.clients), len(events))
                    again = summary(*post_all(servers, posts, args.clients), len(events))
                finally:
                    for server in servers:
                        server.stop()
                return {
                    "database": backend,
                    "servers": len(servers),
                    "clients": args.clients,
                    "first": first,
                    "again": again,
                    "stored_once": first["new"] == len(events) and again["new"] == 0,
                    "server_log_failures": sum(server.problems() for server in servers),
                }
            finally:
                project.emulator.stop()
    finally:
        remove(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=60_000)
    parser.add_argument("--per-post", type=int, default=1000)
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    args = parser.parse_args()
    runs = []
    for backend in args.databases:
        runs.append(run_backend(backend, args))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"python": sys.version.split()[0], "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
