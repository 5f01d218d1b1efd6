"""A namespace with more datasets than a list loads: the list says so instead of passing for complete."""

from __future__ import annotations

import re
from datetime import datetime, timezone

from playwright.sync_api import expect

from tests.web.events import PRODUCER, SPEC

MANY = 1005  # over the 1,000 datasets a list loads per namespace
STATUS = re.compile(r"^(\d+) of (\d+) \(the first 1,000 of each namespace, ([\d,]+) of ([\d,]+): "
                    r"the search box finds the others\)$")


def test_a_list_longer_than_it_loads_says_how_many_there_are_and_how_to_find_them(page, post):
    now = datetime.now(timezone.utc).isoformat(timespec="milliseconds")
    post([{"eventTime": now, "producer": PRODUCER, "schemaURL": f"{SPEC}/2-0-2/OpenLineage.json#/$defs/DatasetEvent",
           "dataset": {"namespace": "web-tests-many", "name": f"/data/web-tests/many/table_{n:04d}", "facets": {}}}
          for n in range(MANY)])
    page.goto("/#/datasets")
    status = page.locator("[data-testid=list-status]")
    expect(status).to_have_text(STATUS)
    shown, loaded, loaded_again, stored = (int(g.replace(",", "")) for g in STATUS.match(status.inner_text()).groups())
    assert shown == loaded == loaded_again
    assert stored - loaded == MANY - 1000  # the other namespace is loaded whole
    expect(page.locator("[data-testid=dataset-row]")).to_have_count(loaded)
