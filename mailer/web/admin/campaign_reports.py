"""A campaign's report and recipients, for anyone who may read:

``GET /admin/campaigns/{id}/report``      the report service's figures (rates over the
    recipients delivered; machine opens and automated clicks apart), opens and clicks per
    hour and bounces by kind drawn as SVG with a table of the same numbers, and each link's
    clicks; a campaign no event has come for yet says so instead of drawing empty charts.
``GET /admin/campaigns/{id}/recipients``  its recipients, 100 a page in subscriber id order
    (``?after=`` the last one shown), chosen by ``?status=`` (the ledger's), ``?outcome=``
    (what the events say) and ``?activity=`` (opened, clicked, by a person or not at all).

Everything is read through ``mailer.actions.campaign_reports``; nothing here changes a thing.
"""

from __future__ import annotations

from datetime import UTC, datetime
from urllib.parse import urlencode

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from mailer.accounts.roles import Permission
from mailer.actions import campaign_reports as actions
from mailer.app import Mailer
from mailer.db.tables import DELIVERY_STATUSES
from mailer.errors import FieldError, MailerError, NotFoundError
from mailer.events.report import CampaignReport
from mailer.web.admin._charts import Row, bar_chart, time_chart
from mailer.web.admin._guard import PREFIX, requires
from mailer.web.admin._list_forms import query_text
from mailer.web.admin._pages import admin_page
from mailer.web.admin._session import principal_of
from mailer.web.strings import STRINGS

PATH = f"{PREFIX}/campaigns"
PAGE_SIZE = 100
MAX_ID = 2**31 - 1
MAX_AFTER = 2**63 - 1
FILTER_MAX = 40


def _mailer(request: Request) -> Mailer:
    mailer: Mailer = request.app.state.mailer
    return mailer


def _campaign_id(request: Request) -> int:
    """The campaign in the path; 0 (no campaign) for a number no campaign can have."""
    value = int(request.path_params["campaign_id"])
    return value if 0 < value <= MAX_ID else 0


def percent(rate: float | None) -> str:
    """A rate as the page shows it ("—" when nothing was delivered to divide by)."""
    return "\u2014" if rate is None else f"{rate * 100:.1f}\u00a0%"


def epoch_text(seconds: int) -> str:
    """A time as events keep it (seconds since 1970) as the page shows it, in UTC."""
    return datetime.fromtimestamp(seconds, UTC).strftime("%Y-%m-%d %H:%M")


def _bounce_rows(report: CampaignReport) -> list[Row]:
    """Bounces by kind (permanent, temporary) and SendGrid's classification, most first."""
    words = STRINGS.reports
    rows = [
        Row(
            f"{words.bounce_kind(row.bounce_type)} \u00b7 {row.reason or words.unclassified}",
            row.recipients,
        )
        for row in report.bounces
    ]
    return sorted(rows, key=lambda row: (-row.count, row.label))


def _figures(report: CampaignReport) -> dict[str, int]:
    """The delivery figures by their key in ``t.reports.figures``."""
    counts = report.campaign.counts
    return {
        "total": counts.get("total", 0),
        "sent": counts.get("sent", 0),
        "processed": report.kind("processed").recipients,
        "delivered": report.delivered,
        "deferred": report.kind("deferred").recipients,
        "bounced_permanent": report.bounced("bounce"),
        "bounced_temporary": report.bounced("blocked"),
        "dropped": report.kind("dropped").recipients,
        "spam_reports": report.kind("spamreport").recipients,
    }


def _unsubscribes(report: CampaignReport) -> dict[str, int]:
    return {
        "one_click": report.unsubscribes.one_click,
        "page": report.unsubscribes.page,
        "sendgrid": report.sendgrid_unsubscribes,
    }


def _missing(request: Request) -> Response:
    return admin_page(
        request, "admin/campaign_missing.html", principal_of(request), status_code=404
    )


@requires(Permission.READ)
def report_page(request: Request) -> Response:
    principal = principal_of(request)
    try:
        view = actions.report_view(_mailer(request), principal, _campaign_id(request))
    except NotFoundError:
        return _missing(request)
    report = view.report
    bounces = _bounce_rows(report)
    return admin_page(
        request,
        "admin/campaign_report.html",
        principal,
        campaign=report.campaign,
        report=report,
        opens=report.kind("open"),
        clicks=report.kind("click"),
        has_events=bool(report.kinds),
        figures=_figures(report),
        unsubscribes=_unsubscribes(report),
        hours=time_chart(view.hours, dict(STRINGS.reports.series)) if view.hours else None,
        bounces=bar_chart(bounces) if bounces else None,
        percent=percent,
        current="campaigns",
    )


def _filters(request: Request) -> tuple[dict[str, str], int | None]:
    """The filters asked for ("" for any) and the subscriber to read on after; a FieldError
    naming the parameter for one that is none of its choices."""
    chosen: dict[str, str] = {}
    for field in ("status", "outcome", "activity"):
        value = query_text(request, field, FILTER_MAX)
        if value is None:
            raise FieldError(field, STRINGS.reports.bad_filter)
        chosen[field] = value
    after_text = request.query_params.get("after", "")
    if not after_text:
        return chosen, None
    if not after_text.isascii() or not after_text.isdecimal() or int(after_text) > MAX_AFTER:
        raise FieldError("after", STRINGS.reports.bad_after, after_text[:20])
    return chosen, int(after_text)


@requires(Permission.READ)
def recipients_page(request: Request) -> Response:
    principal, mailer = principal_of(request), _mailer(request)
    campaign_id = _campaign_id(request)
    chosen = {"status": "", "outcome": "", "activity": ""}
    error, status, page, after = "", 200, None, None
    try:
        chosen, after = _filters(request)
        wanted = actions.recipient_filter(**chosen)
        page = actions.recipients_page(
            mailer, principal, campaign_id, wanted, after=after, limit=PAGE_SIZE
        )
    except NotFoundError:
        return _missing(request)
    except MailerError as exc:
        error, status = str(exc), 400
    try:
        campaign = actions.campaign(mailer, principal, campaign_id)
    except NotFoundError:
        return _missing(request)
    query = urlencode({name: value for name, value in chosen.items() if value})
    return admin_page(
        request,
        "admin/campaign_recipients.html",
        principal,
        status_code=status,
        campaign=campaign,
        recipients=page.items if page else [],
        next_after=page.next_after if page else None,
        paged=after is not None,
        chosen=chosen,
        filter_query=query,
        statuses=DELIVERY_STATUSES,
        outcomes=actions.OUTCOME_CHOICES,
        activities=actions.ACTIVITY_CHOICES,
        when=epoch_text,
        error=error,
        notice="",
        current="campaigns",
    )


def routes(mailer: Mailer) -> list[BaseRoute]:
    one = f"{PATH}/{{campaign_id:int}}"
    return [
        Route(f"{one}/report", report_page, methods=["GET"], name="admin_campaign_report"),
        Route(
            f"{one}/recipients",
            recipients_page,
            methods=["GET"],
            name="admin_campaign_recipients",
        ),
    ]
