"""A campaign's report and recipients pages on a real ``mailer serve``: a campaign sent through
the outbox by the real command line, SendGrid's signed events POSTed to the same server, and
every number on the report page equal to the report service's; a campaign with no events
says so and draws nothing; the recipients filtered by the ledger's status, the events'
outcome and opens and clicks, a page at a time; unknown campaigns 404, bad filters 400
naming the parameter; hostile link URLs, bounce classifications, drop reasons and subjects
shown escaped, in the SVG too; and every role may read both pages."""

from __future__ import annotations

import html
import json
import re
from typing import Any

import httpx
import pytest
import sqlalchemy as sa

from mailer.accounts.roles import Role
from mailer.db.migrate import open_database
from mailer.db.tables import campaigns
from mailer.events.report import CampaignReport, campaign_report
from mailer.events.report_hours import engagement_hours
from mailer.web.admin.campaign_reports import percent
from tests.admin_helpers import OWNER, add_account, logged_in
from tests.conftest import Project
from tests.report_fixtures import ARTICLE, HOME, READERS, Cli, Sent, posted_events
from tests.sending import fill_list
from tests.web_server import WebServer

HOSTILE = '<script>alert("x")</script><img src=x onerror=alert(1)>'
STAFF = {
    Role.OWNER: OWNER,
    Role.ADMIN: "admin@example.com",
    Role.EDITOR: "editor@example.com",
    Role.VIEWER: "viewer@example.com",
}
VIEWER = STAFF[Role.VIEWER]


@pytest.fixture
def staffed(sent: Sent, db_project: Project) -> Sent:
    for role, email in STAFF.items():
        add_account(db_project, email, role)
    return sent


def _cells(page: httpx.Response, element_id: str) -> list[str]:
    found = re.search(rf'<tr id="{element_id}">(.*?)</tr>', page.text, re.S)
    assert found, f"no row #{element_id}"
    return [
        html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
        for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", found.group(1), re.S)
    ]


def _figure(page: httpx.Response, key: str) -> int:
    found = re.search(rf'id="figure-{key}">(\d+)</dd>', page.text)
    assert found, f"no figure {key}"
    return int(found.group(1))


def _table_rows(page: httpx.Response, table_id: str) -> list[list[str]]:
    found = re.search(rf'<table id="{table_id}"[^>]*>.*?<tbody>(.*?)</tbody>', page.text, re.S)
    assert found, f"no table #{table_id}"
    return [
        [
            html.unescape(re.sub(r"<[^>]+>", "", cell)).strip()
            for cell in re.findall(r"<t[hd][^>]*>(.*?)</t[hd]>", row, re.S)
        ]
        for row in re.findall(r"<tr[^>]*>(.*?)</tr>", found.group(1), re.S)
    ]


def _report(sent: Sent) -> CampaignReport:
    return campaign_report(sent.engine, sent.campaign)


def test_the_report_page_shows_the_report_services_numbers(staffed: Sent) -> None:
    staffed.post(posted_events(staffed))
    expected = _report(staffed)
    with logged_in(staffed.server, VIEWER) as client:
        page = client.get(f"/admin/campaigns/{staffed.campaign}/report")
    assert page.status_code == 200, page.text
    assert "no-store" in page.headers["cache-control"]
    assert "style=" not in page.text  # the admin policy would refuse it

    counts = expected.campaign.counts
    assert _figure(page, "total") == counts["total"] == 5
    assert _figure(page, "sent") == counts["sent"] == 5
    assert _figure(page, "processed") == expected.kind("processed").recipients == 5
    assert _figure(page, "delivered") == expected.delivered == 4
    assert _figure(page, "deferred") == expected.kind("deferred").recipients == 1
    assert _figure(page, "bounced_permanent") == expected.bounced("bounce") == 1
    assert _figure(page, "bounced_temporary") == expected.bounced("blocked") == 1
    assert _figure(page, "dropped") == expected.kind("dropped").recipients == 1
    assert _figure(page, "spam_reports") == expected.kind("spamreport").recipients == 1
    assert re.search(r'id="unsubscribes-sendgrid">2</dd>', page.text)

    # Rates over delivered (4), machine opens and automated clicks apart.
    opens, clicks = expected.kind("open"), expected.kind("click")
    assert _cells(page, "row-opened")[1:] == [
        str(opens.recipients),
        percent(expected.rate(opens.recipients)),
        str(opens.events),
    ]
    assert _cells(page, "row-opened")[1:] == ["3", "75.0\u00a0%", "5"]
    assert _cells(page, "row-opened-human")[1:] == ["2", "50.0\u00a0%", "2"]
    assert _cells(page, "row-clicked")[1:] == ["2", "50.0\u00a0%", "4"]
    assert _cells(page, "row-clicked-human")[1:] == [
        str(clicks.human_recipients),
        percent(expected.rate(clicks.human_recipients)),
        str(clicks.human_events),
    ]
    assert _cells(page, "row-clicked-human")[1:] == ["1", "25.0\u00a0%", "3"]
    assert _cells(page, "row-machine-opens")[-1] == "3"
    assert _cells(page, "row-automated-clicks")[-1] == "1"

    # Each link: unique, total, and both without automated clicks, most clicked first.
    links = _table_rows(page, "links")
    assert links == [
        [
            link.url,
            str(link.recipients),
            str(link.clicks),
            str(link.human_recipients),
            str(link.human_clicks),
        ]
        for link in expected.links
    ]
    assert {row[0] for row in links} == {HOME, ARTICLE}

    # The hours drawn and tabled are the tallies' hours; their totals the report's timeline.
    hours = _table_rows(page, "hours-table")
    assert hours == [
        ["12-05 15:00", "0", "2", "0", "0"],
        ["12-05 16:00", "2", "1", "3", "1"],
    ]
    for row, hour in zip(hours, engagement_hours(staffed.engine, staffed.campaign), strict=True):
        timeline = expected.timeline[hour.hour]
        assert int(row[1]) + int(row[2]) == timeline.get("open", 0)
        assert int(row[3]) + int(row[4]) == timeline.get("click", 0)
    svg = re.search(r'<figure class="chart" id="hours-chart">.*?</figure>', page.text, re.S)
    assert svg and 'role="img"' in svg.group(0) and "<title" in svg.group(0)
    drawn = [int(count) for count in re.findall(r'data-count="(\d+)"', svg.group(0))]
    assert sum(drawn) == opens.events + clicks.events

    # Bounces by kind, as bars and as a table.
    assert _table_rows(page, "bounces-table") == [
        ["Permanent \u00b7 Invalid Address", "1"],
        ["Temporary \u00b7 Reputation", "1"],
    ]
    assert page.text.count('class="bar bounced"') == 2


def test_a_campaign_without_events_says_so_and_draws_nothing(staffed: Sent) -> None:
    with logged_in(staffed.server, VIEWER) as client:
        page = client.get(f"/admin/campaigns/{staffed.campaign}/report")
    assert page.status_code == 200
    assert 'id="no-events"' in page.text
    assert "No event has come from SendGrid" in page.text
    assert "<svg" not in page.text and 'id="links"' not in page.text
    assert _figure(page, "sent") == 5 and _figure(page, "delivered") == 0


def test_events_of_one_hour_and_no_opens_are_drawn_as_they_are(staffed: Sent) -> None:
    e = staffed.event
    staffed.post([e("delivered", reader, 1) for reader in READERS])
    with logged_in(staffed.server, VIEWER) as client:
        page = client.get(f"/admin/campaigns/{staffed.campaign}/report")
    assert 'id="no-hours"' in page.text and 'id="no-links"' in page.text
    assert 'id="no-bounces"' in page.text and "<svg" not in page.text
    assert _cells(page, "row-opened")[1:] == ["0", "0.0\u00a0%", "0"]
    assert _figure(page, "delivered") == 5


def _listed(client: httpx.Client, sent: Sent, **query: str) -> list[str]:
    page = client.get(f"/admin/campaigns/{sent.campaign}/recipients", params=query)
    assert page.status_code == 200, page.text
    found = re.findall(r'<tr id="recipient-\d+">\s*<th[^>]*>([^<@]+)@', page.text)
    return sorted(found)


def test_recipients_are_filtered_by_send_mail_and_activity(staffed: Sent) -> None:
    staffed.post(posted_events(staffed))
    with logged_in(staffed.server, VIEWER) as client:
        assert _listed(client, staffed) == sorted(READERS)
        assert _listed(client, staffed, status="sent") == sorted(READERS)
        assert _listed(client, staffed, status="failed") == []
        assert _listed(client, staffed, outcome="spamreport") == ["cat"]
        assert _listed(client, staffed, outcome="none") == []
        assert _listed(client, staffed, activity="opened") == ["ann", "bob", "cat"]
        assert _listed(client, staffed, activity="opened_by_person") == ["bob", "cat"]
        assert _listed(client, staffed, activity="not_opened") == ["dan", "eve"]
        assert _listed(client, staffed, activity="clicked") == ["bob", "cat"]
        assert _listed(client, staffed, activity="clicked_by_person") == ["bob"]
        assert _listed(client, staffed, activity="not_clicked") == ["ann", "dan", "eve"]
        assert _listed(client, staffed, status="sent", activity="clicked_by_person") == ["bob"]
        page = client.get(f"/admin/campaigns/{staffed.campaign}/recipients")
        ann = _cells(page, f"recipient-{staffed.ids['ann']}")
        assert "delivered" in ann[2] and "by a machine only" in ann[3]
        cat = _cells(page, f"recipient-{staffed.ids['cat']}")
        assert cat[3].startswith("2025-12-05 16:02") and "automated only" in cat[4]
        chosen = client.get(
            f"/admin/campaigns/{staffed.campaign}/recipients", params={"activity": "clicked"}
        )
        assert '<option value="clicked" selected>' in chosen.text
    # With no events yet, everyone has no outcome.
    with staffed.engine.begin() as connection:
        connection.execute(sa.text("UPDATE deliveries SET outcome = NULL"))
    with logged_in(staffed.server, VIEWER) as client:
        assert _listed(client, staffed, outcome="none") == sorted(READERS)


@pytest.mark.parametrize(
    ("query", "field"),
    [
        ({"status": "bogus"}, "status"),
        ({"outcome": "opened"}, "outcome"),
        ({"activity": "<script>"}, "activity"),
        ({"status": "sent\x00"}, "status"),
        ({"after": "abc"}, "after"),
        ({"after": "9" * 40}, "after"),
        ({"after": "-1"}, "after"),
    ],
)
def test_a_filter_that_is_none_of_its_choices_is_refused_naming_it(
    staffed: Sent, query: dict[str, str], field: str
) -> None:
    with logged_in(staffed.server, VIEWER) as client:
        page = client.get(f"/admin/campaigns/{staffed.campaign}/recipients", params=query)
    assert page.status_code == 400
    assert re.search(rf'role="alert">{field}\b', page.text), page.text
    assert "<script>" not in page.text.split("</header>")[1]
    assert 'id="recipients"' not in page.text


def test_recipients_come_a_hundred_a_page_and_filters_stay_on_the_next(
    db_project: Project, cli: Cli, web_server: WebServer
) -> None:
    add_account(db_project, VIEWER, Role.VIEWER)
    assert cli("lists", "create", "big").code == 0
    engine = open_database(db_project.settings().database.url)
    try:
        fill_list(engine, 230, "big")
    finally:
        engine.dispose()
    result = cli("send", "87", "--list", "big", "--transport", "outbox", "--yes", "--json")
    assert result.code == 0, result.err
    campaign_id = json.loads(result.out)["id"]
    path = f"/admin/campaigns/{campaign_id}/recipients"
    seen: list[str] = []
    with logged_in(web_server, VIEWER) as client:
        page = client.get(path, params={"status": "sent"})
        assert "First page" not in page.text
        while True:
            assert page.status_code == 200
            seen += re.findall(r'<tr id="recipient-\d+">\s*<th[^>]*>([^<]+)', page.text)
            more = re.search(r'href="([^"]+)"[^>]*rel="next"', page.text)
            if not more:
                break
            target = html.unescape(more.group(1))
            assert "status=sent" in target
            page = client.get(target)
            assert "First page" in page.text
    assert len(seen) == 230 and len(set(seen)) == 230
    assert [len(chunk) for chunk in (seen[:100], seen[100:200], seen[200:])] == [100, 100, 30]


def test_an_unknown_campaign_is_not_found(staffed: Sent) -> None:
    with logged_in(staffed.server, VIEWER) as client:
        for number in (staffed.campaign + 1, 0, 2**40):
            for view in ("report", "recipients"):
                page = client.get(f"/admin/campaigns/{number}/{view}")
                assert page.status_code == 404, f"{number}/{view}"
                assert "Page not found" in page.text
        assert client.get("/admin/campaigns/x/report").status_code == 404


def _hostile_events(sent: Sent) -> list[dict[str, Any]]:
    e = sent.event
    return [
        e("delivered", "ann", 1),
        e("delivered", "bob", 1),
        e("click", "ann", 70, url=f"https://example.com/?q={HOSTILE}"),
        e("click", "bob", 71, url=f'javascript:alert("x")//{HOSTILE}'),
        e("bounce", "eve", 3, type="bounce", reason="550", bounce_classification=HOSTILE),
        e("dropped", "dan", 4, reason=HOSTILE),
    ]


def test_hostile_links_classifications_reasons_and_subjects_are_escaped(staffed: Sent) -> None:
    staffed.post(_hostile_events(staffed))
    with staffed.engine.begin() as connection:
        connection.execute(
            sa.update(campaigns).where(campaigns.c.id == staffed.campaign).values(subject=HOSTILE)
        )
    with logged_in(staffed.server, VIEWER) as client:
        report = client.get(f"/admin/campaigns/{staffed.campaign}/report")
        recipients = client.get(f"/admin/campaigns/{staffed.campaign}/recipients")
    for page in (report, recipients):
        assert page.status_code == 200
        assert "<script>" not in page.text and "<img src=x" not in page.text
        assert "javascript:" not in re.sub(r"<code[^>]*>.*?</code>", "", page.text, flags=re.S)
    # Shown as text: the subject, each link, and the classification in the SVG and its table.
    svg = re.search(r"<svg.*?</svg>", report.text.split('id="bounces-chart"')[1], re.S)
    assert svg and "&lt;script&gt;" in svg.group(0)
    assert report.text.count("&lt;script&gt;") >= 5
    assert "&lt;script&gt;alert(&#34;x&#34;)&lt;/script&gt;" in recipients.text
    assert [row[0] for row in _table_rows(report, "links")] == [
        f"https://example.com/?q={HOSTILE}",
        f'javascript:alert("x")//{HOSTILE}',
    ]


@pytest.mark.parametrize("role", list(STAFF))
def test_every_role_may_read_both_pages(staffed: Sent, role: Role) -> None:
    with logged_in(staffed.server, STAFF[role]) as client:
        for view in ("report", "recipients"):
            page = client.get(f"/admin/campaigns/{staffed.campaign}/{view}")
            assert page.status_code == 200, f"{role} {view}"
        campaign_page = client.get(f"/admin/campaigns/{staffed.campaign}")
        assert f'href="/admin/campaigns/{staffed.campaign}/report"' in campaign_page.text
        assert f'href="/admin/campaigns/{staffed.campaign}/recipients"' in campaign_page.text
