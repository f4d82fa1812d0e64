"""The hacker side of the command line, end to end: demo hacker tokens, `bountybox hackers ...`,
and the served hacker API answering them."""

from __future__ import annotations

import httpx

from tests import test_cli
from tests.test_cli import bountybox

# The installation and the served API of the CLI tests, shared with them.
cli_env = test_cli.cli_env
server = test_cli.server

DEMO_HACKERS = ["r3dfox", "nullbyte", "kestrel", "pwnmeow", "bytebandit", "owlsec"]


def demo_tokens(env: dict[str, str]) -> dict[str, tuple[str, str]]:
    lines = bountybox(env, "demo", "--hackers").stdout.strip().splitlines()
    pairs = [line.split(":", 1) for line in lines]
    return {identifier: (identifier, value) for identifier, value in pairs}


def test_demo_prints_the_hackers_tokens_before_the_admin_token(cli_env: dict[str, str]) -> None:
    first = bountybox(cli_env, "demo", "--hackers").stdout.strip().splitlines()
    second = bountybox(cli_env, "demo", "--hackers").stdout.strip().splitlines()
    assert first == second
    assert [line.split(":", 1)[0] for line in first] == [*DEMO_HACKERS, "acme-admin"]
    plain = bountybox(cli_env, "demo").stdout.strip().splitlines()
    assert plain[-1] == first[-1]
    assert not any(line.startswith("r3dfox:") for line in plain)


def test_demo_hackers_use_the_served_hacker_api(cli_env: dict[str, str], server: str) -> None:
    tokens = demo_tokens(cli_env)

    def get(username: str, path: str, **params: str) -> httpx.Response:
        return httpx.get(f"{server}/v1/hackers/{path}", params=params, auth=tokens[username])

    allowed = get("r3dfox", "programs").json()["data"]
    assert [p["attributes"]["handle"] for p in allowed] == ["acme", "acme-vdp"]
    outsider = get("owlsec", "programs").json()["data"]
    assert [p["attributes"]["handle"] for p in outsider] == ["acme"]
    assert get("owlsec", "programs/acme-vdp").status_code == 404

    disclosed = get("r3dfox", "hacktivity", queryString="team:acme").json()["data"]
    assert len(disclosed) == 4
    assert all(item["attributes"]["disclosed"] for item in disclosed)
    assert len(get("r3dfox", "hacktivity").json()["data"]) == 5
    assert len(get("owlsec", "hacktivity").json()["data"]) == 4
    exclusions = get("r3dfox", "programs/acme/scope_exclusions").json()["data"]
    assert "Denial of Service" in [e["attributes"]["category"] for e in exclusions]
    intents = get("r3dfox", "report_intents").json()["data"]
    assert [i["attributes"]["state"] for i in intents] == ["ready_to_submit"]

    paid = [u for u in DEMO_HACKERS if get(u, "payments/payouts").json()["data"]]
    assert len(paid) == 1
    earned = sum(
        e["attributes"]["amount"] for e in get(paid[0], "payments/earnings").json()["data"]
    )
    payout = get(paid[0], "payments/payouts").json()["data"][0]
    balance = get(paid[0], "payments/balance").json()["data"]["balance"]
    assert round(earned - payout["amount"], 2) == balance
    assert payout["payout_provider"] == "PayPal"

    mine = get("r3dfox", "me/reports", **{"page[size]": "100"}).json()["data"]
    assert mine
    assert all(
        r["relationships"]["reporter"]["data"]["attributes"]["username"] == "r3dfox" for r in mine
    )


def test_hackers_commands_manage_tokens_access_and_payouts(
    cli_env: dict[str, str], server: str
) -> None:
    bountybox(cli_env, "demo")
    first = bountybox(cli_env, "hackers", "create", "neo").stdout.strip()
    identifier, _, value = first.partition(":")
    assert identifier == "neo"
    assert len(value) >= 32

    def handles(auth: tuple[str, str]) -> list[str]:
        response = httpx.get(f"{server}/v1/hackers/programs", auth=auth)
        assert response.status_code == 200, response.text
        return [p["attributes"]["handle"] for p in response.json()["data"]]

    assert handles(("neo", value)) == ["acme"]
    allowed = bountybox(cli_env, "hackers", "allow", "--program", "acme-vdp", "neo")
    assert allowed.stdout.strip() == "allowed on acme-vdp: neo"
    assert handles(("neo", value)) == ["acme", "acme-vdp"]
    removed = bountybox(cli_env, "hackers", "remove", "--program", "acme-vdp", "neo")
    assert removed.stdout.strip() == "removed from acme-vdp: neo"
    assert handles(("neo", value)) == ["acme"]

    second = bountybox(cli_env, "hackers", "create", "neo").stdout.strip()
    new_value = second.partition(":")[2]
    assert new_value != value
    assert httpx.get(f"{server}/v1/hackers/programs", auth=("neo", value)).status_code == 401
    assert handles(("neo", new_value)) == ["acme"]

    broke = bountybox(cli_env, "hackers", "payout", "neo", check=False)
    assert broke.returncode == 1
    assert "at most the balance of 0.00" in broke.stderr
    bad_amount = bountybox(cli_env, "hackers", "payout", "neo", "--amount", "1.234", check=False)
    assert bad_amount.returncode == 1
    taken = bountybox(cli_env, "hackers", "create", "acme-admin", check=False)
    assert taken.returncode == 1
    assert "organization API token" in taken.stderr
    unknown = bountybox(cli_env, "hackers", "allow", "--program", "nope", "neo", check=False)
    assert unknown.returncode == 1
