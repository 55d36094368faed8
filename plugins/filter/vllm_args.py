"""Filters that turn role variables into vLLM command lines and systemd unit text."""

from __future__ import annotations

import re


# Order matters only for readability of the unit file and `ps`: model first.
_VALUE_OPTIONS = (
    ("model", "--model"),
    ("served_model_name", "--served-model-name"),
    ("host", "--host"),
    ("port", "--port"),
    ("dtype", "--dtype"),
    ("max_model_len", "--max-model-len"),
    ("tensor_parallel_size", "--tensor-parallel-size"),
    ("pipeline_parallel_size", "--pipeline-parallel-size"),
    ("distributed_executor_backend", "--distributed-executor-backend"),
    ("gpu_memory_utilization", "--gpu-memory-utilization"),
    ("quantization", "--quantization"),
    ("kv_cache_dtype", "--kv-cache-dtype"),
    ("swap_space", "--swap-space"),
    ("cpu_offload_gb", "--cpu-offload-gb"),
    ("block_size", "--block-size"),
    ("max_num_seqs", "--max-num-seqs"),
    ("chat_template", "--chat-template"),
    ("reasoning_parser", "--reasoning-parser"),
    ("shutdown_timeout", "--shutdown-timeout"),
)
_SWITCHES = (
    ("enforce_eager", "--enforce-eager"),
    ("trust_remote_code", "--trust-remote-code"),
)
_TRI_STATE = (("enable_prefix_caching", "--enable-prefix-caching", "--no-enable-prefix-caching"),)
_SECRET_FLAGS = ("--api-key", "--hf-token")
_KNOWN = {k for k, _ in _VALUE_OPTIONS} | {k for k, _ in _SWITCHES} | {k for k, _, _ in _TRI_STATE} | {"extra_args"}


class VllmArgsError(ValueError):
    """Raised for options that cannot be turned into a safe command line."""


def _is_unset(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _fmt(value):
    if isinstance(value, bool):
        raise VllmArgsError(f"expected a value, got the boolean {value}")
    return str(value)


def vllm_serve_args(options):
    if not isinstance(options, dict):
        raise VllmArgsError("vllm_serve_args expects a dict of options")
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise VllmArgsError(f"unknown vLLM server options: {', '.join(unknown)}")
    if _is_unset(options.get("model")):
        raise VllmArgsError("the model (a local path or a Hugging Face repo id) is required")

    args = []
    for key, flag in _VALUE_OPTIONS:
        value = options.get(key)
        if _is_unset(value):
            continue
        args += [flag, _fmt(value)]
    for key, flag in _SWITCHES:
        if options.get(key):
            args.append(flag)
    for key, on_flag, off_flag in _TRI_STATE:
        value = options.get(key)
        if value is True:
            args.append(on_flag)
        elif value is False:
            args.append(off_flag)

    extra = options.get("extra_args") or []
    if isinstance(extra, str):
        raise VllmArgsError("extra_args must be a list of strings, one argument per item")
    extra = [str(a) for a in extra]
    for arg in extra:
        if arg.split("=", 1)[0] in _SECRET_FLAGS:
            raise VllmArgsError(
                f"{arg.split('=', 1)[0]} must not be passed on the command line (it would show in ps and "
                "the unit file): set vllm_service_api_key / vllm_service_hf_token instead")
    for arg in extra:
        flag = arg.split("=", 1)[0]
        if flag.startswith("--") and flag in args:
            raise VllmArgsError(f"{flag} is set twice: by a variable and in extra_args")
    return args + extra


_SYSTEMD_SAFE = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def systemd_exec_args(args):
    """Quote arguments for an ExecStart= line.

    systemd splits ExecStart like a shell would for double quotes, but also expands
    $VAR and %-specifiers: escape those so a path or template is passed through verbatim.
    """
    out = []
    for arg in args:
        arg = str(arg)
        escaped = arg.replace("%", "%%").replace("$", "$$")
        if _SYSTEMD_SAFE.match(escaped):
            out.append(escaped)
        else:
            escaped = escaped.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'"{escaped}"')
    return " ".join(out)


def env_file_quote(value):
    """Quote a value for a systemd EnvironmentFile= line (KEY="value")."""
    value = str(value)
    if "\n" in value or "\r" in value:
        raise VllmArgsError("environment values cannot contain newlines")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_env_assignment(name, value):
    """One Environment= item for a unit file: "NAME=value", quoted, % specifiers escaped."""
    text = f"{name}={value}"
    if "\n" in text:
        raise VllmArgsError("environment values cannot contain newlines")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


class FilterModule:
    def filters(self):
        return {
            "vllm_serve_args": vllm_serve_args,
            "systemd_exec_args": systemd_exec_args,
            "env_file_quote": env_file_quote,
            "systemd_env_assignment": systemd_env_assignment,
        }
