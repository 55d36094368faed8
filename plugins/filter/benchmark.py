"""Results of vLLM's serving benchmark (`vllm bench serve --save-result`): one summary row per
endpoint and profile, a table of the rows, and the regressions of a run against a stored
baseline (a gate for rolling upgrades)."""

from __future__ import annotations

from ansible.errors import AnsibleFilterError

# Row key, the benchmark JSON's key, table heading (one word each: the YAML callback folds
# lines at single spaces). Requests and output tokens per second; TTFT, TPOT and ITL in ms at
# p50 and p99, which the JSON holds when the benchmark ran with --percentile-metrics
# ttft,tpot,itl --metric-percentiles 50,99.
FIELDS = (
    ("req_s", "request_throughput", "req/s"),
    ("out_tok_s", "output_throughput", "tok/s"),
    ("ttft_p50", "p50_ttft_ms", "TTFT50"),
    ("ttft_p99", "p99_ttft_ms", "TTFT99"),
    ("tpot_p50", "p50_tpot_ms", "TPOT50"),
    ("tpot_p99", "p99_tpot_ms", "TPOT99"),
    ("itl_p50", "p50_itl_ms", "ITL50"),
    ("itl_p99", "p99_itl_ms", "ITL99"),
)


DATASETS = ("random", "prefix_repetition")
_REQUIRED = {"random": ("input_len", "output_len", "num_prompts"),
             "prefix_repetition": ("prefix_len", "input_len", "output_len", "num_prefixes", "num_prompts")}


def _rate_ok(value):
    if value in (None, "", "inf"):
        return True
    try:
        return float(value) > 0
    except (TypeError, ValueError):
        return False


def bench_profile_problems(profiles, run):
    """One sentence per mistake in the profiles (as data) and the names chosen to run."""
    problems = []
    names = [str(p.get("name")) for p in profiles or []]
    for profile in profiles or []:
        name = profile.get("name")
        dataset = profile.get("dataset")
        if dataset not in DATASETS:
            problems.append(f"benchmark_profiles {name}: dataset must be one of {', '.join(DATASETS)}, got {dataset!r}")
            continue
        missing = [key for key in _REQUIRED[dataset] if profile.get(key) in (None, "")]
        if missing:
            problems.append(f"benchmark_profiles {name}: a {dataset} profile needs {', '.join(missing)}")
        if dataset == "random" and any(profile.get(key) not in (None, "") for key in ("prefix_len", "num_prefixes")):
            problems.append(f"benchmark_profiles {name}: prefix_len and num_prefixes belong to prefix_repetition profiles")
        if not _rate_ok(profile.get("request_rate")):
            problems.append(f"benchmark_profiles {name}: request_rate must be a number of requests per second "
                            f"above 0, or inf, got {profile.get('request_rate')!r}")
    doubles = sorted({n for n in names if names.count(n) > 1})
    if doubles:
        problems.append(f"benchmark_profiles: the names {', '.join(doubles)} are used twice")
    unknown = [n for n in run or [] if n not in names]
    if unknown:
        problems.append(f"benchmark_run names {', '.join(unknown)}, not among benchmark_profiles ({', '.join(names)})")
    return problems


def bench_serve_args(profile, url, model, tokenizer, result_dir, seed=0):
    """The command-line flags of vLLM's serving benchmark for one profile: the completions
    API, fixed output lengths (--ignore-eos, so runs compare), the latency percentiles that
    bench_row reads, the JSON written to result_dir/<name>.json."""
    dataset = profile["dataset"]
    args = ["--backend", "vllm", "--base-url", str(url).rstrip("/"), "--endpoint", "/v1/completions",
            "--model", str(model), "--tokenizer", str(tokenizer), "--dataset-name", dataset,
            "--num-prompts", str(int(profile["num_prompts"])), "--seed", str(int(seed)), "--ignore-eos"]
    if dataset == "random":
        args += ["--random-input-len", str(int(profile["input_len"])),
                 "--random-output-len", str(int(profile["output_len"]))]
    else:
        args += ["--prefix-repetition-prefix-len", str(int(profile["prefix_len"])),
                 "--prefix-repetition-suffix-len", str(int(profile["input_len"])),
                 "--prefix-repetition-num-prefixes", str(int(profile["num_prefixes"])),
                 "--prefix-repetition-output-len", str(int(profile["output_len"]))]
    args += ["--request-rate", str(profile.get("request_rate") or "inf")]
    if profile.get("max_concurrency"):
        args += ["--max-concurrency", str(int(profile["max_concurrency"]))]
    args += ["--percentile-metrics", "ttft,tpot,itl", "--metric-percentiles", "50,99", "--disable-tqdm",
             "--save-result", "--result-dir", str(result_dir), "--result-filename", f"{profile['name']}.json"]
    return args


def _number(result, key, where):
    value = result.get(key)
    if isinstance(value, bool) or not isinstance(value, (int, float)):
        raise AnsibleFilterError(f"{where}: the benchmark result has no number {key!r} (got {value!r}); "
                                 "was it written by `vllm bench serve --save-result` with "
                                 "--percentile-metrics ttft,tpot,itl --metric-percentiles 50,99?")
    return float(value)


def bench_row(result, host, profile):
    """One summary row of a benchmark result (the parsed JSON)."""
    where = f"{host} {profile}"
    if not isinstance(result, dict):
        raise AnsibleFilterError(f"{where}: expected the benchmark's JSON object, got {type(result).__name__}")
    completed = int(_number(result, "completed", where))
    # Newer releases count failures; older ones report only the completed requests.
    prompts = result.get("num_prompts")
    failed = result.get("failed")
    if not isinstance(failed, int):
        failed = max(int(prompts) - completed, 0) if isinstance(prompts, int) else 0
    row = {"host": str(host), "profile": str(profile), "completed": completed, "failed": failed}
    for key, source, dummy in FIELDS:
        row[key] = round(_number(result, source, where), 2)
    return row


def bench_rows(results, profiles, host):
    """bench_row of each result, paired with the profile names in the same order."""
    results, profiles = list(results or []), list(profiles or [])
    if len(results) != len(profiles):
        raise AnsibleFilterError(f"{host}: {len(results)} results for {len(profiles)} profiles")
    return [bench_row(result, host, profile) for result, profile in zip(results, profiles)]


def bench_table(rows):
    """Fixed-width lines: a heading and one line per row."""
    headings = ["host", "profile", "ok", "failed"] + [field[2] for field in FIELDS]
    lines = [[str(row["host"]), str(row["profile"]), str(row["completed"]), str(row["failed"])]
             + [f"{row[field[0]]:.2f}" for field in FIELDS] for row in rows or []]
    widths = [max(len(cell) for cell in column) for column in zip(headings, *lines)]
    return ["  ".join(cell.ljust(width) if index < 2 else cell.rjust(width)
                      for index, (cell, width) in enumerate(zip(line, widths))).rstrip()
            for line in [headings] + lines]


def bench_startup_row(start, host):
    """One row of a start timed by the vllm_startup module (a loop result: item is the mode)."""
    if not isinstance(start, dict) or "health_s" not in start:
        raise AnsibleFilterError(f"{host}: expected a result of inferops.inference.vllm_startup, got {start!r}")
    return {"host": str(host), "mode": str(start.get("item", "cold" if start.get("cold") else "warm")),
            "health_s": float(start["health_s"]), "first_completion_s": float(start["first_completion_s"]),
            "phases": [{"phase": p["phase"], "at_s": float(p["at_s"])} for p in start.get("phases") or []]}


def bench_startup_table(rows):
    """Lines: host, mode, seconds to /health and to the first completion, then each phase's
    start (seconds after systemctl start)."""
    lines = [f"{row['host']}  {row['mode']}: /health {row['health_s']:.1f} s, first completion "
             f"{row['first_completion_s']:.1f} s; "
             + (", ".join(f"{p['phase']} {p['at_s']:.1f}" for p in row["phases"]) or "no phase in the log")
             for row in rows or []]
    return lines


def bench_regressions(rows, baseline, max_throughput_drop=0.1, max_ttft_p99_rise=0.2):
    """One sentence per row that is worse than the same host and profile of the baseline:
    output throughput lower by more than max_throughput_drop (a fraction), p99 TTFT higher by
    more than max_ttft_p99_rise, or any failed request. Rows absent from the baseline are
    compared on failures only."""
    before = {(row["host"], row["profile"]): row for row in baseline or []}
    found = []
    for row in rows or []:
        name = f"{row['host']} ({row['profile']})"
        if row["failed"]:
            found.append(f"{name}: {row['failed']} of {row['completed'] + row['failed']} requests failed")
        old = before.get((row["host"], row["profile"]))
        if old is None:
            continue
        if old["out_tok_s"] > 0 and row["out_tok_s"] < old["out_tok_s"] * (1 - float(max_throughput_drop)):
            found.append(f"{name}: output throughput {row['out_tok_s']:.2f} tok/s is "
                         f"{100 * (1 - row['out_tok_s'] / old['out_tok_s']):.1f}% below the baseline's "
                         f"{old['out_tok_s']:.2f} (allowed: {100 * float(max_throughput_drop):.0f}%)")
        if old["ttft_p99"] > 0 and row["ttft_p99"] > old["ttft_p99"] * (1 + float(max_ttft_p99_rise)):
            found.append(f"{name}: p99 TTFT {row['ttft_p99']:.2f} ms is "
                         f"{100 * (row['ttft_p99'] / old['ttft_p99'] - 1):.1f}% above the baseline's "
                         f"{old['ttft_p99']:.2f} ms (allowed: {100 * float(max_ttft_p99_rise):.0f}%)")
    return found


class FilterModule:
    def filters(self):
        return {"bench_profile_problems": bench_profile_problems, "bench_serve_args": bench_serve_args,
                "bench_rows": bench_rows, "bench_table": bench_table, "bench_regressions": bench_regressions,
                "bench_startup_row": bench_startup_row, "bench_startup_table": bench_startup_table}
