"""`mailer subscribers import` of files made by other tools and by hand: Mailchimp's and
listmonk's exports, other spellings of the header names, other delimiters, other encodings,
and columns named with --map."""

from __future__ import annotations

import io
import json
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest

from mailer.audience.csv_chunks import read_chunks
from mailer.audience.csv_encoding import NotDecodable
from mailer.audience.csv_mapping import guessed_mapping
from mailer.audience.csv_reading import CsvReading
from mailer.audience.import_files import preview
from tests.conftest import CliResult, Project, show_json

Cli = Callable[..., CliResult]

MAILCHIMP = (
    '"Email Address","First Name","Last Name","Address","Phone Number","MEMBER_RATING",'
    '"OPTIN_TIME","OPTIN_IP","CONFIRM_TIME","TIMEZONE","LEID","TAGS"\r\n'
    '"ada@example.com","Ada","Lin","1 Long Road  Shanghai  200000 CN","+86 21 5555",2,'
    '"2021-03-04 10:11:12","203.0.113.9","2021-03-04 10:12:00","Asia/Shanghai",'
    '"123456","""ai"",""policy"""\r\n'
    '"bo@example.com","Bo","","","",1,"2022-01-01 00:00:00","","","","123457",""\r\n'
)
LISTMONK = (
    "uuid,email,name,attributes,status,created_at,updated_at\n"
    'b0ab9a2c-1,li@example.com,Li Lei,"{""city"": ""Beijing"", ""Plan Tier"": 2, '
    '""tags"": [""ai"", ""chips""]}",enabled,2021-01-01 00:00:00+00,2021-02-01 00:00:00+00\n'
    "b0ab9a2c-2,blocked@example.com,Blocked,{},blocklisted,2021-01-01,2021-01-01\n"
    "b0ab9a2c-3,plain@example.com,,,enabled,2021-01-01,2021-01-01\n"
)


@pytest.fixture
def weekly(db_project: Project, cli: Cli) -> Cli:
    assert cli("lists", "create", "weekly").code == 0
    return cli


def write(project: Project, name: str, data: str | bytes) -> str:
    (project.root / name).write_bytes(data.encode() if isinstance(data, str) else data)
    return name


def imported(cli: Cli, file: str, *args: str) -> dict[str, Any]:
    result = cli("subscribers", "import", file, "--list", "weekly", "--json", *args)
    assert result.code == 0, result.err
    summary: dict[str, Any] = json.loads(result.out)
    return summary


def refused(cli: Cli, file: str, *args: str) -> str:
    result = cli("subscribers", "import", file, "--list", "weekly", *args)
    assert result.code == 1, result.out
    return result.err


def problems(summary: dict[str, Any]) -> list[tuple[int, str, str]]:
    return [(p["line"], p["email"], p["reason"]) for p in summary["problems"]]


def stored(cli: Cli, email: str) -> tuple[str, dict[str, Any]]:
    detail = show_json(cli, email)
    return detail["name"], detail["attributes"]


def test_a_mailchimp_export_keeps_names_tags_and_its_other_columns(
    db_project: Project, weekly: Cli
) -> None:
    summary = imported(weekly, write(db_project, "members_export.csv", MAILCHIMP))
    assert (summary["imported"], summary["rejected"]) == (2, 0)
    name, attributes = stored(weekly, "ada@example.com")
    assert name == "Ada Lin"
    assert show_json(weekly, "ada@example.com")["timezone"] == "Asia/Shanghai"
    assert attributes == {
        "address": "1 Long Road  Shanghai  200000 CN",
        "phone_number": "+86 21 5555",
        "member_rating": "2",
        "optin_time": "2021-03-04 10:11:12",
        "optin_ip": "203.0.113.9",
        "confirm_time": "2021-03-04 10:12:00",
        "leid": "123456",
        "tags": ["ai", "policy"],
    }
    assert stored(weekly, "bo@example.com") == (
        "Bo",
        {"member_rating": "1", "optin_time": "2022-01-01 00:00:00", "leid": "123457"},
    )


def test_mailchimps_unsubscribed_and_cleaned_exports_add_nobody(
    db_project: Project, weekly: Cli
) -> None:
    data = (
        "Email Address,First Name,UNSUB_TIME,CLEAN_TIME\n"
        "gone@example.com,Gone,2023-05-06 07:08:09,\n"
        "bounced@example.com,Bounced,,2023-01-02 03:04:05\n"
    )
    summary = imported(weekly, write(db_project, "unsubscribed.csv", data))
    assert summary["imported"] == 0
    assert problems(summary) == [
        (
            2,
            "gone@example.com",
            "unsubscribed in the tool it was exported from (UNSUB_TIME '2023-05-06 07:08:09'); "
            "not imported",
        ),
        (
            3,
            "bounced@example.com",
            "cleaned (the address bounced) in the tool it was exported from (CLEAN_TIME "
            "'2023-01-02 03:04:05'); not imported",
        ),
    ]


def test_a_listmonk_export_reads_its_attributes_and_keeps_out_the_blocklisted(
    db_project: Project, weekly: Cli
) -> None:
    summary = imported(weekly, write(db_project, "subscribers.csv", LISTMONK))
    assert (summary["imported"], summary["rejected"]) == (2, 1)
    assert problems(summary) == [
        (
            3,
            "blocked@example.com",
            "not mailed in the tool it was exported from (status 'blocklisted'); not imported",
        )
    ]
    # uuid, status and the dates are listmonk's own: not attributes here.
    assert stored(weekly, "li@example.com") == (
        "Li Lei",
        {"city": "Beijing", "plan_tier": "2", "tags": ["ai", "chips"]},
    )
    assert stored(weekly, "plain@example.com") == ("", {})
    # Told to, the import takes them in all the same.
    assert imported(weekly, "subscribers.csv", "--map", "status=")["imported"] == 1
    assert stored(weekly, "blocked@example.com") == ("Blocked", {})


def test_a_bad_attributes_cell_rejects_its_row(db_project: Project, weekly: Cli) -> None:
    data = (
        "uuid,email,name,attributes,status\n"
        "1,ok@example.com,Ok,{},enabled\n"
        '2,list@example.com,L,"[1, 2]",enabled\n'
        '3,text@example.com,T,"{not json",enabled\n'
    )
    summary = imported(weekly, write(db_project, "lm.csv", data))
    assert problems(summary) == [
        (3, "list@example.com", "the attributes cell is not a JSON object"),
        (4, "text@example.com", "the attributes cell is not JSON"),
    ]


def test_semicolons_tabs_and_other_spellings_are_found(db_project: Project, weekly: Cli) -> None:
    semicolons = "E-mail;Given name;surname;Home City;tags\ncy@example.com;Cy;Wu;Paris;x,y\n"
    tabs = " MAIL \tFull Name\tTZ\nde@example.com\tDe Ng\tEurope/Madrid\n"
    assert imported(weekly, write(db_project, "semi.csv", semicolons))["imported"] == 1
    assert imported(weekly, write(db_project, "tabs.tsv", tabs))["imported"] == 1
    assert stored(weekly, "cy@example.com") == ("Cy Wu", {"home_city": "Paris", "tags": ["x", "y"]})
    de = show_json(weekly, "de@example.com")
    assert (de["name"], de["timezone"], de["attributes"]) == ("De Ng", "Europe/Madrid", {})


@pytest.mark.parametrize("tags", ["tags", "Tags", "TAGS", " tAgS "])
def test_a_tags_column_is_a_list_in_any_case(db_project: Project, weekly: Cli, tags: str) -> None:
    data = f"Email,{tags}\nt@example.com,ai; policy\n"
    imported(weekly, write(db_project, "t.csv", data))
    assert stored(weekly, "t@example.com")[1] == {"tags": ["ai", "policy"]}


def test_the_delimiter_can_be_given(db_project: Project, weekly: Cli) -> None:
    # One column of addresses holding commas in their names: nothing to tell it by.
    data = "email|name\npi@example.com|Pi, the Third\n"
    assert imported(weekly, write(db_project, "p.csv", data), "--delimiter", "|")["imported"] == 1
    assert stored(weekly, "pi@example.com")[0] == "Pi, the Third"
    tab = "email\tname\nqu@example.com\tQu\n"
    assert imported(weekly, write(db_project, "q.csv", tab), "--delimiter", "\\t")["imported"] == 1
    assert refused(weekly, "q.csv", "--delimiter", ":").startswith(
        "error: --delimiter ':': use ',', ';', '|' or tab"
    )


def test_map_names_the_columns_no_name_tells(db_project: Project, weekly: Cli) -> None:
    data = "Courriel,Prénom,Nom de famille,Ville,Notes internes\nel@example.com,Élise,Roy,Lyon,x\n"
    name = write(db_project, "fr.csv", data)
    # Without --map the header says which column is not understood and what to do.
    assert refused(weekly, name).endswith(
        "error: fr.csv:1: column 2: attribute name 'Prénom': use letters, digits, '_', '.' or "
        "'-', starting with a letter or '_' (email, name and timezone are fields of their own); "
        "or map it with --map 'Prénom=FIELD' (--map 'Prénom=' ignores it)\n"
    )
    assert refused(weekly, name, "--map", "Prénom=", "--map", "Nom de famille=").startswith(
        "error: fr.csv:1: the header row has no 'email' column (columns: 'Courriel', "
    )
    maps = ["Courriel=email", "prénom=first_name", "NOM DE FAMILLE=last_name"]
    args = [f"--map={each}" for each in [*maps, "Ville=attribute:city", "Notes internes="]]
    assert imported(weekly, name, *args)["imported"] == 1
    assert stored(weekly, "el@example.com") == ("Élise Roy", {"city": "Lyon"})


def test_a_bad_map_names_the_column_or_the_field(db_project: Project, weekly: Cli) -> None:
    name = write(db_project, "m.csv", "email,Ville\nma@example.com,Lyon\n")
    assert refused(weekly, name, "--map", "Town=attribute:city").startswith(
        "error: m.csv:1: --map 'Town': the header row has no such column (columns: 'email', "
        "'Ville')"
    )
    assert refused(weekly, name, "--map", "Ville=town").startswith(
        "error: --map 'Ville=town': no field 'town': use email, name, first_name, last_name, "
        "timezone, tags, attribute:<name>"
    )
    assert refused(weekly, name, "--map", "Ville").startswith(
        "error: --map 'Ville': write it as COLUMN=FIELD"
    )
    assert refused(weekly, name, "--map", "Ville=email").startswith(
        "error: m.csv:1: columns 'email' and 'Ville' are both the email address"
    )
    assert weekly("subscribers", "show", "ma@example.com").code == 1  # nothing was imported


LATIN_1 = "email,name\nan@example.com,Ann\nbe@example.com,Béatrice Müller\nce@example.com,Cé\n"


def test_a_file_that_is_not_utf8_stops_with_a_hint(db_project: Project, weekly: Cli) -> None:
    name = write(db_project, "excel.csv", LATIN_1.encode("latin-1"))
    message = refused(weekly, name)
    offset = LATIN_1.encode("latin-1").index(b"\xe9") + 1
    assert message == (
        f"error: excel.csv:3: byte {offset} of the file (0xE9) is not UTF-8; if it is in "
        "Latin-1 or Windows-1252 (as Excel saves CSV), import it with --encoding latin-1 (or "
        "--encoding cp1252)\n"
    )
    # Nothing was imported, not even the rows before the bad byte.
    assert weekly("subscribers", "show", "an@example.com").code == 1


def test_encoding_latin1_imports_the_names_as_written(db_project: Project, weekly: Cli) -> None:
    name = write(db_project, "excel.csv", LATIN_1.encode("latin-1"))
    assert imported(weekly, name, "--encoding", "latin-1")["imported"] == 3
    assert stored(weekly, "be@example.com")[0] == "Béatrice Müller"
    assert stored(weekly, "ce@example.com")[0] == "Cé"
    windows = "email;name\neu@example.com;Euro € “Quote”\n".encode("cp1252")
    imported(weekly, write(db_project, "win.csv", windows), "--encoding", "cp1252")
    assert stored(weekly, "eu@example.com")[0] == "Euro € “Quote”"
    assert refused(weekly, name, "--encoding", "klingon").startswith(
        "error: --encoding 'klingon': no such encoding"
    )


def test_a_bom_is_accepted(db_project: Project, weekly: Cli) -> None:
    data = "\ufeffEmail Address;First Name\nbo@example.com;Bö\n".encode()
    assert imported(weekly, write(db_project, "bom.csv", data))["imported"] == 1
    assert stored(weekly, "bo@example.com")[0] == "Bö"


class _Pipe(io.BytesIO):
    """Bytes that can be read only once, as from a pipe."""

    def seekable(self) -> bool:
        return False


def test_from_a_pipe_the_stop_comes_at_the_bad_line() -> None:
    rows = "".join(f"r{n}@example.com,R{n}\n" for n in range(2, 6))
    data = ("email,name\n" + rows).encode() + b"x@example.com,\xff\n"
    reading = CsvReading(encoding="utf-8")
    with pytest.raises(NotDecodable) as caught:
        list(read_chunks(_Pipe(data), "<stdin>", 2, reading=reading))
    offset = data.index(b"\xff") + 1
    assert str(caught.value) == f"<stdin>:6: byte {offset} of the file (0xFF) is not UTF-8"
    cut = "email\nend@example.com,é\n".encode()[:-2]
    with pytest.raises(NotDecodable, match=r"<stdin>:2: the file ends inside a UTF-8 character"):
        list(read_chunks(_Pipe(cut), "<stdin>", 2, reading=reading))


def test_the_admin_preview_reads_other_delimiters_and_spellings(tmp_path: Path) -> None:
    path = tmp_path / "upload.csv"
    path.write_text("Email Address;First Name;Phone Number\nab@example.com;Ab;555\n", "utf-8")
    header, rows = preview(path)
    assert header == ["Email Address", "First Name", "Phone Number"]
    assert rows == [["ab@example.com", "Ab", "555"]]
    assert guessed_mapping(header) == ("email", "attribute:first_name", "attribute:phone_number")
