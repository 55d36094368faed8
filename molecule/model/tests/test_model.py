"""Model acquisition through a real Hugging Face protocol server (olah) with the real client."""
import hashlib
import os
import re
import subprocess
import sys
import time
from datetime import datetime
from pathlib import Path

import pytest

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "tests" / "lab"))
from recap import lab_host, run_playbook  # noqa: E402

SCENARIO = Path(__file__).resolve().parents[1]
LAB = Path(os.environ["LAB_DIR"])
TINY = LAB / "tiny-model"
OLAH_LOG = LAB / "hf-mirror" / "olah.log"
FETCHER = "/opt/inferops/model-tools/venv/bin/python /opt/inferops/model-tools/inferops_model_fetch.py"

testinfra_hosts = ["ansible://inferops-model-a", "ansible://inferops-model-b"]


@pytest.fixture(scope="module")
def seed():
    """The fleet's seed, the only host that downloads from the mirror."""
    return lab_host("inferops-model-a")


@pytest.fixture(scope="module")
def peer():
    return lab_host("inferops-model-b")


def playbook(*args, expect_ok=True):
    return run_playbook(str(SCENARIO.parents[1] / "playbooks" / "model.yml"), *args, expect_ok=expect_ok)[0]


def test_both_hosts_hold_the_model_byte_for_byte(host):
    for source in TINY.iterdir():
        copy = host.file(f"/srv/models/tiny-qwen2/{source.name}")
        assert copy.sha256sum == hashlib.sha256(source.read_bytes()).hexdigest(), source.name
        assert copy.mode == 0o644
    record = host.file("/srv/models/tiny-qwen2/.inferops-model.json")
    assert record.exists and '"repo": "inferops/tiny-qwen2"' in record.content_string


def mirror_log_since_start(container):
    """The mirror's log lines written since the container started: the log lives as long as the
    lab, and earlier scenarios' containers had the same Docker addresses."""
    started = subprocess.run(["docker", "inspect", "-f", "{{.State.StartedAt}}", container], capture_output=True,
                             text=True, check=True).stdout.strip()
    since = datetime.fromisoformat(started[:19]).strftime("%Y-%m-%d %H:%M:%S")
    lines, keep = [], False
    for line in OLAH_LOG.read_text().splitlines():
        stamp = re.match(r"^(\d{4}-\d\d-\d\d \d\d:\d\d:\d\d) \|", line)
        if stamp:
            keep = stamp.group(1) >= since
        if keep:
            lines.append(line)
    return "\n".join(lines)


def test_fleet_cost_one_download(seed, peer):
    # Only the seed talked to the mirror; model-b copied over the LAN from the seed.
    b_ip = peer.interface("eth0").addresses[0]
    log = mirror_log_since_start("inferops-model-b")
    assert re.search(r"/inferops/tiny-qwen2/resolve/\S+/model.safetensors", log)
    assert f"{b_ip}:" not in log, "model-b downloaded from the mirror itself"
    # model-b fetched from the seed's temporary server (its access log is in the journal),
    # which is gone again.
    served = seed.check_output("journalctl -u inferops-model-seed --no-pager")
    assert re.search(rf'{re.escape(b_ip)} .*"GET /model.safetensors HTTP/1.1" 200', served), served[-2000:]
    assert seed.run("systemctl is-active inferops-model-seed").stdout.strip() != "active"
    assert not seed.socket("tcp://8765").is_listening


def test_the_seed_serves_only_the_model_and_only_with_the_token(seed, peer):
    """The fleet server answers the fleet's token holders only, with the model's files only."""
    token = "lab-token-of-one-run"
    digest = hashlib.sha256(token.encode()).hexdigest()
    a_ip = seed.interface("eth0").addresses[0]
    seed.check_output(
        "systemd-run --unit=inferops-model-seed-test --collect --property=DynamicUser=yes "
        "--property=ProtectSystem=strict /usr/bin/python3 /opt/inferops/bin/inferops_fleet_serve.py "
        f"--bind {a_ip} --port 8766 --directory /srv/models/tiny-qwen2 --token-sha256 {digest}")
    try:
        base = f"http://{a_ip}:8766"
        code = "curl -s -o /dev/null -w '%{http_code}' --retry 10 --retry-connrefused --retry-delay 1 "
        assert peer.check_output(code + f"{base}/config.json") == "401"
        assert peer.check_output(code + f"-H 'Authorization: Bearer wrong' {base}/config.json") == "401"
        assert peer.check_output(code + f"-H 'Authorization: Bearer {token}' {base}/config.json") == "200"
        # Nothing outside the model's directory, even with the token.
        for path in ("/", "/../tiny-qwen2/config.json", "/%2e%2e/", "/.cache/huggingface/"):
            assert peer.check_output(code + f"-H 'Authorization: Bearer {token}' '{base}{path}'") == "404", path
    finally:
        seed.run("systemctl stop inferops-model-seed-test")


def test_check_mode_changes_nothing():
    out = playbook("-e", "inferops_target=all", "-e", "model_fleet_seed=inferops-model-a", "--check")
    assert re.search(r"inferops-model-a\s+: ok=\d+\s+changed=0", out), out[-3000:]
    assert re.search(r"inferops-model-b\s+: ok=\d+\s+changed=0", out), out[-3000:]


def test_unknown_revision_is_a_clear_error():
    out = playbook("-e", "inferops_target=inferops-model-a", "-e", "model_revision=no-such-branch",
                   "-e", "model_name=tiny-bad-rev", expect_ok=False)
    assert "revision 'no-such-branch' of inferops/tiny-qwen2 was not found" in out
    assert "check model_repo and model_revision" in out


def test_corrupted_file_is_detected_and_fetched_again(seed):
    path = "/srv/models/synthetic-300m/model-00002.safetensors"
    good = seed.file(path).sha256sum
    seed.run_expect([0], f"printf XXXX | dd of={path} bs=1 seek=4096 conv=notrunc status=none")
    assert seed.file(path).sha256sum != good
    out = playbook("-e", "inferops_target=inferops-model-a", "-e", "model_repo=inferops/synthetic-300m",
                   "-e", "model_name=synthetic-300m", "-v")
    assert "model-00002.safetensors" in out.split("refetched")[1][:200]
    assert seed.file(path).sha256sum == good


def test_interrupted_download_resumes(seed):
    seed.run("rm -rf /srv/models/resume-test")
    spec = ('{"source": "hf", "repo": "inferops/synthetic-300m", "revision": "main", '
            f'"endpoint": "{os.environ.get("LAB_HF_ENDPOINT", "http://172.17.0.1:8090")}", "token": "", '
            '"allow_patterns": [], "ignore_patterns": [], "dir": "/srv/models/resume-test"}')
    seed.run_expect([0], f"echo '{spec}' > /root/resume-spec.json")
    seed.run_expect([0], f"setsid nohup {FETCHER} --spec /root/resume-spec.json --status /root/rs.json "
                         "--result /root/rr.json >/dev/null 2>&1 &")
    partial = 0
    for dummy in range(300):  # wait for a partial file, then cut the download off
        out = seed.run("find /srv/models/resume-test/.cache -name '*.incomplete' -size +8M -printf '%s\\n'")
        if out.stdout.strip():
            partial = int(out.stdout.split()[0])
            seed.run("pkill -9 -f inferops_model_fetch.py")
            break
        time.sleep(0.1)
    assert partial > 0, "never saw a partial download to interrupt"
    assert not seed.file("/srv/models/resume-test/.inferops-model.json").exists  # never marked complete
    out = playbook("-e", "inferops_target=inferops-model-a", "-e", "model_repo=inferops/synthetic-300m",
                   "-e", "model_name=resume-test", "-v")
    resumed = int(re.search(r"resumed_bytes: (\d+)", out).group(1))
    assert resumed >= partial
    # Progress lines are printed while it runs.
    assert re.search(r"inferops-model-a: downloading [0-9.]+ [KMG]?B / 314\.6 MB \(\d+%\), files \d/3", out), out[-3000:]
    record = seed.file("/srv/models/resume-test/.inferops-model.json").content_string
    assert "model-00001.safetensors" in record
    assert seed.file("/srv/models/resume-test/model-00001.safetensors").sha256sum == \
        seed.file("/srv/models/synthetic-300m/model-00001.safetensors").sha256sum


def test_the_model_benchmark_runs_in_quick_mode():
    """Benchmarks that cannot rot (issue 18): make bench-model's code path on a 16 MB repository."""
    repo = Path(__file__).resolve().parents[3]
    proc = subprocess.run([sys.executable, str(repo / "tests" / "bench" / "model_bench.py"), "--quick", "inferops-model-a"],
                          capture_output=True, text=True, check=False, timeout=900, cwd=repo)
    print(proc.stdout)
    assert proc.returncode == 0, proc.stdout[-3000:] + proc.stderr[-3000:]
    assert "model role, fetcher only:" in proc.stdout
    assert re.search(r"^    downloading: +[0-9.]+ s$", proc.stdout, re.M), proc.stdout
    assert re.search(r"^model fetch ratio: fetch/plain=[0-9.]+$", proc.stdout, re.M)
