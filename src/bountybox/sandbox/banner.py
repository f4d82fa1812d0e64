"""What `bountybox serve --sandbox` prints before it serves: where the API and the control plane
are, the tokens, and snippets to paste into a shell or a Python session."""

from __future__ import annotations

from bountybox.core.auth import TokenKind
from bountybox.packs.loader import LoadedToken


def banner(
    *, base_url: str, sandbox_token: str, seed: str, tokens: list[LoadedToken], database: str
) -> str:
    api = f"{base_url}/v1"
    admin = next((t for t in tokens if t.kind is TokenKind.ORGANIZATION), None)
    identifier, value = (admin.identifier, admin.value) if admin else ("IDENTIFIER", "VALUE")
    program = "PROGRAM" if admin is None else (admin.organization or "PROGRAM")
    lines = [
        f"bountybox sandbox serving {api} ({database}), seed pack: {seed}",
        "",
        f"  control plane  {base_url}/_sandbox/   Authorization: Bearer {sandbox_token}",
        "  (faults, inspector, clock and snapshots live in this one server process)",
        "",
        "  tokens (the same on every start; see docs/sandbox.md):",
    ]
    for token in tokens:
        owner = (
            f"organization {token.organization}"
            if token.kind is TokenKind.ORGANIZATION
            else "hacker API"
        )
        lines.append(f"    {token.identifier}:{token.value}  ({owner})")
    if not tokens:
        lines.append(
            "    none in this pack: POST /_sandbox/fixtures with an organization and a token"
        )
    lines += [
        "",
        "  curl",
        f"    curl -u {identifier}:{value} {api}/me/programs",
        f'    curl -g -u {identifier}:{value} "{api}/reports?filter[program][]={program}"',
        f"    curl -X POST -H 'Authorization: Bearer {sandbox_token}'"
        f' -d \'{{"seed": "{seed if "/" not in seed else "empty"}"}}\' {base_url}/_sandbox/reset',
        "",
        "  Python, the h1 client",
        "    from h1.client import HackerOneClient",
        "    from h1.models import Report",
        f'    HackerOneClient.BASE_URL = "{api}"',
        f'    client = HackerOneClient("{identifier}", "{value}")',
        f'    reports = list(client.find_resources(Report, program=["{program}"]))',
        "",
        "  Python, requests",
        "    import requests",
        f'    session = requests.Session(); session.auth = ("{identifier}", "{value}")',
        f'    session.get("{api}/reports", params={{"filter[program][]": "{program}"}}).json()',
        f'    session.post("{base_url}/_sandbox/reset", json={{}},'
        f' headers={{"Authorization": "Bearer {sandbox_token}"}})',
        "",
    ]
    return "\n".join(lines)
