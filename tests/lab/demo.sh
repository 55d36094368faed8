#!/usr/bin/env bash
# `make demo`: provision a local systemd container as a CPU inference host with
# playbooks/cpu_node.yml, then show a real chat completion and how to query it yourself.
set -euo pipefail
repo="$(cd "$(dirname "$0")/../.." && pwd)"
name=inferops-demo
port="${DEMO_PORT:-18000}"

"$repo/tests/lab/start-container.sh" "$name" -p "127.0.0.1:$port:8000"
echo "demo: container $name is up (its port 8000 is 127.0.0.1:$port here)"

cd "$repo"
start=$(date +%s)
ansible-playbook -i inventories/lab playbooks/cpu_node.yml
echo "demo: playbook finished in $(( $(date +%s) - start )) s"

key_file="$LAB_DIR/api-key"
echo
echo "demo: one chat completion from the served model (random weights, so random text):"
curl -sS "http://127.0.0.1:$port/v1/chat/completions" \
  -H "Authorization: Bearer $(cat "$key_file")" -H 'Content-Type: application/json' \
  -d '{"model": "tiny-qwen2", "messages": [{"role": "user", "content": "Hello!"}], "max_tokens": 16}'
echo
echo
echo "demo: query it yourself:"
echo "  curl http://127.0.0.1:$port/v1/chat/completions \\"
echo "    -H \"Authorization: Bearer \$(cat $key_file)\" -H 'Content-Type: application/json' \\"
echo "    -d '{\"model\": \"tiny-qwen2\", \"messages\": [{\"role\": \"user\", \"content\": \"Hello!\"}]}'"
echo "demo: remove it with: docker rm -f $name"
