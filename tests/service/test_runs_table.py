"""``POST /v1/runs`` with a CSV or JSON-lines body, on SQLite and PostgreSQL: columns
mapped by query parameters, a table stored whole or refused with every bad cell by line
and column (nothing stored), the JSON body unchanged, and OpenAPI saying so."""

from __future__ import annotations

import json

import httpx
import pytest

from tests.service.conftest import SettingsFactory, live_app

CSV = {"content-type": "text/csv"}
LINES = {"content-type": "application/x-ndjson"}
TABLE = (
    "model,N,D,L,dataset,ignored\n"
    '50M,5e7,1e9,3.892,csv-a,x\n"50M",5e7,4e9, 3.469 ,csv-a,y\n'
    '"a ""quoted""\nname",1e8,1e9,3.7,csv-b,z\n'
)
MAPPING = {"run_col": "model", "params_col": "N", "tokens_col": "D", "loss_col": "L"}


def _count(http: httpx.Client, dataset: str) -> int:
    return int(http.get("/v1/runs", params={"dataset": dataset}).json()["count"])


def test_a_csv_table_is_stored_with_its_columns_mapped(client: httpx.Client) -> None:
    r = client.post("/v1/runs", content=TABLE, headers=CSV, params=MAPPING)
    assert r.status_code == 200, r.text
    assert r.json()["inserted"] == 3 and set(r.json()["refit_jobs"]) == {"csv-a", "csv-b"}
    row = client.get("/v1/runs", params={"dataset": "csv-b"}).json()["data"][0]
    assert row["run"] == 'a "quoted"\nname' and row["params"] == 1e8
    again = client.post(
        "/v1/runs", content=TABLE, headers=CSV, params={**MAPPING, "refit": "false"}
    )
    assert again.json() == {"received": 3, "inserted": 0, "duplicates": 3, "refit_jobs": {}}

    # a dataset parameter names every row's dataset, over the column
    r = client.post("/v1/runs", content=TABLE, headers=CSV, params={**MAPPING, "dataset": "one"})
    assert r.json()["inserted"] == 3 and _count(client, "one") == 3


def test_bad_rows_are_named_by_line_and_column_and_nothing_is_stored(client: httpx.Client) -> None:
    table = (
        "run,params,tokens,loss,width\n"
        "a,5e7,1e9,3.8,\n"  # line 2: fine
        "b,5e7,1e9,abc,\n"  # line 3: loss is not a number
        "c,-5,,3.1,12.5\n"  # line 4: negative params, no tokens, a fractional width
        "d,5e7,1e9,3.8,\n"
    )
    r = client.post("/v1/runs", content=table, headers=CSV, params={"dataset": "bad"})
    assert r.status_code == 422
    cells = [(d["line"], d["column"], d["loc"]) for d in r.json()["detail"]]
    assert cells == [
        (3, "loss", ["body", 3, "loss"]),
        (4, "width", ["body", 4, "width"]),
        (4, "params", ["body", 4, "params"]),
        (4, "tokens", ["body", 4, "tokens"]),
    ]
    messages = [d["msg"] for d in r.json()["detail"]]
    assert "not a number" in messages[0] and "whole" in messages[1]
    assert messages[2] == "Input should be greater than or equal to 1"  # parameters: 1 or more
    assert messages[3] == "Field required"
    assert _count(client, "bad") == 0  # the good rows were not stored either

    lines = (
        '{"dataset": "j", "run": "a", "params": 5e7, "tokens": 1e9, "loss": 3.8}\n\nnot json\n[]\n'
    )
    r = client.post("/v1/runs", content=lines, headers=LINES)
    assert r.status_code == 422
    assert [(d["line"], d["column"]) for d in r.json()["detail"]] == [(3, None), (4, None)]
    assert _count(client, "j") == 0


@pytest.mark.parametrize(
    ("content", "headers", "params", "loc"),
    [
        ("run,params,tokens\na,1,1\n", CSV, {"dataset": "x"}, ["query", "loss_col"]),
        (
            "run,params,tokens,loss\na,1,1,1\n",
            CSV,
            {"dataset": "x", "width_col": "w"},
            ["query", "width_col"],
        ),
        ("run,params,tokens,loss\na,1,1,1\n", CSV, {}, ["query", "dataset"]),
        ("run,params,tokens,loss\na,1,1,1\n", CSV, {"dataset": "bad name"}, ["query", "dataset"]),
        ("run,params,tokens,loss\n", CSV, {"dataset": "x"}, ["body"]),
        (b"\xff\xfe\x00", CSV, {"dataset": "x"}, ["body"]),
        (
            '{"runs": []}',
            {"content-type": "application/json"},
            {"dataset": "x"},
            ["query", "dataset"],
        ),
        ("{", {"content-type": "application/json"}, {}, ["body", 1]),
    ],
)
def test_a_table_refused_whole_names_the_parameter(
    client: httpx.Client,
    content: str | bytes,
    headers: dict[str, str],
    params: dict[str, str],
    loc: list[object],
) -> None:
    r = client.post("/v1/runs", content=content, headers=headers, params=params)
    assert r.status_code == 422, r.text
    assert r.json()["detail"][0]["loc"] == loc


def test_other_media_types_and_limits(make_settings: SettingsFactory) -> None:
    settings = make_settings(max_runs_per_request=2, api_key="k")
    with live_app(settings, start_workers=False) as url, httpx.Client(base_url=url) as http:
        table = "run,params,tokens,loss\na,1,1,1\nb,1,2,1\nc,1,3,1\n"
        assert (
            http.post("/v1/runs", content=table, headers=CSV, params={"dataset": "x"}).status_code
            == 401
        )
        http.headers["Authorization"] = "Bearer k"
        r = http.post("/v1/runs", content=table, headers=CSV, params={"dataset": "x"})
        assert r.status_code == 422 and "at most 2" in r.json()["detail"][0]["msg"]
        r = http.post("/v1/runs", content="a b", headers={"content-type": "text/plain"})
        assert r.status_code == 415 and "text/csv" in r.json()["detail"]
        plain = {
            "runs": [{"dataset": "x", "run": "a", "params": 1, "tokens": 1, "loss": 1}],
            "refit": False,
        }
        assert (
            http.post("/v1/runs", content=json.dumps(plain)).json()["inserted"] == 1
        )  # no type: JSON

        spec = http.get("/openapi.json").json()
        operation = spec["paths"]["/v1/runs"]["post"]
        content = operation["requestBody"]["content"]
        assert set(content) == {"application/json", "text/csv", "application/x-ndjson"}
        assert content["application/json"]["schema"]["properties"]["runs"]["items"]["required"]
        assert {p["name"] for p in operation["parameters"]} >= {"dataset", "refit", "params_col"}
        assert {"415", "422"} <= set(operation["responses"])
        issue = spec["components"]["schemas"]["RowIssue"]["properties"]
        assert {"line", "column", "loc", "msg"} <= set(issue)


def test_metric_columns_are_carried_and_their_bad_cells_named(client: httpx.Client) -> None:
    """``metric_col`` names columns the runs carry as named metrics (docs/laws.md §20):
    stored and returned; an empty cell leaves that metric out; a bad one is named by its
    line and column; a missing column is a 422 naming the parameter."""
    table = (
        "run,params,tokens,loss,hs_acc,hs_bpb,notes\n"
        "a,5e7,1e9,3.8,0.31,1.20,x\n"
        "a,5e7,2e9,3.6,0.33,,y\n"
    )
    params = {"dataset": "tasks", "metric_col": ["hs_acc", "hs_bpb"]}
    r = client.post("/v1/runs", content=table, headers=CSV, params=params)
    assert r.status_code == 200, r.text
    rows = client.get("/v1/runs", params={"dataset": "tasks"}).json()["data"]
    assert [row["metrics"] for row in rows] == [{"hs_acc": 0.31, "hs_bpb": 1.2}, {"hs_acc": 0.33}]
    bad = table.replace("0.33,", "abc,").replace("1.20", "2e9")
    r = client.post("/v1/runs", content=bad, headers=CSV, params={**params, "dataset": "t2"})
    assert r.status_code == 422
    cells = {(d["line"], d["column"]) for d in r.json()["detail"]}
    assert cells == {(3, "hs_acc"), (2, "hs_bpb")}  # not a number; beyond +-1e6
    r = client.post("/v1/runs", content=table, headers=CSV,
                    params={"dataset": "t3", "metric_col": "mmlu_acc"})  # fmt: skip
    assert r.status_code == 422 and r.json()["detail"][0]["loc"] == ["query", "metric_col"]
    assert _count(client, "t2") == 0 and _count(client, "t3") == 0
