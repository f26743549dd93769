"""The desk's partner page (issue 19 with issue 18's states), over real HTTP on loopback:
the demo partners run into a real SQLite file, then one partner's pages turn into a
JavaScript shell and a maintenance notice (degraded, pages held aside) and another
partner's site disappears (failed). The desk's /health names both with their state and
why, lists the held pages, and says the week's digest names them too."""
from __future__ import annotations

import re
import shutil
from datetime import timedelta

import httpx

from fixtures.desk_server import DeskServer, free_port
from pipeline.desk import DeskSettings
from pipeline.publish import Week
from test_partner_health import ARTICLE, FIXTURES, OPEN_HOUSE, health_of, sites, syn  # noqa: F401 (fixtures)


def test_the_partner_page_names_failed_and_degraded_partners_and_why(syn, sites):  # noqa: F811
    assert syn.run().outcome == "ok"
    syn.clock.next_day()
    sites.replace(ARTICLE, (FIXTURES / "js-shell.html").read_bytes())
    sites.replace(OPEN_HOUSE, (FIXTURES / "maintenance.html").read_bytes())
    shutil.rmtree(sites.root / "tidewell")
    result = syn.run(recheck_after=timedelta(0))
    assert result.failed and result.degraded
    assert health_of(syn, "tidewell").state == "failed" and health_of(syn, "alderbrook").state == "degraded"
    week = str(Week.containing(syn.clock()))
    with DeskServer(syn, DeskSettings(port=free_port(), editor="Ada", week=week)) as server, \
            httpx.Client(follow_redirects=False) as client:
        page = client.get(server.base + "/health")
    assert page.status_code == 200, page.text[:300]
    html = page.text
    now_part = html[html.index("<h2>Now</h2>"):]
    week_part = html[html.index(f"<h2>Week {week}</h2>"):html.index("<h2>Now</h2>")]
    # this week: both partners, as the digest's editor's note names them
    assert "Alderbrook Recovery Center" in week_part and "Tidewell House" in week_part
    assert '<li class="partner degraded">' in week_part and '<li class="partner failed">' in week_part
    # now: the states, why, and the held pages; the partners to look at first come first
    states = re.findall(r'data-state="([a-z]+)"', now_part)
    assert states[:2] == ["failed", "degraded"] and set(states[2:]) == {"healthy"}
    alderbrook = now_part[now_part.index("(alderbrook)"):now_part.index("</li>\n</ul>\n</li>")]
    assert "<b>js-shell</b>" in alderbrook and "<b>maintenance</b>" in alderbrook
    assert "2 page(s) held aside" in alderbrook and sites.url(ARTICLE) in alderbrook
    tidewell = now_part[now_part.index("(tidewell)"):]
    assert "failed" in tidewell[:300] and "404" in tidewell[:2000]
