"""Kinds of role input and the checks that keep each one safe for where it ends up.

Every value a role writes into a file another program parses (systemd units and environment
files, nginx, apt, Ray's command line) or uses as a path is untrusted text. Each option of a
role is given a kind in the role's ``tasks/validate.yml`` (the ``inferops.inference.check_inputs``
action); the kind restricts it to characters that cannot break any format it reaches, or, for
free text, to one line that the format's own escaping filter can quote (``vllm_args.py``).

``check(name, value, rule)`` returns None or one sentence naming the variable and the fix.
Pure functions: the action plugin and the unit tests call the same code.
"""

from __future__ import annotations

import ipaddress
import re

# C0 controls (newline, NUL, escape...), DEL and C1 controls: never valid in a one-line value.
_CONTROL = re.compile(r"[\x00-\x1f\x7f-\x9f]")
# Characters a shell or a config format treats specially; none of the constrained kinds needs them.
_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.@-]*$")
_ACCOUNT = re.compile(r"^[a-z_][a-z0-9_-]*$")
# No ':' (it separates LD_PRELOAD and PATH-like lists) and no spaces or quotes.
_PATH = re.compile(r"^/[A-Za-z0-9._/@+,=-]*$")
_URL = re.compile(r"^(?P<scheme>[a-z][a-z0-9+.-]*)://(?P<rest>[A-Za-z0-9._~:/?#\[\]@!&()*+,;=%-]+)$")
_HOSTNAME = re.compile(r"^(?=.{1,253}$)[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?(\.[A-Za-z0-9]([A-Za-z0-9-]{0,61}[A-Za-z0-9])?)*\.?$")
# RFC 6750 b64token: what an HTTP Bearer credential may contain.
_TOKEN = re.compile(r"^[A-Za-z0-9._~+/-]+=*$")
_WORD = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:+-]*$")
_VERSION = re.compile(r"^[0-9]+(\.[0-9]+)*([.+-]?[A-Za-z0-9]+(\.[A-Za-z0-9]+)*)?$")
_REVISION = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_./-]*$")
_REPO_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.-]*/[A-Za-z0-9][A-Za-z0-9_.-]*$")
_ENV_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")
_DIRECTIVE = re.compile(r"^[A-Z][A-Za-z]{1,63}$")
# systemd DeviceAllow= items: a device node or a driver's major ("char-nvidia-uvm"), rights.
_DEVICE_ALLOW = re.compile(r"^(?!.*\.\.)(/dev/[A-Za-z0-9_][A-Za-z0-9_./-]*|(char|block)-[A-Za-z0-9_*.-]+)( [rwm]{1,3})?$")
# systemd SystemCallFilter= items: a call or @group, "~" to deny, ":ERRNO" for the error.
_SYSCALL = re.compile(r"^~?@?[a-z0-9_-]{1,64}(:[A-Z0-9]{1,16})?$")
_INTERFACE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,14}$")
_NGINX_TIME = re.compile(r"^[0-9]{1,9}(ms|s|m|h|d|w|M|y)?$")
_PROM_DURATION = re.compile(r"^([0-9]{1,9}(ms|s|m|h|d|w|y))+$")
_NUMBER = re.compile(r"^[0-9]{1,15}(\.[0-9]{1,15})?$")
_NGINX_SIZE = re.compile(r"^[0-9]{1,9}[kKmMgG]?$")
_CPU_BIND = re.compile(r"^(auto|nobind|[0-9][0-9,|-]*)$")
_APT_SOURCE = re.compile(r"^deb(-src)? (\[(?P<opts>[^\]]*)\] )?(?P<uri>\S+) (?P<suite>\S+)( \S+)*$")
_PACKAGE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.+:=~*-]*$")
_DNF_VARS = re.compile(r"\$(releasever|basearch|arch)\b")
_APT_OPTIONS = {"arch", "signed-by", "lang", "target", "pdiffs", "by-hash"}

# What each kind allows, in the words of the error message.
DESCRIPTIONS = {
    "name": "one file name (letters, digits, '.', '_', '-', '@'; no '/', no '..', not starting with '.' or '-'), at most 64 characters",
    "account": "a POSIX account name (lower-case letters, digits, '_', '-'; starting with a letter or '_'), at most 32 characters",
    "path": "an absolute path of letters, digits and . _ / @ + , = - (no spaces, quotes, ':' or '..' components)",
    "url": "a URL of the form scheme://host/path without spaces, quotes, backslashes, '$' or '`'",
    "host": "a host name or an IP address",
    "cidr": "an IPv4 or IPv6 network in CIDR notation (10.0.0.0/24)",
    "interface": "a network interface name (letters, digits, '_', '.', ':', '-'; at most 15 characters)",
    "token": "a bearer token (letters, digits and . _ ~ + / -, optionally ending in '='), at most 4096 characters",
    "word": "one word (letters, digits and _ . : + -, not starting with a punctuation character)",
    "version": "a version such as 0.32.0 or 2.13.0+cpu",
    "revision": "a git branch, tag or commit (letters, digits and _ . / -; no '..')",
    "repo_id": "a repository id of the form owner/name",
    "text": "one line of printable text (no newline or other control character), at most 1024 characters",
    "arg": "one line of printable text that does not start with '-' (vLLM would read it as a flag)",
    "pattern": "a file name pattern such as *.safetensors (one line, no '..' component)",
    "env_name": "an environment variable name (letters, digits, '_'; not starting with a digit)",
    "directive": "a systemd directive name such as PrivateUsers (letters only, starting with a capital)",
    "device_allow": "a systemd DeviceAllow= item: /dev/<node> or char-<driver>, then rights (r, w, m), e.g. 'char-nvidia-uvm rw'",
    "syscall": "a systemd SystemCallFilter= item such as @system-service, ~@privileged or mbind",
    "backend": "address:port with a host name or IP address and a port in 1-65535",
    "port": "a TCP port number in 1-65535",
    "nginx_time": "an nginx time such as 5s, 500ms or 1h",
    "nginx_size": "an nginx size such as 16m or 1024k",
    "prom_duration": "a Prometheus duration such as 15s, 5m or 1h30m",
    "number": "a number of at least 0, such as 0.9 or 5",
    "cpu_bind": "auto, nobind or CPU lists such as 0-31|32-63",
    "model_ref": "an absolute path of letters, digits and . _ / @ + , = - or a repository id owner/name",
    "package": "a package name, optionally with a version (letters, digits and _ . + : = ~ * -)",
    "dnf_url": "a URL without spaces or quotes; $releasever, $basearch and $arch are allowed",
    "location": "an absolute path or a URL (http, https or file)",
    "name_or_path": "one file name (letters, digits, '.', '_', '-', '@') or an absolute path",
    "hostport": "a host name or an IP address, optionally with :port",
    "torch_matrix": "a mapping of torch minor versions ('2.11') to {x86_64: [cu126, ...], aarch64: [...], python: [lowest, highest], pypi: '12.8'}",
    "requirement": "a PEP 508 requirement such as 'ray[default]==2.60.0', or a wheel's URL or absolute path",
    "record": "a list of mappings with the documented keys",
    "count": "a whole number",
    "bool": "true or false",
    "apt_source": "one apt line 'deb [options] URI suite [components]' (options among arch, signed-by, lang, target, pdiffs, by-hash)",
}

_LIMITS = {"name": 64, "account": 32, "token": 4096, "text": 1024, "arg": 1024, "pattern": 256, "url": 2048,
           "path": 4096, "word": 128, "version": 64, "revision": 256, "repo_id": 192, "env_name": 128,
           "apt_source": 2048}


# Kinds that are one regular expression and nothing else.
_MATCH_ONLY = {"account": _ACCOUNT, "interface": _INTERFACE, "token": _TOKEN, "word": _WORD, "version": _VERSION,
               "env_name": _ENV_NAME, "package": _PACKAGE, "nginx_time": _NGINX_TIME, "nginx_size": _NGINX_SIZE,
               "cpu_bind": _CPU_BIND, "prom_duration": _PROM_DURATION, "directive": _DIRECTIVE,
               "device_allow": _DEVICE_ALLOW, "syscall": _SYSCALL}


def _is_host(value):
    candidate = value[1:-1] if value.startswith("[") and value.endswith("]") else value
    try:
        ipaddress.ip_address(candidate)
        return True
    except ValueError:
        return candidate == value and bool(_HOSTNAME.match(value))


def _components_ok(path):
    return all(part not in ("..", ".") for part in path.split("/")[1:]) and "//" not in path


def _url_ok(value, schemes):
    match = _URL.match(value)
    if not match or match.group("scheme") not in schemes:
        return False
    rest = match.group("rest")
    if value.startswith("file://"):
        return rest.startswith("/") and _components_ok(rest)
    authority = rest.split("/", 1)[0].split("@")[-1]
    host = authority.rsplit(":", 1)[0] if not authority.endswith("]") else authority
    if authority.count(":") == 1 or (authority.startswith("[") and "]:" in authority):
        port = authority.rsplit(":", 1)[1]
        if not port.isdigit() or not 0 < int(port) < 65536:
            return False
    return _is_host(host)


def _check_scalar(kind, value, rule):
    """True when value (a string) is valid for kind."""
    if kind in _MATCH_ONLY:
        return bool(_MATCH_ONLY[kind].match(value))
    if kind == "name":
        return bool(_NAME.match(value)) and ".." not in value
    if kind == "path":
        return bool(_PATH.match(value)) and _components_ok(value)
    if kind == "url":
        return _url_ok(value, rule.get("schemes") or ["http", "https"])
    if kind == "host":
        return _is_host(value)
    if kind == "cidr":
        try:
            ipaddress.ip_network(value, strict=False)
            return "/" in value
        except ValueError:
            return False
    if kind == "revision":
        return bool(_REVISION.match(value)) and ".." not in value and not value.endswith("/")
    if kind == "repo_id":
        return bool(_REPO_ID.match(value)) and ".." not in value
    if kind in ("text", "arg"):
        return kind == "text" or not value.startswith("-")
    if kind == "pattern":
        return ".." not in value.split("/") and not value.startswith("/")
    if kind == "backend":
        host, port = value.rpartition(":")[::2]
        return bool(host) and port.isdigit() and 0 < int(port) < 65536 and _is_host(host)
    if kind == "model_ref":
        return _check_scalar("path", value, rule) or _check_scalar("repo_id", value, rule)
    if kind == "dnf_url":
        return _url_ok(_DNF_VARS.sub("x", value), ["http", "https", "file"])
    if kind == "name_or_path":
        return _check_scalar("name", value, rule) or _check_scalar("path", value, rule)
    if kind == "location":
        return _check_scalar("path", value, rule) or _url_ok(value, rule.get("schemes") or ["http", "https", "file"])
    if kind == "hostport":
        host, sep, port = value.rpartition(":")
        if sep and port.isdigit() and not value.endswith("]") and (host.count(":") == 0 or host.endswith("]")):
            return 0 < int(port) < 65536 and _is_host(host)
        return _is_host(value)
    if kind == "requirement":
        if _check_scalar("location", value, rule) and value.endswith((".whl", ".tar.gz", ".zip")):
            return True
        try:
            from packaging.requirements import InvalidRequirement, Requirement
        except ImportError:  # ansible-core depends on packaging; keep the check strict without it
            return bool(re.match(r"^[A-Za-z0-9][A-Za-z0-9._-]*(\[[A-Za-z0-9._,-]+\])?([=<>!~]=?[A-Za-z0-9.*+!_-]+)?$", value))
        try:
            Requirement(value)
            return not value.startswith("-")
        except InvalidRequirement:
            return False
    if kind == "apt_source":
        match = _APT_SOURCE.match(value)
        if not match or not _url_ok(match.group("uri"), ["http", "https", "file"]):
            return False
        options = (match.group("opts") or "").split()
        return all(opt.split("=", 1)[0] in _APT_OPTIONS and "=" in opt for opt in options)
    raise ValueError(f"unknown input kind {kind!r}")


# Directories a role creates and hands to its account (or fills with venvs and models): never
# a system directory, where chown/chmod would break the host.
_SYSTEM_TREES = ("/bin", "/boot", "/dev", "/etc", "/lib", "/lib32", "/lib64", "/proc", "/run", "/sbin", "/sys",
                 "/usr", "/var/run")
_SYSTEM_DIRS = {"/var/lib", "/var/log", "/var/cache", "/var/tmp", "/var/spool", "/var/mail", "/home", "/root",
                "/opt", "/srv", "/tmp", "/var", "/mnt", "/media"}


def _owned_dir_ok(path):
    path = path.rstrip("/") or "/"
    return path.count("/") >= 2 and path not in _SYSTEM_DIRS and not any(
        path == tree or path.startswith(tree + "/") for tree in _SYSTEM_TREES)


def _shown(value, secret):
    if secret:
        return "(a secret, not shown)"
    text = repr(value)
    return text if len(text) <= 80 else text[:77] + "..."


def check(name, value, rule):
    """None when value suits rule, else one sentence naming `name` and what it must be.

    rule: {"kind": KIND, "empty": allow '' and null, "bool": also allow true/false,
           "owned": a directory the role owns (no system or top-level directory), "model_dir": likewise, "list": a list of KIND,
           "dict": a mapping of env_name (or the kind in "keys") to KIND, "secret": never show the value,
           "schemes": for url, "min"/"max": for port, "entry_point": an entry point's own input, skipped
           where its caller has not set it}
    """
    kind = rule["kind"]
    if kind not in DESCRIPTIONS:
        raise ValueError(f"{name}: unknown input kind {kind!r}")
    secret = bool(rule.get("secret"))
    if rule.get("list"):
        if not isinstance(value, (list, tuple)):
            return f"{name} must be a list (one item per value), got {_shown(value, secret)}"
        for index, item in enumerate(value):
            problem = check(f"{name}[{index}]", item, {**rule, "list": False, "empty": False})
            if problem:
                return problem
        return None
    if kind == "torch_matrix":
        return _check_torch_matrix(name, value)
    if rule.get("fields"):
        return _check_record(name, value, rule)
    if rule.get("dict"):
        if not isinstance(value, dict):
            return f"{name} must be a mapping, got {_shown(value, secret)}"
        for key, item in value.items():
            problem = check(f"{name} key", key, {"kind": rule.get("keys", "env_name")}) or check(
                f"{name}[{key!r}]", "" if item is None else str(item), {**rule, "dict": False, "empty": True})
            if problem:
                return problem
        return None
    if value is None or (isinstance(value, str) and value == ""):
        return None if rule.get("empty") else f"{name} must be set: {DESCRIPTIONS[kind]}"
    if kind == "bool":
        return None if isinstance(value, bool) else f"{name} must be true or false, got {_shown(value, secret)}"
    if kind == "count":
        if isinstance(value, bool) or not (isinstance(value, int) or (isinstance(value, str) and value.strip().isdigit())):
            return f"{name} must be {DESCRIPTIONS[kind]}, got {_shown(value, secret)}"
        low = rule.get("min", 1)
        if isinstance(value, str) and len(value) > 18:
            return f"{name} must be {DESCRIPTIONS[kind]}, got {_shown(value, secret)}"
        return None if int(value) >= low else f"{name} must be a whole number of at least {low}, got {_shown(value, secret)}"
    if kind == "number":
        if isinstance(value, bool) or not (isinstance(value, (int, float)) or isinstance(value, str)):
            return f"{name} must be {DESCRIPTIONS[kind]}, got {_shown(value, secret)}"
        text = repr(value) if isinstance(value, float) else str(value)
        return None if _NUMBER.match(text) else f"{name} must be {DESCRIPTIONS[kind]}, got {_shown(value, secret)}"
    if kind == "port":
        try:
            number = int(str(value), 10)
        except ValueError:
            return f"{name} must be {DESCRIPTIONS[kind]}, got {_shown(value, secret)}"
        low, high = rule.get("min", 1), rule.get("max", 65535)
        return None if low <= number <= high and str(value).strip().isdigit() else (
            f"{name} must be a port number in {low}-{high}, got {_shown(value, secret)}")
    if isinstance(value, bool) and rule.get("bool"):
        return None
    if isinstance(value, bool) or not isinstance(value, (str, int, float)):
        return f"{name} must be a string ({DESCRIPTIONS[kind]}), got {_shown(value, secret)}"
    text = str(value)
    limit = _LIMITS.get(kind, 1024)
    if len(text) > limit:
        return f"{name} is {len(text)} characters long; the most is {limit}: {DESCRIPTIONS[kind]}"
    if _CONTROL.search(text):
        return f"{name} contains a newline or another control character: it must be {DESCRIPTIONS[kind]}"
    if not _check_scalar(kind, text, rule):
        return f"{name} must be {DESCRIPTIONS[kind]}, got {_shown(value, secret)}"
    if rule.get("model_dir") and not _owned_dir_ok(text):
        return f"{name} is {text!r}, a system directory or a top-level one, not a model directory"
    if rule.get("owned") and not _owned_dir_ok(text):
        return (f"{name} is {text!r}, a system directory or a top-level one: the role creates it and sets its "
                "owner and mode, so it must be a directory of its own such as /var/lib/vllm or /srv/models")
    return None


_VARIANT = re.compile(r"^(cu[0-9]{3}|rocm[0-9.]+|xpu|cpu)$")
_MINOR = re.compile(r"^[0-9]+\.[0-9]+$")


def _check_torch_matrix(name, value):
    if not isinstance(value, dict):
        return f"{name} must be {DESCRIPTIONS['torch_matrix']}"
    for minor, entry in value.items():
        where = f"{name}[{minor!r}]"
        if not _MINOR.match(str(minor)) or not isinstance(entry, dict):
            return f"{where}: keys must be torch minor versions such as '2.11' and values mappings"
        unknown = sorted(str(k) for k in entry if k not in ("x86_64", "aarch64", "python", "pypi"))
        if unknown:
            return f"{where} has unknown keys {unknown}: allowed are x86_64, aarch64, python, pypi"
        if "pypi" in entry and not _MINOR.match(str(entry["pypi"])):
            return f"{where}.pypi must be the CUDA release of PyPI's build, such as '12.8'"
        for arch in ("x86_64", "aarch64"):
            variants = entry.get(arch, [])
            if not isinstance(variants, list) or not all(isinstance(v, str) and _VARIANT.match(v) for v in variants):
                return f"{where}.{arch} must be a list of PyTorch variants such as cu126, cu128"
        python = entry.get("python", ["3.0", "9.99"])
        if not (isinstance(python, list) and len(python) == 2 and all(_MINOR.match(str(p)) for p in python)):
            return f"{where}.python must be [lowest, highest] Python versions such as ['3.10', '3.14']"
    return None


def _check_record(name, value, rule):
    """A list of mappings whose keys are given by rule["fields"] ({key: rule}); unknown keys are refused."""
    if not isinstance(value, (list, tuple)):
        return f"{name} must be a list of mappings, got {_shown(value, False)}"
    fields = {key: normalise_rule(sub) for key, sub in rule["fields"].items()}
    for index, item in enumerate(value):
        if not isinstance(item, dict):
            return f"{name}[{index}] must be a mapping with keys {', '.join(sorted(fields))}"
        unknown = sorted(str(key) for key in item if key not in fields)
        if unknown:
            return f"{name}[{index}] has unknown keys {unknown}: allowed are {', '.join(sorted(fields))}"
        for key, sub in fields.items():
            if key not in item:
                if not sub.get("empty"):
                    return f"{name}[{index}] needs '{key}': {DESCRIPTIONS[sub['kind']]}"
                continue
            problem = check(f"{name}[{index}].{key}", item[key], sub)
            if problem:
                return problem
    return None


def normalise_rule(rule):
    """A rule may be written as just its kind ("name") or as a dict."""
    return {"kind": rule} if isinstance(rule, str) else dict(rule)


def check_all(inputs, values):
    """Problems for every variable of `inputs` ({var: rule}) given `values` ({var: value})."""
    problems = []
    for name, rule in inputs.items():
        rule = normalise_rule(rule)
        if name not in values:
            # An entry point's own input, set by its caller: checked where it is given.
            if not rule.get("entry_point"):
                problems.append(f"{name} is not defined")
            continue
        problem = check(name, values[name], rule)
        if problem:
            problems.append(problem)
    return problems
