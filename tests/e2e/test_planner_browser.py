"""The planner page in a real browser: a ``flopwise serve`` subprocess driven by Debian's
headless Chromium through Playwright (pointed at ``/usr/bin/chromium``; no browser is
downloaded). Skips when Chromium or Playwright is missing, fails then when
``FLOPWISE_REQUIRE_BROWSER=1`` (CI installs Chromium with ``.ci/install-chromium``).

Screenshots of every view go to ``$FLOPWISE_TEST_ARTIFACTS`` (default
``tests/artifacts/planner``, git-ignored); the test prints the folder.
"""

from __future__ import annotations

import json
import os
import shutil
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.curve_samples import curve_records
from tests.downstream_samples import metric_runs
from tests.e2e.conftest import ServerProcess
from tests.e2e.helpers import wait_job
from tests.shared_data import REPO

pytestmark = pytest.mark.slow

CHROMIUM = os.environ.get("FLOPWISE_CHROMIUM") or shutil.which("chromium") or "/usr/bin/chromium"
FLAGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-quic",
    "--no-first-run",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
]
WAIT_MS = 60_000
KEY = "planner-test-key"


def _missing() -> str | None:
    if not Path(CHROMIUM).exists():
        return f"no Chromium at {CHROMIUM} (run .ci/install-chromium)"
    try:
        import playwright.sync_api  # noqa: F401
    except ImportError:
        return "the playwright package is not installed (pip install -e '.[dev]')"
    return None


@pytest.fixture(scope="module")
def artifacts() -> Path:
    folder = Path(os.environ.get("FLOPWISE_TEST_ARTIFACTS", REPO / "tests" / "artifacts"))
    folder = folder / "planner"
    folder.mkdir(parents=True, exist_ok=True)
    print(f"planner screenshots: {folder}")
    return folder


class Browser:
    """One fresh Chromium profile; every request the pages make is recorded."""

    def __init__(self, context: Any, server: ServerProcess) -> None:
        self.context, self.server = context, server
        self.requests: list[str] = []
        self.errors: list[str] = []
        context.on("request", lambda request: self.requests.append(request.url))
        context.set_default_timeout(WAIT_MS)

    def open(self, query: str = "") -> Any:
        page = self.context.new_page()
        page.on("pageerror", lambda error: self.errors.append(str(error)))
        page.goto(self.server.url + "/" + query)
        return page

    def outside(self) -> list[str]:
        own = self.server.url + "/"
        return [u for u in self.requests if not (u.startswith(own) or u.startswith("data:"))]


@pytest.fixture
def browser(flopwise_server: Callable[..., ServerProcess], tmp_path: Path) -> Iterator[Browser]:
    missing = _missing()
    if missing is not None:
        if os.environ.get("FLOPWISE_REQUIRE_BROWSER") == "1":
            pytest.fail(f"FLOPWISE_REQUIRE_BROWSER=1 but {missing}")
        pytest.skip(missing)
    from playwright.sync_api import sync_playwright

    server = flopwise_server(env={"FLOPWISE_API_KEY": KEY})
    with sync_playwright() as pw:
        context = pw.chromium.launch_persistent_context(
            str(tmp_path / "chromium-profile"),
            executable_path=CHROMIUM,
            headless=True,
            args=FLAGS,
            viewport={"width": 1440, "height": 1000},
        )
        try:
            yield Browser(context, server)
        finally:
            context.close()


def _post(server: ServerProcess, path: str, body: dict[str, Any]) -> httpx.Response:
    headers = {"Authorization": f"Bearer {KEY}"}
    return httpx.post(server.url + path, json=body, headers=headers, timeout=60)


def test_plan_compare_frontier(browser: Browser, artifacts: Path) -> None:
    server = browser.server
    page = browser.open()
    page.get_by_label("Training FLOPs").first.fill("5.76e23")
    page.get_by_label("Scaling law").select_option("epoch-2024")
    page.get_by_text("Besiroglu").first.wait_for()  # the law's citation, from /v1/laws/{id}
    page.get_by_label("Training FLOPs").first.press("Enter")  # the form submits from the keyboard
    shown = float(page.locator("#answer-params").get_attribute("data-value") or "nan")
    api = _post(server, "/v1/allocate", {"flops": 5.76e23, "law": "epoch-2024"}).json()
    assert shown == pytest.approx(api["params"], rel=1e-3)
    assert "flops=5.76e23" in page.url and "law=epoch-2024" in page.url
    page.screenshot(path=artifacts / "plan.png", full_page=True)

    # the same plan from its link, in a new tab
    shared = browser.open("?" + page.url.split("?", 1)[1])
    assert float(shared.locator("#answer-params").get_attribute("data-value") or "nan") == shown
    shared.close()

    # bad input: the API's own message beside the field
    page.get_by_label("Training FLOPs").first.fill("-5")
    page.get_by_role("button", name="Plan").click()
    message = _post(server, "/v1/allocate", {"flops": -5}).json()["detail"][0]["msg"]
    assert page.locator("#plan-flops-error").inner_text() == message
    assert page.get_by_label("Training FLOPs").first.get_attribute("aria-invalid") == "true"
    page.screenshot(path=artifacts / "plan-bad-input.png", full_page=True)

    # a GPU-hour budget: the cost card
    page.get_by_role("radio", name="GPU-hours").check()
    page.get_by_label("GPU-hours to spend").fill("1e5")
    page.get_by_label("GPUs", exact=True).fill("64")
    page.get_by_label("Price per GPU-hour ($)").fill("2")
    page.get_by_role("button", name="Plan").click()
    cost = page.locator("#cost-card")
    cost.get_by_text("$200,000").wait_for()
    assert "Wall clock" in cost.inner_text()
    page.screenshot(path=artifacts / "plan-gpu-hours.png", full_page=True)

    # compare: one row per built-in law
    catalogue = httpx.get(server.url + "/v1/laws").json()["data"]
    builtin = [law["id"] for law in catalogue if law["builtin"]]
    page.get_by_role("tab", name="Plan").focus()
    page.keyboard.press("ArrowRight")  # tabs follow the arrow keys
    assert page.get_by_role("tab", name="Compare laws").get_attribute("aria-selected") == "true"
    rows = page.locator("#compare-results tbody tr")
    rows.nth(len(builtin) - 1).wait_for()
    assert rows.count() == len(builtin)
    assert [rows.nth(i).get_attribute("data-law") for i in range(rows.count())] == builtin
    # the built-in laws were fitted on different corpora: their losses are not comparable
    assert "not comparable" in page.locator("#compare-note").inner_text()
    page.screenshot(path=artifacts / "compare.png", full_page=True)

    # frontier: charts with data
    page.get_by_role("tab", name="Frontier").click()
    lines = page.locator("#frontier-charts svg.chart path.line")
    lines.first.wait_for()
    assert lines.count() >= 3
    assert (
        int(page.locator("#frontier-charts svg.chart").first.get_attribute("data-points") or 0) > 0
    )
    page.locator("#frontier-charts svg.chart").first.hover()
    assert "Budget C" in page.locator("#tooltip").inner_text()
    # the caption says which bands exist: no bootstrap band is claimed for a law without draws
    caption = page.locator("#frontier-caption").inner_text()
    assert "95%" not in caption and "90%" in caption
    assert "No N* or D* band for" in caption and "kaplan-2020" in caption.split("No N* or D*")[1]
    assert "epoch-2024" in caption.split("bootstrap interval")[0]
    page.screenshot(path=artifacts / "frontier.png", full_page=True)

    assert browser.outside() == []
    assert browser.errors == []


def _synthetic_runs(dataset: str) -> list[dict[str, Any]]:
    """Four model sizes at four token counts from Hoffmann et al. 2022's Eq. 10 law."""
    runs = []
    for params in (5e7, 1e8, 2e8, 4e8):
        for tokens in (1e9, 2e9, 4e9, 1.6e10):
            loss = 1.69 + 406.4 / params**0.34 + 410.7 / tokens**0.28
            run = f"{int(params / 1e6)}M"
            runs.append(
                {"dataset": dataset, "run": run, "params": params, "tokens": tokens, "loss": loss}
            )
    return runs


def test_a_law_counting_deepseek_m_is_never_labelled_as_parameters(
    browser: Browser, artifacts: Path
) -> None:
    page = browser.open("?law=deepseek-2024&flops=1e21")
    scale = page.locator("#answer-model-scale")
    scale.wait_for()
    assert "M* (FLOPs/token)" in scale.inner_text()
    text = page.locator(".answer-card").inner_text()
    assert "Model scale M (FLOPs/token)" in text and "Params as the law counts" not in text
    api = _post(browser.server, "/v1/allocate", {"law": "deepseek-2024", "flops": 1e21}).json()
    assert float(page.locator("#answer-params").get_attribute("data-value") or 0) == api["params"]
    assert api["params"] == api["shape"]["params"] and api["model_scale"] > 0
    assert not browser.errors and not browser.outside()


def test_my_data_shows_the_refitted_law(browser: Browser, artifacts: Path) -> None:
    server = browser.server
    ingest = _post(server, "/v1/runs", {"runs": _synthetic_runs("browser-data")})
    assert ingest.status_code == 200, ingest.text
    (job_id,) = ingest.json()["refit_jobs"].values()
    assert wait_job(server.url, job_id)["status"] == "succeeded"

    page = browser.open("?view=mydata&dataset=browser-data")
    law = page.locator('section[data-law="browser-data-chinchilla"]')
    law.wait_for()
    assert "browser-data-chinchilla@1" in law.inner_text()
    assert law.locator("svg.chart path.line").count() > 0
    warnings = law.locator("ul.warnings li").all_inner_texts()
    assert warnings and len(warnings) == len(set(warnings))  # each warning once
    assert page.locator("#mydata-jobs tr[data-status=succeeded]").count() == 1
    page.screenshot(path=artifacts / "mydata.png", full_page=True)

    # a refit from the page: refused without the key, queued with it
    page.get_by_role("button", name="Start refit").click()
    page.locator("#refit-error").get_by_text("FLOPWISE_API_KEY").wait_for()
    page.get_by_label("API key").fill(KEY)
    page.get_by_label("API key").press("Tab")
    page.get_by_label("Bootstrap draws").fill("4")
    page.get_by_role("button", name="Start refit").click()
    page.locator("#refit-status").get_by_text("Queued job").wait_for()
    assert page.locator("#refit-error").inner_text() == ""  # a queued job is not an error
    jobs = page.locator("#mydata-jobs tbody tr")
    jobs.nth(1).wait_for()
    assert jobs.count() == 2

    # exclude a run from the page: its refit publishes a law that says so; then restore it
    row = page.locator('#mydata-runs tr[data-run="400M"]')
    row.get_by_label("Why exclude 400M").fill("diverged")
    row.get_by_role("button", name="Exclude").click()
    page.locator('#mydata-runs tr[data-run="400M"][data-excluded="yes"]').wait_for()
    assert "excluded: diverged" in page.locator('#mydata-runs tr[data-run="400M"]').inner_text()
    page.locator('#mydata-runs tr[data-run="400M"]').get_by_role("button", name="Restore").click()
    page.locator('#mydata-runs tr[data-run="400M"][data-excluded="no"]').wait_for()
    history = httpx.get(server.url + "/v1/exclusions/browser-data").json()["data"]
    assert [(h["run"], h["reason"], h["restored_at"] is not None) for h in history] == [
        ("400M", "diverged", True)]  # fmt: skip

    # a dataset with no runs says so, instead of waiting for a refit that will not come
    page = browser.open("?view=mydata&dataset=nothing-here")
    note = page.locator("#mydata-nolaw")
    note.wait_for()
    assert "no runs yet" in note.inner_text() and "refit" not in note.inner_text().split(":")[0]

    assert browser.outside() == []
    assert browser.errors == []


def test_my_data_draws_each_run_s_curve_and_its_forecast(browser: Browser, artifacts: Path) -> None:
    """A dataset with a loss-curve law (docs/laws.md §21): every run's checkpoints, the
    law's forecast of the whole run under its schedule and its band, and a table of where
    each run will land, as the forecast endpoint answers."""
    server = browser.server
    rows = [{"dataset": "browser-curves", **r} for r in curve_records(form="tissue", noise=0.001)]
    assert _post(server, "/v1/runs", {"runs": rows, "refit": False}).status_code == 200
    job = _post(server, "/v1/fits", {"dataset": "browser-curves", "form": "tissue"})
    assert wait_job(server.url, job.json()["job_id"])["status"] == "succeeded"

    page = browser.open("?view=mydata&dataset=browser-curves")
    page.locator('section[data-law="browser-curves-tissue"]').wait_for()
    chart = page.locator("#mydata-curves")
    chart.wait_for()
    assert chart.locator("path.band").count() == 12  # one band per run shown
    assert chart.locator("path.line").count() >= 12 and chart.locator("circle.marker").count() > 100
    table = page.locator("#mydata-forecasts tbody tr")
    assert table.count() == 12
    assert page.locator('#mydata-forecasts tr[data-tracking="yes"]').count() == 12
    run = table.first.get_attribute("data-run")
    shown = float(table.first.locator("[data-loss]").get_attribute("data-loss") or 0)
    answer = _post(server, f"/v1/runs/browser-curves/{run}/forecast", {}).json()
    assert shown == pytest.approx(answer["loss"])
    page.screenshot(path=artifacts / "mydata-curves.png", full_page=True)
    assert browser.errors == [] and browser.outside() == []


def test_moe_plan_beside_the_dense_one(browser: Browser, artifacts: Path) -> None:
    page = browser.open()
    page.get_by_label("Training FLOPs").first.fill("1e20")
    page.get_by_label("Scaling law").select_option("krajewski-2024-dense")
    page.locator("#plan-moe summary").click()
    page.get_by_label("Routed experts").fill("64")
    page.get_by_label("Top-k").fill("1")
    page.get_by_label("Vocabulary").select_option("optimal")
    page.get_by_label("Training FLOPs").first.press("Enter")
    card = page.locator("#moe-card")
    card.wait_for()
    body = {
        "flops": 1e20,
        "law": "krajewski-2024-dense",
        "experts": 64,
        "top_k": 1,
        "vocab": "optimal",
    }
    api = _post(browser.server, "/v1/allocate", body).json()
    assert float(card.get_attribute("data-total") or "nan") == api["moe"]["total_params"]
    assert float(card.get_attribute("data-active") or "nan") == api["moe"]["active_params"]
    compare = page.locator("#moe-compare")
    assert "Dense plan" in compare.inner_text() and "Approach 3" in compare.inner_text()
    assert "experts=64" in page.url
    page.screenshot(path=artifacts / "plan-moe.png", full_page=True)
    assert not browser.errors and not browser.outside()


def test_plan_shows_the_critical_batch_and_meets_a_deadline(
    browser: Browser, artifacts: Path
) -> None:
    server = browser.server
    page = browser.open()
    page.get_by_role("radio", name="GPU-hours").check()
    page.get_by_label("Scaling law").select_option("epoch-2024")
    page.get_by_label("Throughput model (measured speed)").select_option("h100-default")
    page.get_by_label("GPU-hours to spend").fill("1e5")
    page.get_by_label("Finish within (hours, with a throughput model)").fill("100")
    page.get_by_label("Batch size and learning rate from").select_option("step-law-2025")
    page.get_by_role("button", name="Plan").click()
    card = page.locator("#critical-card")
    card.locator("svg.chart path.line").first.wait_for()
    body = {
        "gpu_hours": 1e5,
        "gpu": "h100",
        "throughput": "h100-default",
        "law": "epoch-2024",
        "max_wall_clock_hours": 100,
        "hyperparameters": "step-law-2025",
    }
    api = _post(server, "/v1/allocate", body).json()
    critical = api["critical_batch"]
    assert (
        int(card.get_attribute("data-deadline-gpus") or 0)
        == critical["deadline"]["point"]["n_gpus"]
    )
    assert int(card.get_attribute("data-useful-gpus") or 0) == critical["largest_useful_gpus"]
    chart = card.locator("svg.chart")
    assert int(chart.get_attribute("data-points") or 0) >= 2 * len(critical["points"])
    assert "GPUs against wall clock and GPU-hours" in card.inner_text()
    chart.hover()
    assert "GPUs" in page.locator("#tooltip").inner_text()
    assert page.locator("#hyper-card").get_attribute("data-law") == "step-law-2025"
    page.screenshot(path=artifacts / "plan-critical-batch.png", full_page=True)

    # a deadline no GPU count can meet: the reason, not an error
    page.get_by_label("Finish within (hours, with a throughput model)").fill("0.01")
    page.get_by_role("button", name="Plan").click()
    page.locator("#critical-card").get_by_text("no GPU count finishes").first.wait_for()
    assert page.locator("#critical-card").get_attribute("data-deadline-gpus") is None

    assert browser.outside() == []
    assert browser.errors == []


def test_plan_shows_benchmark_scores_and_plans_to_a_target(
    browser: Browser, artifacts: Path
) -> None:
    """A law refitted on runs with metrics answers with predicted scores (docs/laws.md
    §20); a target score plans the smallest budget reaching it."""
    server = browser.server
    ingest = _post(server, "/v1/runs", {"runs": metric_runs("browser-tasks")})
    assert ingest.status_code == 200, ingest.text
    (job_id,) = ingest.json()["refit_jobs"].values()
    assert wait_job(server.url, job_id, timeout=300)["status"] == "succeeded"
    law = "browser-tasks-chinchilla"

    page = browser.open(f"?law={law}&flops=1e20")
    card = page.locator("#downstream-card")
    card.wait_for()
    assert "task_acc" in card.inner_text() and "via task_bpb" in card.inner_text()
    assert "score_acc" in card.inner_text() and "exponential link" in card.inner_text()

    page.get_by_role("radio", name="A benchmark score").check()
    page.get_by_label("Metric to reach").fill("task_acc")
    page.get_by_label("Score", exact=True).fill("0.8")
    page.get_by_role("button", name="Plan").click()
    page.locator("#downstream-card[data-target-flops]").wait_for()
    body = {"law": law, "target": {"metric": "task_acc", "value": 0.8}}
    api = _post(server, "/v1/allocate", body).json()
    target = float(page.locator("#downstream-card").get_attribute("data-target-flops") or "nan")
    assert target == pytest.approx(api["target"]["flops"], rel=1e-9)
    shown = float(page.locator("#answer-params").get_attribute("data-value") or "nan")
    assert shown == pytest.approx(api["params"], rel=1e-3)
    assert "smallest budget" in page.locator("#downstream-card").inner_text()
    page.screenshot(path=artifacts / "plan-target.png", full_page=True)

    # a score the law never reaches: the API's message beside the field
    page.get_by_label("Score", exact=True).fill("0.999")
    page.get_by_role("button", name="Plan").click()
    body["target"]["value"] = 0.999
    message = _post(server, "/v1/allocate", body).json()["detail"][0]["msg"]
    assert page.locator("#plan-target_value-error").inner_text() == message

    # the frontier draws each score at the optimum
    frontier = browser.open(f"?view=frontier&f_law={law}")
    frontier.get_by_text("Predicted task_acc at the optimum").wait_for()
    frontier.screenshot(path=artifacts / "frontier-scores.png", full_page=True)


def _csv(runs: list[dict[str, Any]]) -> bytes:
    lines = ["run,params,tokens,loss"] + [
        f"{r['run']},{r['params']:g},{r['tokens']:g},{r['loss']!r}" for r in runs
    ]
    return ("\n".join(lines) + "\n").encode()


def test_my_data_uploads_a_file_of_runs(browser: Browser, artifacts: Path) -> None:
    server = browser.server
    runs = _synthetic_runs("browser-upload")
    page = browser.open("?view=mydata")
    page.get_by_label("API key").fill(KEY)
    page.get_by_label("API key").press("Tab")
    page.get_by_label("Dataset", exact=True).fill("browser-upload")
    upload = page.get_by_label("CSV or JSON-lines file")
    summary = page.locator("#upload-summary")

    # a good CSV: every row stored, and the dataset opens
    upload.set_input_files({"name": "runs.csv", "mimeType": "text/csv", "buffer": _csv(runs)})
    page.get_by_role("button", name="Upload").click()
    page.locator('#upload-summary[data-accepted="16"]').wait_for()
    assert "rejected 0" in summary.inner_text()
    stored = httpx.get(server.url + "/v1/runs", params={"dataset": "browser-upload"}).json()
    assert stored["count"] == 16

    # bad rows: each named by line and column, and nothing stored
    bad = [dict(r, run=f"{r['run']}-b") for r in runs[:4]]
    text = _csv(bad).decode().splitlines()
    text[2] = text[2].rsplit(",", 1)[0] + ",abc"  # line 3: loss is not a number
    run, params, _, loss = text[4].split(",")
    text[4] = f"{run},{params},-1,{loss}"  # line 5: negative tokens
    body = ("\n".join(text) + "\n").encode()
    upload.set_input_files({"name": "bad.csv", "mimeType": "text/csv", "buffer": body})
    page.get_by_role("button", name="Upload").click()
    page.locator('#upload-summary[data-rejected="2"]').wait_for()
    rows = page.locator("#upload-rejected tbody tr")
    cells = [rows.nth(i).locator("td").all_inner_texts() for i in range(rows.count())]
    assert [c[:2] for c in cells] == [["3", "loss"], ["5", "tokens"]]
    assert "not a number" in cells[0][2]
    page.screenshot(path=artifacts / "mydata-upload.png", full_page=True)
    stored = httpx.get(server.url + "/v1/runs", params={"dataset": "browser-upload"}).json()
    assert stored["count"] == 16

    # JSON lines of the same runs: accepted as duplicates, none stored twice
    jsonl = "".join(
        json.dumps({k: r[k] for k in ("run", "params", "tokens", "loss")}) + "\n" for r in runs
    )
    upload.set_input_files(
        {"name": "runs.jsonl", "mimeType": "application/x-ndjson", "buffer": jsonl.encode()}
    )
    page.get_by_role("button", name="Upload").click()
    page.get_by_text("16 already stored").wait_for()
    assert (
        httpx.get(server.url + "/v1/runs", params={"dataset": "browser-upload"}).json()["count"]
        == 16
    )

    assert browser.outside() == []
    assert browser.errors == []
