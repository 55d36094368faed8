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
# Options older vLLM releases reject ("unrecognized arguments"): the first release with each.
# Given the installed version, the command line leaves them out for older ones.
_SINCE = {"shutdown_timeout": (0, 18)}
_SWITCHES = (
    ("enforce_eager", "--enforce-eager"),
    ("trust_remote_code", "--trust-remote-code"),
)
_TRI_STATE = (("enable_prefix_caching", "--enable-prefix-caching", "--no-enable-prefix-caching"),)
# vLLM's parser takes --api-key and --api_key alike; a prefix that only a secret flag has
# (argparse abbreviations such as --api-k) reaches the same option.
_SECRET_OPTIONS = ("api-key", "hf-token")
_SECRET_PREFIXES = ("api-k", "hf-t")
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
_KNOWN = {opt[0] for opt in _VALUE_OPTIONS} | {opt[0] for opt in _SWITCHES} | {opt[0] for opt in _TRI_STATE} | {"extra_args"}


class VllmArgsError(ValueError):
    """Raised for options that cannot be turned into a safe command line."""


def _is_unset(value):
    return value is None or (isinstance(value, str) and value.strip() == "")


def _fmt(value):
    if isinstance(value, bool):
        raise VllmArgsError(f"expected a value, got the boolean {value}")
    return str(value)


def _release(version):
    parts = re.match(r"(\d+)\.(\d+)", str(version or ""))
    return (int(parts.group(1)), int(parts.group(2))) if parts else None


def vllm_serve_args(options, vllm_version=""):
    """The server's argument list. vllm_version (the installed release; empty: the newest)
    leaves out options that release does not know."""
    if not isinstance(options, dict):
        raise VllmArgsError("vllm_serve_args expects a dict of options")
    unknown = sorted(set(options) - _KNOWN)
    if unknown:
        raise VllmArgsError(f"unknown vLLM server options: {', '.join(unknown)}")
    if _is_unset(options.get("model")):
        raise VllmArgsError("the model (a local path or a Hugging Face repo id) is required")

    release = _release(vllm_version)
    args = []
    for key, flag in _VALUE_OPTIONS:
        value = options.get(key)
        if _is_unset(value) or (release and release < _SINCE.get(key, (0, 0))):
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
        if secret_flag(arg):
            raise VllmArgsError(
                f"{arg.split('=', 1)[0]} must not be passed on the command line (it would show in ps and "
                "the unit file): set vllm_service_api_key / vllm_service_hf_token instead")
    for arg in extra:
        flag = arg.split("=", 1)[0]
        if flag.startswith("--") and flag in args:
            raise VllmArgsError(f"{flag} is set twice: by a variable and in extra_args")
    return args + extra


def _option_name(arg):
    """'--API_Key=x' -> 'api-key'; None for arguments that are not long options."""
    if not arg.startswith("--") or len(arg) == 2:
        return None
    words = arg[2:].split("=", 1)[0].split()
    return words[0].replace("_", "-").lower() if words else None


def secret_flag(arg):
    """True for every spelling of a secret option: --api-key, --api_key=..., --api-k (abbreviated)."""
    name = _option_name(str(arg))
    return bool(name) and any(option.startswith(name) and name.startswith(prefix)
                              for option, prefix in zip(_SECRET_OPTIONS, _SECRET_PREFIXES))


def vllm_config_file(extra_args):
    """The file given with --config (or --config=FILE) in extra args, else ''."""
    args = [str(a) for a in extra_args or []]
    for index, arg in enumerate(args):
        if arg == "--config" and index + 1 < len(args):
            return args[index + 1]
        if arg.startswith("--config="):
            return arg.split("=", 1)[1]
    return ""


def vllm_config_secrets(text):
    """Secret keys (api-key, hf-token, any spelling) set in a vLLM --config YAML file."""
    found = []
    for line in str(text or "").splitlines():
        key = line.strip().split(":", 1)[0].strip().strip("'\"").lstrip("-").replace("_", "-").lower()
        if ":" in line and key in _SECRET_OPTIONS and key not in found:
            found.append(key)
    return found


def _no_control(text, what):
    if _CONTROL.search(text):
        raise VllmArgsError(f"{what} cannot contain a newline or another control character: {text[:40]!r}")
    return text


_SYSTEMD_SAFE = re.compile(r"^[A-Za-z0-9_@%+=:,./-]+$")


def systemd_exec_args(args):
    """Quote arguments for an ExecStart= line.

    systemd splits ExecStart like a shell would for double quotes, but also expands
    $VAR and %-specifiers: escape those so a path or template is passed through verbatim.
    """
    out = []
    for arg in args:
        arg = _no_control(str(arg), "a unit file argument")
        escaped = arg.replace("%", "%%").replace("$", "$$")
        if _SYSTEMD_SAFE.match(escaped):
            out.append(escaped)
        else:
            escaped = escaped.replace("\\", "\\\\").replace('"', '\\"')
            out.append(f'"{escaped}"')
    return " ".join(out)


def env_file_quote(value):
    """Quote a value for a systemd EnvironmentFile= line (KEY="value")."""
    value = _no_control(str(value), "an environment value")
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def systemd_env_assignment(name, value):
    """One Environment= item for a unit file: "NAME=value", quoted, % specifiers escaped."""
    text = _no_control(f"{name}={value}", "an environment assignment")
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"').replace("%", "%%") + '"'


def systemd_verify_command(unit_name):
    """A `validate:` command that checks a candidate unit file with systemd-analyze verify.

    systemd only verifies files named like units, and exits 0 on unknown keys and bad lines:
    the candidate is copied under the unit's name and any message about it fails the check.
    """
    if not re.match(r"^[A-Za-z0-9_.@-]+\.(service|socket|timer)$", str(unit_name)):
        raise VllmArgsError(f"not a unit file name: {unit_name!r}")
    # No '%' in the script: Ansible fills the candidate's path in with `validate % path`.
    script = ('d=$(mktemp -d) && cp "$1" "$d/$2" && out=$(systemd-analyze verify "$d/$2" 2>&1); rc=$?; '
              'rm -rf "$d"; echo "$out"; [ "$rc" -eq 0 ] && ! echo "$out" | grep -q "$2"')
    return f"/bin/sh -c '{script}' unit-check %s {unit_name}"


class FilterModule:
    def filters(self):
        return {
            "vllm_serve_args": vllm_serve_args,
            "systemd_exec_args": systemd_exec_args,
            "env_file_quote": env_file_quote,
            "systemd_env_assignment": systemd_env_assignment,
            "vllm_config_file": vllm_config_file,
            "systemd_verify_command": systemd_verify_command,
            "vllm_config_secrets": vllm_config_secrets,
        }
