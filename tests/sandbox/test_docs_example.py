"""The example of docs/sandbox.md, as it is written there: a small integration script and its
tests against the plugin's sandbox server. The last test keeps the two in step."""

import re
from pathlib import Path

import httpx
import pytest

# ---- my_integration.py ----


def note_new_reports(api_url: str, auth: tuple[str, str], program: str) -> list[str]:
    """Leaves an internal note on every new report of the program; returns their ids."""
    with httpx.Client(base_url=api_url, auth=auth) as api:
        listed = api.get(
            "/reports", params={"filter[program][]": program, "filter[state][]": "new"}
        )
        listed.raise_for_status()
        noted = []
        for report in listed.json()["data"]:
            note = {
                "type": "activity-comment",
                "attributes": {"message": "Seen by the bot.", "internal": True},
            }
            api.post(f"/reports/{report['id']}/activities", json={"data": note}).raise_for_status()
            noted.append(report["id"])
        return noted


# ---- test_my_integration.py ----


def test_every_new_report_gets_a_note(bountybox_server):
    token = bountybox_server.token
    noted = note_new_reports(bountybox_server.api_url, token.auth, "acme")
    assert len(noted) == 4
    posts = bountybox_server.requests(method="POST")
    assert [post["path"] for post in posts] == [f"/v1/reports/{id}/activities" for id in noted]
    # Each test starts from the seed again, so a second run finds the same reports.
    assert note_new_reports(bountybox_server.api_url, token.auth, "acme") == noted


def test_notes_carry_the_frozen_time(bountybox_server):
    bountybox_server.freeze("2026-03-01T09:00:00Z")
    note_new_reports(bountybox_server.api_url, bountybox_server.token.auth, "acme")
    first = bountybox_server.requests(method="POST")[0]
    assert first["response"]["json"]["data"]["attributes"]["created_at"] == (
        "2026-03-01T09:00:00.000Z"
    )


def test_an_unavailable_api_stops_the_run(bountybox_server):
    bountybox_server.fault("/v1/reports/*/activities", method="POST", status=503, count=1)
    with pytest.raises(httpx.HTTPStatusError) as failed:
        note_new_reports(bountybox_server.api_url, bountybox_server.token.auth, "acme")
    assert failed.value.response.status_code == 503
    assert failed.value.response.headers["Retry-After"] == "1"


def test_the_documentation_shows_this_code() -> None:
    docs = (Path(__file__).parents[2] / "docs" / "sandbox.md").read_text()
    here = Path(__file__).read_text()
    blocks = re.findall(r"```python\n(.*?)```", docs, re.DOTALL)
    assert len(blocks) == 2
    for block in blocks:
        # Everything but the file name comment and the import of the integration module.
        body = [
            line
            for line in block.splitlines()
            if not line.startswith(("# ", "from my_integration", "import "))
        ]
        assert "\n".join(body).strip() in here
