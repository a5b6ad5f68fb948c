"""``/issues``: the issue files, read, checked and rendered with any token; test copies sent
with one whose role edits issues (editor and up). An issue is named by its number: anything
else names no issue (404)."""

from __future__ import annotations

import datetime as dt
from typing import Annotated

from fastapi import APIRouter, Depends, Path
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mailer.accounts.roles import Permission, Principal
from mailer.actions import issues as actions
from mailer.actions.issues import IssueDetail, IssueStatus, IssueSummary, ShownFinding
from mailer.api.auth import AppMailer, Reader, authorized
from mailer.api.paging import DEFAULT_LIMIT, Cursor, Cursors, Limit, Page
from mailer.api.problems import problem_responses
from mailer.api.text import ONE_LINE, one_line
from mailer.checks.findings import Level
from mailer.services.issue_files import MAX_TEST_ADDRESSES

router = APIRouter(prefix="/issues", tags=["issues"])

IssueEditor = Annotated[Principal, Depends(authorized(Permission.EDIT_ISSUES))]
NumberInPath = Annotated[
    str,
    Path(
        description="The issue's number (the NNNN of issues/NNNN-slug.md), e.g. 87; "
        "anything else names no issue (404).",
        # Said, not enforced: text that is not a number is a 404, as an unknown number is.
        json_schema_extra={"pattern": r"^[0-9]{1,6}$"},
    ),
]


class IssueOut(BaseModel):
    number: int
    file: str = Field(description="The file's name in the issues folder.")
    status: IssueStatus = Field(
        description="From the front matter; `invalid` when the file cannot be read as an issue."
    )
    title: str | None
    date: dt.date | None
    template: str | None
    sent_to: list[str] = Field(description="The lists a campaign of the issue started sending to.")
    errors: int = Field(description="How many errors `mailer check` finds.")
    warnings: int = Field(description="How many warnings `mailer check` finds.")

    @classmethod
    def of(cls, summary: IssueSummary) -> IssueOut:
        return cls(
            number=summary.number,
            file=summary.file,
            status=summary.status,
            title=summary.title,
            date=summary.date,
            template=summary.template,
            sent_to=list(summary.sent_to),
            errors=summary.errors,
            warnings=summary.warnings,
        )


class FindingOut(BaseModel):
    level: Level
    message: str
    where: str = Field(description="`issues/0087-slug.md:12`, or empty when nowhere.")
    path: str | None = Field(description="Relative to the project's folder.")
    line: int | None

    @classmethod
    def of(cls, finding: ShownFinding) -> FindingOut:
        return cls(
            level=finding.level,
            message=finding.message,
            where=finding.where,
            path=finding.path,
            line=finding.line,
        )


class IssueDetailOut(IssueOut):
    subject: str | None
    preheader: str | None
    findings: list[FindingOut]
    html_bytes: int | None = Field(description="The HTML part's size, when it renders.")

    @classmethod
    def of_detail(cls, detail: IssueDetail) -> IssueDetailOut:
        return cls(
            **IssueOut.of(detail.summary).model_dump(),
            subject=detail.subject,
            preheader=detail.preheader,
            findings=[FindingOut.of(finding) for finding in detail.findings],
            html_bytes=detail.html_bytes,
        )


class CheckOut(BaseModel):
    ok: bool = Field(description="No errors (warnings alone are ok).")
    findings: list[FindingOut]
    html_bytes: int | None


class RenderedOut(BaseModel):
    subject: str
    html: str = Field(description="The HTML part as a sample reader gets it.")
    text: str = Field(description="The plain-text part.")


Address = Annotated[
    str, Field(min_length=1, max_length=400, json_schema_extra=ONE_LINE), AfterValidator(one_line)
]


class SendTestIn(BaseModel):
    model_config = ConfigDict(extra="forbid", strict=True)
    to: list[Address] = Field(
        min_length=1,
        max_length=MAX_TEST_ADDRESSES,
        description=f"1 to {MAX_TEST_ADDRESSES} readers: `email` or `Name <email>`.",
    )


class SendTestOut(BaseModel):
    transport: str = Field(description="The configured transport the copies went through.")
    sent: list[str]
    refused: dict[str, str] = Field(description="Address: why the transport refused it.")


@router.get(
    "",
    summary="Issues, by number, each checked",
    response_model=Page[IssueOut],
    responses=problem_responses(400, 401, 403, 422, 429, 500),
)
def get_issues(
    mailer: AppMailer, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[IssueOut]:
    cursors = Cursors(mailer.signing_key, "issues")
    after = None if cursor is None else int(cursors.decode(cursor, 1)[0])
    page = actions.issue_page(mailer, principal, after=after, limit=limit)
    next_cursor = None if page.next_after is None else cursors.encode([str(page.next_after)])
    return Page[IssueOut](items=[IssueOut.of(item) for item in page.items], next_cursor=next_cursor)


@router.get(
    "/{number}",
    summary="An issue: front matter, status and findings",
    response_model=IssueDetailOut,
    responses=problem_responses(401, 403, 404, 409, 422, 429, 500),
)
def get_issue(mailer: AppMailer, principal: Reader, number: NumberInPath) -> IssueDetailOut:
    return IssueDetailOut.of_detail(actions.show_issue(mailer, principal, number))


@router.get(
    "/{number}/render",
    summary="An issue rendered: subject, HTML and text parts",
    description="As a sample reader gets it. 400 when the issue cannot be rendered, saying why.",
    response_model=RenderedOut,
    responses=problem_responses(400, 401, 403, 404, 409, 422, 429, 500),
)
def get_rendered_issue(mailer: AppMailer, principal: Reader, number: NumberInPath) -> RenderedOut:
    email = actions.render_issue(mailer, principal, number)
    return RenderedOut(subject=email.subject, html=email.html, text=email.text)


@router.post(
    "/{number}/check",
    summary="Check an issue as `mailer check` does",
    response_model=CheckOut,
    responses=problem_responses(401, 403, 404, 409, 413, 422, 429, 500),
)
def post_check(mailer: AppMailer, principal: Reader, number: NumberInPath) -> CheckOut:
    detail = actions.show_issue(mailer, principal, number)
    return CheckOut(
        ok=detail.summary.errors == 0,
        findings=[FindingOut.of(finding) for finding in detail.findings],
        html_bytes=detail.html_bytes,
    )


@router.post(
    "/{number}/test-send",
    summary="Send test copies of an issue",
    description="The subject is marked [TEST]; the copies go through the configured transport. "
    "400 when the issue has errors (nothing is sent) or the transport failed.",
    response_model=SendTestOut,
    responses=problem_responses(400, 401, 403, 404, 409, 413, 415, 422, 429, 500),
)
def post_test_send(
    mailer: AppMailer, principal: IssueEditor, number: NumberInPath, body: SendTestIn
) -> SendTestOut:
    sent = actions.send_test_copies(mailer, principal, number, body.to)
    return SendTestOut(transport=sent.transport, sent=sent.sent, refused=sent.refused)
