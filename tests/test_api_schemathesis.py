"""The REST API against its own description: schemathesis generates requests from
/api/v1/openapi.json (valid and invalid ones, and sequences that create, change and delete)
and sends them to a real ``mailer serve`` with an owner token. No answer may be a 5xx, or
differ from what the description says (status, media type, headers, body schema)."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path

from mailer.accounts.tokens import create_token
from mailer.app import Mailer
from tests.api_helpers import UNLIMITED
from tests.conftest import Project
from tests.web_server import SIGNING_KEY, running_server

SCHEMATHESIS = Path(sys.executable).parent / "schemathesis"
EXAMPLES = 15
# Every check, but that every request the schema allows is accepted: a cursor is opaque (a
# keyed hash), so one made up by the fuzzer is rightly refused with 400.
EXCLUDED_CHECKS = "positive_data_acceptance"


def test_no_server_error_and_no_answer_that_breaks_the_description(
    db_project: Project, tmp_path: Path
) -> None:
    mailer = Mailer(db_project.settings(), environ={"MAILER_SECRET_KEY": SIGNING_KEY})
    secret = create_token(mailer, "fuzzer", "owner", actor="cli")[1]
    mailer.close()
    with running_server(db_project, UNLIMITED) as server:
        run = subprocess.run(
            [
                str(SCHEMATHESIS),
                "run",
                server.url("/api/v1/openapi.json"),
                "--header",
                f"Authorization: Bearer {secret}",
                "--checks",
                "all",
                "--exclude-checks",
                EXCLUDED_CHECKS,
                "--max-examples",
                str(EXAMPLES),
                "--seed",
                "20261207",
                "--workers",
                "1",
                "--no-color",
            ],
            cwd=tmp_path,
            capture_output=True,
            text=True,
            timeout=300,
            check=False,
        )
        log = server.log_text()
    assert run.returncode == 0, run.stdout[-6000:] + run.stderr[-2000:]
    assert "Traceback" not in log, log[-4000:]
