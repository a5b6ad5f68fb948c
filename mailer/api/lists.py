"""``/lists``: mailing lists, read with any token, changed with one whose role may manage
the audience."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from fastapi import APIRouter, Path, Request, Response
from pydantic import AfterValidator, BaseModel, ConfigDict, Field

from mailer.actions import lists as actions
from mailer.api.auth import AppMailer, AudienceManager, Reader
from mailer.api.paging import DEFAULT_LIMIT, Cursor, Cursors, Limit, Page
from mailer.api.problems import problem_responses
from mailer.api.text import LINES, ONE_LINE, lines, one_line
from mailer.audience.lists import ListChanges, ListDeletion, MailingList

router = APIRouter(prefix="/lists", tags=["lists"])

NAME_PATTERN = r"^[a-z0-9][a-z0-9_-]{0,99}$"
NAME_RULE = "1-100 lower-case letters, digits, '-' or '_', starting with a letter or digit"
ListName = Annotated[str, Field(pattern=NAME_PATTERN, description=f"The list's name: {NAME_RULE}.")]
Title = Annotated[
    str,
    Field(
        max_length=200,
        description="Shown to subscribers; the name when empty.",
        json_schema_extra=ONE_LINE,
    ),
    AfterValidator(one_line),
]
Description = Annotated[
    str,
    Field(max_length=5000, description="What the list is about.", json_schema_extra=LINES),
    AfterValidator(lines),
]
NameInPath = Annotated[str, Path(pattern=NAME_PATTERN, description="The list's name.")]
INPUT = ConfigDict(extra="forbid", strict=True)


class ListCounts(BaseModel):
    unconfirmed: int
    confirmed: int
    unsubscribed: int


class ListOut(BaseModel):
    name: str
    title: str
    description: str
    double_opt_in: bool = Field(description="New members confirm by email before mailing.")
    public: bool = Field(description="Offered on the public pages to everyone.")
    created_at: datetime
    counts: ListCounts = Field(description="Members by status.")

    @classmethod
    def of(cls, mailing_list: MailingList) -> ListOut:
        return cls(
            name=mailing_list.name,
            title=mailing_list.title,
            description=mailing_list.description,
            double_opt_in=mailing_list.double_opt_in,
            public=mailing_list.public,
            created_at=mailing_list.created_at,
            counts=ListCounts.model_validate(mailing_list.counts),
        )


class ListIn(BaseModel):
    model_config = INPUT
    name: ListName
    title: Title = ""
    description: Description = ""
    double_opt_in: bool = False
    public: bool = False


class ListPatch(BaseModel):
    """The fields to change; those left out (or null) stay as they are."""

    model_config = INPUT
    title: Title | None = None
    description: Description | None = None
    double_opt_in: bool | None = None
    public: bool | None = None


class ListDeleted(BaseModel):
    name: str
    memberships: int = Field(description="Memberships deleted with the list.")
    unsubscribes_kept: int = Field(
        description="Of those, the unsubscribed, kept: they stay unsubscribed from a list "
        "created again under the name."
    )


def _cursors(mailer: AppMailer) -> Cursors:
    return Cursors(mailer.signing_key, "lists")


@router.get(
    "",
    summary="Lists, by name",
    response_model=Page[ListOut],
    responses=problem_responses(400, 401, 403, 422, 429, 500),
)
def get_lists(
    mailer: AppMailer, principal: Reader, limit: Limit = DEFAULT_LIMIT, cursor: Cursor = None
) -> Page[ListOut]:
    cursors = _cursors(mailer)
    after = None if cursor is None else cursors.decode(cursor, 1)[0]
    page = actions.list_page(mailer, principal, after=after, limit=limit)
    next_cursor = None if page.next_after is None else cursors.encode([page.next_after])
    return Page[ListOut](items=[ListOut.of(found) for found in page.items], next_cursor=next_cursor)


@router.post(
    "",
    summary="Create a list",
    status_code=201,
    response_model=ListOut,
    responses=problem_responses(400, 401, 403, 409, 413, 415, 422, 429, 500),
)
def post_list(
    mailer: AppMailer,
    principal: AudienceManager,
    body: ListIn,
    request: Request,
    response: Response,
) -> ListOut:
    created = actions.create_list(
        mailer,
        principal,
        body.name,
        title=body.title,
        description=body.description,
        double_opt_in=body.double_opt_in,
        public=body.public,
    )
    where = request.app.url_path_for("get_list", name=created.name)
    response.headers["Location"] = request.scope.get("root_path", "") + where
    return ListOut.of(created)


@router.get(
    "/{name}",
    summary="A list",
    response_model=ListOut,
    responses=problem_responses(400, 401, 403, 404, 422, 429, 500),
)
def get_list(mailer: AppMailer, principal: Reader, name: NameInPath) -> ListOut:
    return ListOut.of(actions.show_list(mailer, principal, name))


@router.patch(
    "/{name}",
    summary="Change a list's title, description, opt-in or visibility",
    response_model=ListOut,
    responses=problem_responses(400, 401, 403, 404, 413, 415, 422, 429, 500),
)
def patch_list(
    mailer: AppMailer, principal: AudienceManager, name: NameInPath, body: ListPatch
) -> ListOut:
    changes = ListChanges(
        title=body.title,
        description=body.description,
        double_opt_in=body.double_opt_in,
        public=body.public,
    )
    return ListOut.of(actions.change_list(mailer, principal, name, changes))


@router.delete(
    "/{name}",
    summary="Delete a list and its memberships",
    description="Subscribers, suppressions and who unsubscribed from the list are kept.",
    response_model=ListDeleted,
    responses=problem_responses(400, 401, 403, 404, 413, 422, 429, 500),
)
def delete_list(mailer: AppMailer, principal: AudienceManager, name: NameInPath) -> ListDeleted:
    deleted: ListDeletion = actions.delete_list(mailer, principal, name)
    return ListDeleted(
        name=name, memberships=deleted.memberships, unsubscribes_kept=deleted.unsubscribes_kept
    )
