"""Public web benchmark: prints JSON.

One-click unsubscribe (RFC 8058): a project on SQLite, then on PostgreSQL, whose lists each
hold the same ``--subscribers`` (200,000) confirmed people. First a send of issue 87 to one
list with nothing else running (the send's speed alone). Then sends of issue 87 to the other
lists, one after the other, while wrk POSTs ``List-Unsubscribe=One-Click`` from
``--clients`` (200) connections for ``--seconds`` to one ``mailer serve`` (SQLite) or two
(PostgreSQL, the connections split between them), each request on a different member's
link. It reports wrk's requests, rate, latencies, errors and non-2xx answers, how many
unsubscribes the database holds afterwards (at least every one answered, at most every one
sent), failures in the servers' logs, and the sends' speed under the load against alone.

wrk runs for a fixed time (it cannot stop after a number of requests), over more links
than can be answered in that time: the requests made are what the server answered.

Then, on the same SQLite project with no send running: signups (``POST /api/signup`` to a
double opt-in list, a new address and client address each time; the confirmation mails go
to the emulator) and the archive page of issue 87.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from typing import Any

from web_parts import (
    Load,
    Project,
    SendLoop,
    Server,
    count_unsubscribed,
    database,
    fresh_work,
    make_project,
    remove,
    run_mailer,
    run_wrk,
    send_once,
    unsubscribe_paths,
)

ISSUE = "87"
TARGET_LIST = "bench-1"
ONE_CLICK = Load("POST", [], "List-Unsubscribe=One-Click", "application/x-www-form-urlencoded")
SIGNUP_BODY = '{"email": "new{n}@signup.example.org", "name": "Reader {n}", "lists": ["news"]}'


def one_click(project: Project, servers: int, args: argparse.Namespace) -> dict[str, Any]:
    # Enough links that wrk cannot run out of them at 4,000 requests/s.
    links = min(args.subscribers, 4_000 * args.seconds)
    load = Load(**{**ONE_CLICK.__dict__, "paths": unsubscribe_paths(project, TARGET_LIST, links)})
    alone = send_once(project, ISSUE, "bench-0")
    running = [Server(project) for _ in range(servers)]
    try:
        sends = SendLoop(project, ISSUE, [f"bench-{n}" for n in range(1, args.lists)])
        sends.start()
        answered = run_wrk(project.work, running, load, args.seconds, args.clients)
        load_ended = time.monotonic()
        loaded = sends.stop()
    finally:
        server_cpu = [round(server.stop(), 1) for server in running]
    problems = sum(server.problems() for server in running)
    recorded = count_unsubscribed(project, TARGET_LIST)
    ok = answered["requests"] - answered["non_2xx"]
    # The send's speed under load: from the sends that ended while wrk still ran (the last
    # one runs on after it, partly alone), else from the first.
    inside = [send for send in loaded if send["started"] + send["seconds"] <= load_ended]
    measured = inside or loaded[:1]
    loaded_rate = sum(send["sent"] for send in measured) / sum(s["seconds"] for s in measured)
    for send in loaded:
        send["within_load"] = send in inside
        del send["started"]
    del alone["started"]
    return {
        "servers": servers,
        "clients": args.clients,
        **answered,
        "recorded_unsubscribes": recorded,
        "every_answer_recorded": recorded >= ok,
        "server_log_failures": problems,
        "server_cpu_seconds": server_cpu,
        "send_alone": alone,
        "sends_under_load": loaded,
        "send_under_load_recipients_per_second": round(loaded_rate),
        "send_slowdown": round(alone["recipients_per_second"] / loaded_rate, 2),
    }


def signup_and_archive(project: Project, args: argparse.Namespace) -> dict[str, Any]:
    run_mailer(project.config, "lists", "create", "news", "--public", "--double-opt-in")
    server = Server(project)
    try:
        signups = Load("POST", ["/api/signup"], SIGNUP_BODY, "application/json", forwarded=True)
        signup = run_wrk(project.work, [server], signups, args.seconds, args.clients)
        archive = run_wrk(
            project.work, [server], Load("GET", [f"/archive/{ISSUE}"]), args.seconds, args.clients
        )
    finally:
        server.stop()
    return {"signup": signup, "archive": archive, "server_log_failures": server.problems()}


def run_backend(backend: str, args: argparse.Namespace) -> dict[str, Any]:
    work = fresh_work()
    try:
        with database(backend, work) as url:
            names = [f"bench-{n}" for n in range(args.lists)]
            project = make_project(work, url, args.subscribers, names)
            try:
                servers = 1 if backend == "sqlite" else 2
                report: dict[str, Any] = {"database": backend}
                report["one_click"] = one_click(project, servers, args)
                if backend == "sqlite" or args.all_on_postgresql:
                    report.update(signup_and_archive(project, args))
                return report
            finally:
                project.emulator.stop()
    finally:
        remove(work)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--subscribers", type=int, default=200_000)
    parser.add_argument("--lists", type=int, default=5, help="Lists to send to (the first alone).")
    parser.add_argument("--clients", type=int, default=200)
    parser.add_argument("--seconds", type=int, default=20, help="How long each wrk run lasts.")
    parser.add_argument(
        "--databases", nargs="+", default=["sqlite", "postgresql"], choices=["sqlite", "postgresql"]
    )
    parser.add_argument("--all-on-postgresql", action="store_true")
    args = parser.parse_args()
    runs = []
    for backend in args.databases:
        runs.append(run_backend(backend, args))
        print(json.dumps(runs[-1]), file=sys.stderr, flush=True)
    print(json.dumps({"python": sys.version.split()[0], "runs": runs}, indent=2))


if __name__ == "__main__":
    main()
