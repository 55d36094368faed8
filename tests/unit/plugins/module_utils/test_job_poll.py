import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from ansible_collections.inferops.inference.plugins.module_utils.job_poll import read_job, remove_job, wait_job


RUNNING = {"started": 1, "finished": 0, "ansible_job_id": "j1.2", "results_file": "/root/.ansible_async/j1.2",
           "_ansible_suppress_tmpdir_delete": True}


def test_a_job_states_are_read_as_async_status_reads_them(tmp_path):
    job = tmp_path / "j1.2"
    assert read_job(str(job)) == ("missing", None)
    job.write_text("")
    assert read_job(str(job)) == ("running", None)  # created, not written yet
    job.write_text(json.dumps(RUNNING))
    assert read_job(str(job)) == ("running", None)
    done = {"rc": 0, "stdout": "", "stderr": "Installed 150 packages", "changed": True}
    job.write_text(json.dumps(done))
    assert read_job(str(job)) == ("finished", done)
    # A result that says it started and finished (as some modules' own answers do) is over too.
    failed = {"started": 1, "finished": 1, "failed": 1, "msg": "Job reached maximum time limit of 10 seconds."}
    job.write_text(json.dumps(failed))
    assert read_job(str(job)) == ("finished", failed)


def test_unparsable_output_is_a_failed_job_not_an_endless_wait(tmp_path):
    job = tmp_path / "j1"
    job.write_text("Traceback (most recent call last):\n  ...")
    state, data = read_job(str(job))
    assert state == "finished" and data["failed"] is True and "Traceback" in data["msg"]
    job.write_text("[1, 2]")
    state, data = read_job(str(job))
    assert state == "finished" and data["failed"] is True


def test_wait_returns_at_once_when_the_job_is_over_or_missing(tmp_path, clock):
    result = wait_job(str(tmp_path / "nope"), window=5, interval=0.5, clock=clock, sleep=clock.sleep)
    assert result == {"state": "missing", "job": None, "polls": 1} and clock.now == 0
    (tmp_path / "j").write_text('{"rc": 0}')
    assert wait_job(str(tmp_path / "j"), 5, 0.5, clock=clock, sleep=clock.sleep)["job"] == {"rc": 0}


def test_wait_gives_up_after_the_window_while_the_job_runs(tmp_path, clock):
    (tmp_path / "j").write_text(json.dumps(RUNNING))
    result = wait_job(str(tmp_path / "j"), window=2, interval=0.5, clock=clock, sleep=clock.sleep)
    assert result == {"state": "running", "job": None, "polls": 5}
    assert clock.now == 2.0  # never sleeps past the window
    # The last look before a timeout (window 0) and a zero interval read once.
    assert wait_job(str(tmp_path / "j"), window=0, interval=0.5, clock=clock, sleep=clock.sleep)["polls"] == 1
    assert wait_job(str(tmp_path / "j"), window=5, interval=0, clock=clock, sleep=clock.sleep)["polls"] == 1


def test_wait_sees_the_end_within_one_interval(tmp_path):
    """A real file rewritten by another thread while wait_job reads it, as async_wrapper does
    (a temporary file renamed over the job file)."""
    job = tmp_path / "j"
    job.write_text(json.dumps(RUNNING))

    def finish():
        time.sleep(0.6)
        (tmp_path / "j.tmp").write_text('{"rc": 0, "changed": true}')
        finished_at.append(time.monotonic())
        os.replace(tmp_path / "j.tmp", job)
    finished_at = []
    writer = threading.Thread(target=finish)
    writer.start()
    result = wait_job(str(job), window=10, interval=0.1)
    seen = time.monotonic()
    writer.join()
    assert result["state"] == "finished" and result["job"] == {"rc": 0, "changed": True}
    assert seen - finished_at[0] < 1.0  # generous on a busy machine; the old 2 s poll could not promise it


def test_remove_job(tmp_path):
    (tmp_path / "j").write_text("{}")
    assert remove_job(str(tmp_path / "j")) is True
    assert remove_job(str(tmp_path / "j")) is False


def test_a_real_async_job_file_of_this_ansible_core(tmp_path):
    """The format itself, from this ansible-core's async_wrapper: a command run in the background
    writes the file that read_job must recognise, running then finished."""
    import ansible.modules
    # A copy: run from its own folder, the wrapper would import ansible's tempfile module as
    # the standard library's.
    wrapper = tmp_path / "async_wrapper.py"
    wrapper.write_bytes((Path(ansible.modules.__file__).parent / "async_wrapper.py").read_bytes())
    module = tmp_path / "module.py"
    module.write_text(f"#!{sys.executable}\nimport json, time\ntime.sleep(1.5)\n"
                      "print(json.dumps({'rc': 0, 'changed': True, 'msg': 'done'}))\n")
    module.chmod(0o755)
    env = {**os.environ, "ANSIBLE_ASYNC_DIR": str(tmp_path / "async")}
    # Its command line is internal and changed in ansible-core 2.21 (preserve_tmp and the module,
    # then the command to run, instead of the module and an arguments file): its usage line tells.
    new_style = "<preserve_tmp> <module_path>" in wrapper.read_text()
    args = (["j42", "30", "true", str(module), str(module)] if new_style
            else ["j42", "30", str(module), "_"])
    out = subprocess.run([sys.executable, str(wrapper), *args], capture_output=True,
                         text=True, env=env, check=True, cwd=tmp_path)
    jid = json.loads(out.stdout.strip().splitlines()[-1])["ansible_job_id"]
    path = str(tmp_path / "async" / jid)
    assert read_job(path) == ("running", None)
    result = wait_job(path, window=30, interval=0.1)
    assert result["state"] == "finished" and result["job"]["msg"] == "done", result
