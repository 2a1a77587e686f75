"""A contact list made the way a customer makes one: over the running server's REST API."""

from __future__ import annotations

from collections.abc import Iterable

from tests.support.php import Gateway
from tests.support.server import Account


def make_list(
    gw: Gateway, account: Account, name: str, csv_text: str, *, opted_out: Iterable[str] = ()
) -> str:
    """Create the list, import ``csv_text`` into it (every row must be added) and put the
    ``opted_out`` numbers on the account's suppression list; the list's id."""
    auth = (account.client_id, account.client_secret)
    made = gw.http.post("/v1/contact-lists", auth=auth, json={"name": name})
    assert made.status_code == 201, made.text
    list_id: str = made.json()["id"]
    imported = gw.http.post(
        f"/v1/contact-lists/{list_id}/import",
        auth=auth,
        content=csv_text.encode("cp1252"),
        headers={"content-type": "text/csv"},
    )
    assert imported.status_code == 200, imported.text
    assert imported.json()["added"] == csv_text.strip().count("\n"), imported.text
    for number in opted_out:
        added = gw.http.post("/v1/suppressions", auth=auth, json={"number": number})
        assert added.status_code == 201, added.text
    return list_id
