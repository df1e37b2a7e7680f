"""A stand-in for ``python -m trainer`` at the process boundary (the service's side of
the calibration contract): it prints the JSONL progress protocol, posts its
"evaluations" to ``--service-url`` like the real trainer and waits for the refit they
queue before reporting the fit. ``--fail`` exits 3."""

from __future__ import annotations

import argparse
import json
import sys
import time

import httpx

from tests.service.synthetic import synthetic_runs


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("command")
    parser.add_argument("--dataset", required=True)
    parser.add_argument("--flops")
    parser.add_argument("--gpu-hours")
    parser.add_argument("--gpu")
    parser.add_argument("--time-cap-hours", required=True)
    parser.add_argument("--device", required=True)
    parser.add_argument("--service-url", required=True)
    parser.add_argument("--progress", required=True)
    parser.add_argument("--yes", action="store_true")
    parser.add_argument("--api-key")
    parser.add_argument("--max-runs")
    parser.add_argument("--corpus")
    parser.add_argument("--fail", action="store_true")
    args = parser.parse_args()
    assert args.command == "sweep" and args.progress == "jsonl" and args.yes
    runs = synthetic_runs(args.dataset)
    models = sorted({r["run"] for r in runs})
    print(
        json.dumps({"event": "plan", "total_runs": len(models), "argv": sys.argv[1:]}), flush=True
    )
    print("a line that is not JSON", flush=True)
    if args.fail:
        print("CUDA error: out of memory (pretend)", file=sys.stderr)
        return 3
    headers = {"Authorization": f"Bearer {args.api_key}"} if args.api_key else {}
    with httpx.Client(base_url=args.service_url, headers=headers, timeout=30) as http:
        for k, model in enumerate(models, 1):
            points = [r for r in runs if r["run"] == model]
            for p in points:
                print(
                    json.dumps(
                        {"event": "eval", "run": model, "tokens": p["tokens"], "loss": p["loss"]}
                    )
                )
            http.post("/v1/runs", json={"runs": points}).raise_for_status()
            print(
                json.dumps({"event": "run_done", "run": model, "done": k, "total": len(models)}),
                flush=True,
            )
        # like the real trainer, wait for the refit its runs queued: the service must run
        # it while this sweep (a job itself) is still going
        law_id = f"{args.dataset}-chinchilla"
        deadline = time.monotonic() + 90
        while (law := http.get(f"/v1/laws/{law_id}")).status_code != 200:
            if time.monotonic() > deadline:
                print("the refit never came", file=sys.stderr)
                return 4
            time.sleep(0.1)
    print(json.dumps({"event": "fit", "law_id": law_id, "version": law.json()["version"]}))
    print(json.dumps({"event": "done"}), flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
