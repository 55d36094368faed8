import shlex

import pytest
from ansible_collections.inferops.inference.plugins.filter.vllm_args import (
    VllmArgsError, env_file_quote, systemd_env_assignment, systemd_exec_args, vllm_config_file, vllm_config_secrets, vllm_serve_args)


def test_seed_000_kunpeng_command_line():
    # The command seed 000 runs by hand on a Kunpeng 920.
    args = vllm_serve_args({
        "model": "/home/deepseek/DeepSeek-R1-Distill-Llama-8B",
        "served_model_name": "deepseek-r1:8b",
        "trust_remote_code": True,
        "host": "0.0.0.0",
        "port": 8080,
        "max_model_len": 4096,
        "enforce_eager": True,
        "dtype": "float16",
    })
    assert args == [
        "--model", "/home/deepseek/DeepSeek-R1-Distill-Llama-8B",
        "--served-model-name", "deepseek-r1:8b",
        "--host", "0.0.0.0", "--port", "8080",
        "--dtype", "float16", "--max-model-len", "4096",
        "--enforce-eager", "--trust-remote-code",
    ]


def test_unset_values_are_left_out_so_vllm_defaults_apply():
    args = vllm_serve_args({"model": "/m", "max_model_len": None, "quantization": "", "enforce_eager": False,
                            "gpu_memory_utilization": 0.92, "tensor_parallel_size": 8})
    assert args == ["--model", "/m", "--tensor-parallel-size", "8", "--gpu-memory-utilization", "0.92"]


@pytest.mark.parametrize("value,expected", [(True, ["--enable-prefix-caching"]),
                                            (False, ["--no-enable-prefix-caching"]),
                                            (None, [])])
def test_prefix_caching_is_tri_state(value, expected):
    assert vllm_serve_args({"model": "/m", "enable_prefix_caching": value})[2:] == expected


def test_extra_args_are_appended_verbatim():
    args = vllm_serve_args({"model": "/m", "extra_args": ["--seed", "7", "--disable-log-stats"]})
    assert args[-3:] == ["--seed", "7", "--disable-log-stats"]


@pytest.mark.parametrize("extra", [["--api-key", "sk-123"], ["--api-key=sk-123"], ["--hf-token", "hf_x"]])
def test_secrets_on_the_command_line_are_refused(extra):
    with pytest.raises(VllmArgsError, match="must not be passed on the command line"):
        vllm_serve_args({"model": "/m", "extra_args": extra})


def test_flag_set_twice_is_refused():
    with pytest.raises(VllmArgsError, match="--port is set twice"):
        vllm_serve_args({"model": "/m", "port": 8000, "extra_args": ["--port", "9000"]})


def test_unknown_option_and_missing_model_are_refused():
    with pytest.raises(VllmArgsError, match="unknown vLLM server options: tensor_paralel_size"):
        vllm_serve_args({"model": "/m", "tensor_paralel_size": 2})
    with pytest.raises(VllmArgsError, match="model"):
        vllm_serve_args({"model": ""})
    with pytest.raises(VllmArgsError, match="list of strings"):
        vllm_serve_args({"model": "/m", "extra_args": "--seed 1"})


def test_boolean_where_a_value_is_expected_is_refused():
    with pytest.raises(VllmArgsError, match="boolean"):
        vllm_serve_args({"model": "/m", "quantization": True})


def test_systemd_exec_args_round_trip_through_shell_like_splitting():
    args = ["--model", "/srv/models/my model", "--chat-template", "{% for m in messages %}$x 50%{% endfor %}"]
    line = systemd_exec_args(args)
    # systemd unescapes %% and $$; after that its splitting matches POSIX double quotes.
    unescaped = line.replace("%%", "%").replace("$$", "$")
    assert shlex.split(unescaped) == args
    assert "$$x" in line and "50%%" in line


def test_env_file_quote():
    assert env_file_quote('a"b\\c') == '"a\\"b\\\\c"'
    with pytest.raises(VllmArgsError):
        env_file_quote("a\nb")


def test_systemd_env_assignment_escapes_specifiers_and_quotes():
    assert systemd_env_assignment("VLLM_CPU_OMP_THREADS_BIND", "0-31|32-63") == '"VLLM_CPU_OMP_THREADS_BIND=0-31|32-63"'
    assert systemd_env_assignment("X", 'a "b" 5%') == '"X=a \\"b\\" 5%%"'
    with pytest.raises(VllmArgsError):
        systemd_env_assignment("X", "a\nb")


@pytest.mark.parametrize("flag", ["--api-key", "--api_key", "--API-KEY", "--api-k", "--hf_token", "--hf-t", "--api-key sk-x"])
def test_every_spelling_of_a_secret_flag_is_refused(flag):
    with pytest.raises(VllmArgsError, match="must not be passed on the command line"):
        vllm_serve_args({"model": "/m", "extra_args": [flag, "sk-x"]})
    with pytest.raises(VllmArgsError):
        vllm_serve_args({"model": "/m", "extra_args": [flag + "=sk-x"]})


def test_flags_that_only_look_alike_pass():
    assert vllm_serve_args({"model": "/m", "extra_args": ["--api-server-count", "2", "--hf-overrides", "{}"]})[-4:] == [
        "--api-server-count", "2", "--hf-overrides", "{}"]


def test_config_file_and_its_secrets():
    assert vllm_config_file(["--seed", "0", "--config", "/etc/vllm.yaml"]) == "/etc/vllm.yaml"
    assert vllm_config_file(["--config=/etc/v.yaml"]) == "/etc/v.yaml"
    assert vllm_config_file([]) == ""
    assert vllm_config_secrets("port: 8000\napi_key: sk\n'hf-token': x\n") == ["api-key", "hf-token"]
    assert vllm_config_secrets("port: 8000\n# api-key is set elsewhere\n") == []


@pytest.mark.parametrize("value", ["a\nb", "a\rb", "a\x00b", "a\x1bb"])
def test_control_characters_never_reach_a_unit(value):
    with pytest.raises(VllmArgsError, match="control character"):
        systemd_exec_args(["--served-model-name", value])
    with pytest.raises(VllmArgsError, match="control character"):
        systemd_env_assignment("A", value)
    with pytest.raises(VllmArgsError, match="control character"):
        env_file_quote(value)


def test_options_an_older_vllm_rejects_are_left_out_for_it():
    options = {"model": "/m", "shutdown_timeout": 30}
    assert "--shutdown-timeout" in vllm_serve_args(options)
    assert "--shutdown-timeout" in vllm_serve_args(options, "0.18.0")
    assert "--shutdown-timeout" in vllm_serve_args(options, "0.32.0+cpu")
    assert "--shutdown-timeout" not in vllm_serve_args(options, "0.13.0")
    assert "--shutdown-timeout" not in vllm_serve_args(options, "0.8.5.post1")
