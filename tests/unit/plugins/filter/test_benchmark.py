"""The benchmark role's filters: profiles as data -> vLLM's flags, results -> rows, table, gate."""
from __future__ import annotations

import pytest
from ansible.errors import AnsibleFilterError

from ansible_collections.inferops.inference.plugins.filter.benchmark import (
    bench_profile_problems, bench_regressions, bench_row, bench_rows, bench_serve_args, bench_startup_row,
    bench_startup_table, bench_table)

SHORT = {"name": "short", "dataset": "random", "input_len": 128, "output_len": 64, "num_prompts": 32,
         "max_concurrency": 4}
PREFIX = {"name": "prefix", "dataset": "prefix_repetition", "prefix_len": 512, "input_len": 64, "output_len": 32,
          "num_prefixes": 4, "num_prompts": 16, "request_rate": "2.5"}
# What vllm bench serve 0.32.0 wrote in the lab (keys the rows read, plus a few others).
RESULT = {"num_prompts": 8, "completed": 8, "failed": 0, "duration": 3.2, "request_throughput": 2.5,
          "output_throughput": 40.0, "total_token_throughput": 120.0,
          "p50_ttft_ms": 101.0, "p99_ttft_ms": 250.5, "p50_tpot_ms": 20.0, "p99_tpot_ms": 31.0,
          "p50_itl_ms": 19.0, "p99_itl_ms": 45.25, "median_ttft_ms": 101.0}


def flag(args, name):
    return args[args.index(name) + 1]


def test_a_random_profile_becomes_the_random_dataset_flags():
    args = bench_serve_args(SHORT, "http://127.0.0.1:8000/", "tiny", "/srv/models/tiny", "/tmp/r", seed=7)
    assert flag(args, "--base-url") == "http://127.0.0.1:8000"
    assert flag(args, "--dataset-name") == "random"
    assert flag(args, "--random-input-len") == "128" and flag(args, "--random-output-len") == "64"
    assert flag(args, "--max-concurrency") == "4" and flag(args, "--request-rate") == "inf"
    assert flag(args, "--result-filename") == "short.json" and flag(args, "--result-dir") == "/tmp/r"
    assert flag(args, "--seed") == "7" and "--ignore-eos" in args and "--save-result" in args
    assert flag(args, "--metric-percentiles") == "50,99"
    assert not any(a.startswith("--prefix-repetition") for a in args)


def test_a_prefix_profile_becomes_the_prefix_repetition_flags():
    args = bench_serve_args(PREFIX, "http://gw:8080", "m", "org/m", "/tmp/r")
    assert flag(args, "--dataset-name") == "prefix_repetition"
    assert flag(args, "--prefix-repetition-prefix-len") == "512"
    assert flag(args, "--prefix-repetition-suffix-len") == "64"
    assert flag(args, "--prefix-repetition-num-prefixes") == "4"
    assert flag(args, "--prefix-repetition-output-len") == "32"
    assert flag(args, "--request-rate") == "2.5" and "--max-concurrency" not in args


def test_good_profiles_have_no_problems():
    assert bench_profile_problems([SHORT, PREFIX], ["short", "prefix"]) == []


@pytest.mark.parametrize("profiles,run,expected", [
    ([{**SHORT, "dataset": "sharegpt"}], ["short"], "dataset must be one of random, prefix_repetition"),
    ([{k: v for k, v in PREFIX.items() if k != "num_prefixes"}], ["prefix"], "needs num_prefixes"),
    ([{**SHORT, "prefix_len": 10}], ["short"], "belong to prefix_repetition"),
    ([{**SHORT, "request_rate": "fast"}], ["short"], "request_rate must be a number"),
    ([{**SHORT, "request_rate": "0"}], ["short"], "request_rate must be a number"),
    ([SHORT, SHORT], ["short"], "the names short are used twice"),
    ([SHORT], ["long"], "benchmark_run names long, not among benchmark_profiles (short)"),
])
def test_bad_profiles_are_named(profiles, run, expected):
    assert any(expected in p for p in bench_profile_problems(profiles, run)), bench_profile_problems(profiles, run)


def test_a_result_becomes_a_row():
    row = bench_row(RESULT, "h1", "short")
    assert row == {"host": "h1", "profile": "short", "completed": 8, "failed": 0, "req_s": 2.5, "out_tok_s": 40.0,
                   "ttft_p50": 101.0, "ttft_p99": 250.5, "tpot_p50": 20.0, "tpot_p99": 31.0, "itl_p50": 19.0,
                   "itl_p99": 45.25}


def test_failures_are_counted_when_the_release_does_not():
    old = {k: v for k, v in RESULT.items() if k != "failed"}
    assert bench_row({**old, "completed": 6}, "h", "p")["failed"] == 2


def test_a_result_without_percentiles_is_refused_with_the_flags_to_use():
    broken = {k: v for k, v in RESULT.items() if k != "p99_ttft_ms"}
    with pytest.raises(AnsibleFilterError, match="p99_ttft_ms.*--metric-percentiles 50,99"):
        bench_row(broken, "h", "p")
    with pytest.raises(AnsibleFilterError, match="JSON object"):
        bench_row("not json", "h", "p")


def test_rows_pair_results_with_profiles():
    rows = bench_rows([RESULT, RESULT], ["short", "prefix"], "h")
    assert [r["profile"] for r in rows] == ["short", "prefix"]
    with pytest.raises(AnsibleFilterError, match="1 results for 2 profiles"):
        bench_rows([RESULT], ["short", "prefix"], "h")


def test_the_table_has_a_heading_and_a_line_per_row():
    lines = bench_table([bench_row(RESULT, "replica-1", "short"), bench_row(RESULT, "r2", "prefix")])
    assert len(lines) == 3
    assert lines[0].split()[:4] == ["host", "profile", "ok", "failed"]
    assert lines[1].split()[:4] == ["replica-1", "short", "8", "0"] and "250.50" in lines[1]
    assert len({len(line) for line in lines}) == 1  # aligned columns
    assert len(bench_table([])) == 1  # the heading alone


def test_the_gate_passes_a_run_like_its_baseline():
    row = bench_row(RESULT, "h", "short")
    assert bench_regressions([row], [row]) == []
    # Within the allowances: 5% less throughput, 10% more p99 TTFT.
    near = {**row, "out_tok_s": 38.0, "ttft_p99": 275.0}
    assert bench_regressions([near], [row], 0.1, 0.2) == []


def test_the_gate_names_lower_throughput_higher_ttft_and_failures():
    base = bench_row(RESULT, "h", "short")
    worse = {**base, "out_tok_s": 30.0, "ttft_p99": 400.0, "failed": 1}
    found = bench_regressions([worse], [base], 0.1, 0.2)
    assert any("output throughput 30.00 tok/s is 25.0% below the baseline's 40.00 (allowed: 10%)" in f for f in found)
    assert any("p99 TTFT 400.00 ms is 59.7% above the baseline's 250.50 ms (allowed: 20%)" in f for f in found)
    assert any("1 of 9 requests failed" in f for f in found)
    assert len(found) == 3


def test_rows_missing_from_the_baseline_are_judged_on_failures_only():
    row = bench_row(RESULT, "new-host", "short")
    assert bench_regressions([row], [bench_row(RESULT, "h", "short")]) == []


START = {"item": "cold", "cold": True, "health_s": 42.7, "first_completion_s": 43.1, "changed": True,
         "phases": [{"phase": "starting", "at_s": 14.65}, {"phase": "ready", "at_s": 42.58}]}


def test_a_timed_start_becomes_a_row_and_a_line():
    row = bench_startup_row(START, "h1")
    assert row == {"host": "h1", "mode": "cold", "health_s": 42.7, "first_completion_s": 43.1,
                   "phases": [{"phase": "starting", "at_s": 14.65}, {"phase": "ready", "at_s": 42.58}]}
    assert bench_startup_table([row]) == [
        "h1  cold: /health 42.7 s, first completion 43.1 s; starting 14.7, ready 42.6"]
    assert bench_startup_table([{**row, "phases": []}])[0].endswith("no phase in the log")
    with pytest.raises(AnsibleFilterError, match="vllm_startup"):
        bench_startup_row({"failed": True}, "h1")
