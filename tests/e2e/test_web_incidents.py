"""The web app's incident view in a real browser (Playwright driving Debian's Chromium) against
``lookout demo`` (issue 7).

A PHL-PCG watch officer opens an incident from an incursion alert with a photo attached and
requests assistance; a VNM-VCG watch officer, in another browser context, gets the request in
the alert feed and answers "can assist" with its asset; the PHL officer sees the answer and
the nearest member assets with distance and ETA, exports the signed evidence bundle (which
verifies) and closes the incident. Then an incident reported directly, its place picked on the
map, an API error shown as it is, and a viewer who sees incidents but no controls. Each step is
a PNG under the test's temp dir (copied to ``$LOOKOUT_WEB_SHOTS`` when set). Under ``CI=true``
a missing Chromium, Playwright, web build or region pack fails the tests.
"""

from __future__ import annotations

import subprocess
import time
from pathlib import Path
from typing import Any

from test_web_app import (
    LOOKOUT,
    DemoServer,
    _probe,
    _push,
    _signed_in,
    browser,  # noqa: F401 - a fixture, used by name
    demo,  # noqa: F401 - a fixture, used by name
    shots,  # noqa: F401 - a fixture, used by name
)

from lookout.model.incidents import CATEGORIES
from lookout.service.evidence import verify

PHL, VNM = "PHL-PCG", "VNM-VCG"
INTRUDER = 412_999_031  # MID 412: China, foreign to the Philippine territorial sea
VNM_ASSET = 574_000_871  # MID 574: Viet Nam
PHL_ASSET = 548_000_872  # MID 548: the Philippines
PHOTO = b"\xff\xd8\xff\xe0" + b"water cannon seen from the bridge " * 60
ACTED = ("#incident-close", "#incident-export", "#assist-form", "#comment-form", "#attach-form")


def _add_asset(server: DemoServer, member: str, mmsi: int, name: str, speed_kn: float) -> None:
    add = [*LOOKOUT, "assets", "add", "--member", member, "--mmsi", str(mmsi), "--name", name,
           "--speed-kn", str(speed_kn), "--data-dir", str(server.data_dir)]  # fmt: skip
    subprocess.run(add, check=True, capture_output=True, text=True)


def _assets_of(page: Any, incident_id: str) -> list[dict[str, Any]]:
    """The nearest assets as the API gives them to the page's signed-in user."""
    script = """async (id) => { const s = JSON.parse(sessionStorage.getItem('lookout.session'));
      const r = await fetch(`/api/v1/incidents/${id}/assets`,
                            {headers: {Authorization: `Bearer ${s.token}`}});
      return (await r.json()).assets; }"""
    found: list[dict[str, Any]] = page.evaluate(script, incident_id)
    return found


def test_two_members_work_an_incident_from_alert_to_signed_evidence(
    browser: Any,  # noqa: F811
    demo: DemoServer,  # noqa: F811
    shots: Path,  # noqa: F811
    tmp_path: Path,
) -> None:
    _add_asset(demo, VNM, VNM_ASSET, "CSB 8001", 16.0)
    _add_asset(demo, PHL, PHL_ASSET, "BRP Cabra", 20.0)
    now = time.time()
    _push(
        demo,
        [_probe(now - 30, 15.20, 119.20, VNM_ASSET), _probe(now - 30, 16.10, 119.60, PHL_ASSET)],
    )
    phl, phl_errors = _signed_in(browser, demo, PHL)
    vnm, vnm_errors = _signed_in(browser, demo, VNM)

    # A Chinese-flagged vessel enters the Philippine territorial sea: a high alert to PHL-PCG.
    _push(demo, [_probe(now + 60 * i, 15.7, 119.30 + 0.04 * i, INTRUDER) for i in range(4)])
    _push(demo, [_probe(now + 300, 15.7, 119.80, INTRUDER)])
    item = f'#feed li.sev-high[data-mmsi="{INTRUDER}"]'
    phl.wait_for_selector(item, timeout=5_000)
    event_id = phl.get_attribute(item, "data-id")
    phl.click(item)
    phl.click("#alert-incident")
    phl.wait_for_selector("#report-form")
    options = phl.eval_on_selector_all(
        "#report-category option:not([disabled])", "(os) => os.map((o) => o.value)"
    )
    assert options == list(CATEGORIES), "the form offers the categories of the API"
    assert phl.input_value("#report-category") == "incursion", "a zone entry is an incursion"
    assert phl.input_value("#report-vessels") == str(INTRUDER)
    assert float(phl.input_value("#report-lat")) == 15.7
    phl.select_option("#report-severity", "high")
    phl.fill("#report-description", "Water cannon used against BRP Cabra's escort off Zambales.")
    phl.set_input_files(
        "#report-files",
        files=[{"name": "bridge-photo.jpg", "mimeType": "image/jpeg", "buffer": PHOTO}],
    )
    phl.screenshot(path=shots / "inc-01-open-from-alert.png")

    phl.click("#report-submit")
    phl.wait_for_selector("#panel-title:has-text('Incident INC-')")
    incident_id = phl.inner_text("#panel-title").split()[-1]
    phl.wait_for_selector("#incident-files >> text=bridge-photo.jpg")
    page = phl.inner_text("#panel-body")
    assert "Incursion" in page and "OPEN" in page.upper() and PHL in page
    assert str(event_id) in page, "the alert's event is linked"
    assert f"{len(PHOTO) / 1024:.1f} kB" in phl.inner_text("#incident-files")
    assert "attached bridge-photo.jpg" in phl.inner_text("#incident-timeline")
    assert phl.locator("#incident-assets tbody tr").count() == 2, "both assets have a position"
    phl.screenshot(path=shots / "inc-02-incident-page.png")

    phl.fill("#assist-text", "Escort needed: two water cannon attacks in the last hour.")
    phl.click("#assist-request")
    phl.wait_for_selector("#incident-timeline >> text=requested assistance")
    assert phl.is_hidden("#assist-form"), "asked once"
    phl.screenshot(path=shots / "inc-03-assistance-requested.png")

    # VNM-VCG's officer gets the request on the live stream, in the feed.
    request = f'#feed li[data-id^="{incident_id}/assistance/"]'
    vnm.wait_for_selector(request, timeout=5_000)
    assert f"{PHL} requests assistance" in vnm.inner_text(request)
    vnm.click(request)
    vnm.wait_for_selector("#incident-redacted")
    shown = vnm.inner_text("#panel-body")
    assert "bridge-photo" not in shown and str(event_id) not in shown, "shared for assistance only"
    assert vnm.is_hidden("#comment-form") and vnm.locator("#incident-close").count() == 0
    vnm.wait_for_selector(f"#respond-asset option[value='{VNM_ASSET}']", state="attached")
    assert vnm.input_value("#respond-asset") == str(VNM_ASSET), "its own asset is offered"
    vnm.click("#respond-can_assist")
    vnm.wait_for_selector("#assist-answers >> text=can assist")
    vnm.screenshot(path=shots / "inc-04-vnm-answers.png")

    # PHL's officer sees the answer without a reload, and the assets with their ETAs.
    phl.wait_for_selector(f"#assist-answers >> text={VNM}", timeout=10_000)
    answer = phl.inner_text("#assist-answers")
    assert "can assist" in answer and "CSB 8001" in answer and "there at" in answer
    expected = _assets_of(phl, incident_id)
    rows = phl.locator("#incident-assets tbody tr")
    assert [int(str(rows.nth(n).get_attribute("data-mmsi"))) for n in range(rows.count())] == [
        a["mmsi"] for a in expected
    ], "soonest there first, as the API orders them"
    for n, asset in enumerate(expected):
        text = rows.nth(n).inner_text()
        assert f"{asset['distance_m'] / 1852:.1f} nm" in text
        minutes = round(asset["eta_s"] / 60)
        assert f"{minutes // 60} h {minutes % 60:02d} min" in text or f"{minutes} min" in text
    phl.screenshot(path=shots / "inc-05-answer-and-assets.png")

    with phl.expect_download() as downloading:
        phl.click("#incident-export")
    bundle = tmp_path / downloading.value.suggested_filename
    downloading.value.save_as(bundle)
    assert bundle.name == f"{incident_id}-evidence.zip"
    checked = verify(bundle)
    assert (checked.incident, checked.member) == (incident_id, PHL), "signed by PHL-PCG's key"
    phl.wait_for_selector("#incident-msg >> text=Saved")
    phl.screenshot(path=shots / "inc-06-evidence-exported.png")

    phl.click("#incident-close")
    phl.wait_for_selector("#incident-status:has-text('closed')")
    assert "set the status to closed" in phl.inner_text("#incident-timeline")
    assert phl.inner_text("#incident-close") == "Reopen"
    phl.screenshot(path=shots / "inc-07-closed.png")
    vnm.wait_for_selector("#incident-status:has-text('closed')", timeout=10_000)
    assert vnm.is_hidden("#respond-form"), "a closed incident takes no more answers"
    assert phl_errors == vnm_errors == [], (phl_errors, vnm_errors)
    phl.context.close()
    vnm.context.close()


def test_an_officer_reports_an_incident_on_the_map_and_a_viewer_sees_no_controls(
    browser: Any,  # noqa: F811
    demo: DemoServer,  # noqa: F811
    shots: Path,  # noqa: F811
) -> None:
    phl, errors = _signed_in(browser, demo, PHL)
    phl.click("#incidents-button")
    phl.click("#report-open")
    phl.wait_for_selector("#report-form")
    phl.fill("#report-vessels", "412999031, not-an-mmsi")
    phl.select_option("#report-category", "laser")
    phl.click("#report-pick")
    box = phl.locator("#map").bounding_box()
    assert box is not None
    phl.mouse.click(box["x"] + box["width"] * 0.6, box["y"] + box["height"] * 0.4)
    phl.wait_for_function("() => document.getElementById('report-lat').value !== ''")
    lat, lon = float(phl.input_value("#report-lat")), float(phl.input_value("#report-lon"))
    center = phl.evaluate(
        "(() => { const c = window.lookout.map.map.getCenter(); return [c.lat, c.lng]; })()"
    )
    assert abs(lat - center[0]) < 5 and lon > center[1], "east of the map's centre, where clicked"
    assert phl.is_visible(".incident-marker")
    phl.click("#report-submit")
    phl.wait_for_selector("#report-error:has-text('not an MMSI')")
    phl.fill("#report-vessels", "412999031")
    phl.fill("#report-time", "yesterday")
    phl.click("#report-submit")
    phl.wait_for_selector("#report-error:has-text('YYYY-MM-DD hh:mm:ss')")
    phl.fill("#report-time", time.strftime("%Y-%m-%d %H:%M:%S", time.gmtime(time.time() - 600)))
    phl.select_option("#report-release", "other")
    phl.fill("#report-release-text", "everyone:please")
    phl.click("#report-submit")
    phl.wait_for_selector("#report-error:has-text('Not opened: 422')")  # the API's own words
    phl.screenshot(path=shots / "inc-08-report-refused.png")
    phl.select_option("#report-release", "network")
    phl.click("#report-submit")
    phl.wait_for_selector("#panel-title:has-text('Incident INC-')")
    assert "Laser" in phl.inner_text("#panel-body")
    assert "network" in phl.inner_text("#panel-body")
    phl.click("#incidents-button")
    phl.wait_for_selector("#incidents-table")
    assert "Laser" in phl.inner_text("#incidents-table")
    phl.screenshot(path=shots / "inc-09-incident-list.png")
    assert errors == [], errors
    phl.context.close()

    viewer, viewer_errors = _signed_in_with_token(browser, demo)
    viewer.click("#incidents-button")
    viewer.wait_for_selector("#incidents-role")
    viewer.select_option("#incidents-filter", "all")
    viewer.wait_for_selector("#incidents-table")
    assert viewer.locator("#report-open").count() == 0
    viewer.click("#incidents-table >> text=Laser")
    viewer.wait_for_selector("#incident-role")
    assert not any(viewer.is_visible(control) for control in ACTED), "a viewer may not act"
    viewer.screenshot(path=shots / "inc-10-viewer.png")
    assert viewer_errors == [], viewer_errors
    viewer.context.close()


def _signed_in_with_token(chromium: Any, server: DemoServer) -> tuple[Any, list[str]]:
    """The demo's API token: a viewer of PHL-PCG."""
    page = chromium.new_context(viewport={"width": 1366, "height": 768}).new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    page.goto(f"{server.url}/app/")
    page.wait_for_selector("#login-form", state="visible")
    page.fill("#login-token", server.creds["api_token"])
    page.click("#login-submit")
    page.wait_for_selector("#link-state.live", timeout=20_000)
    return page, errors
