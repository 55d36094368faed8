"""Preflight arithmetic for vLLM on GPUs: parallelism, weights and KV cache vs GPU memory.

The seeds size hosts with rule-of-thumb tables; this computes the same from the model's
config.json and the GPU facts, so a bad combination fails before anything is installed.
"""

from __future__ import annotations

GIB = 1024 ** 3
MIB = 1024 ** 2
_DTYPE_BYTES = {"auto": 2, "bfloat16": 2, "float16": 2, "half": 2, "float32": 4, "float": 4,
                "fp8": 1, "fp8_e4m3": 1, "fp8_e5m2": 1}
# CUDA context, activations and graph memory vLLM needs on top of weights and KV cache.
_RUNTIME_OVERHEAD = 2 * GIB


def _divisors(n, limit):
    return [d for d in range(1, limit + 1) if n % d == 0]


def kv_bytes_per_token(config, kv_cache_dtype="auto", dtype="auto"):
    """KV-cache bytes one token needs over the whole model (all layers, all KV heads)."""
    layers = int(config.get("num_hidden_layers", 0))
    elem = _DTYPE_BYTES.get(kv_cache_dtype if kv_cache_dtype not in ("", "auto") else dtype, 2)
    if config.get("kv_lora_rank"):  # MLA (DeepSeek-V2/V3/R1): one latent vector per token and layer
        return layers * (int(config["kv_lora_rank"]) + int(config.get("qk_rope_head_dim", 64))) * elem
    heads = int(config.get("num_attention_heads", 0))
    kv_heads = int(config.get("num_key_value_heads", heads))
    head_dim = int(config.get("head_dim") or (int(config.get("hidden_size", 0)) // max(heads, 1)))
    return 2 * layers * kv_heads * head_dim * elem


def vllm_capacity(config, gpu_count, gpu_memory_mib, tensor_parallel_size=1, pipeline_parallel_size=1,
                  gpu_memory_utilization=0.9, max_model_len=None, weights_bytes=None, kv_cache_dtype="auto",
                  dtype="auto", cpu_offload_gb=0):
    """Return {errors: [...], notes: [...], estimate: {...}}; errors name the variable to change."""
    tp, pp = int(tensor_parallel_size), int(pipeline_parallel_size)
    util = float(gpu_memory_utilization if gpu_memory_utilization not in (None, "") else 0.9)
    config = config or {}
    errors, notes = [], []

    if gpu_count and tp > int(gpu_count):
        errors.append(f"vllm_service_tensor_parallel_size {tp} exceeds the {gpu_count} GPUs of this host; "
                      "spread the rest over nodes with vllm_service_pipeline_parallel_size")
    heads = config.get("num_attention_heads")
    if heads and int(heads) % tp:
        choices = _divisors(int(heads), int(gpu_count) if gpu_count else tp)
        errors.append(f"vllm_service_tensor_parallel_size {tp} does not divide the model's {heads} attention heads; "
                      f"use one of {choices}")

    estimate = {}
    budget = util * int(gpu_memory_mib or 0) * MIB
    if weights_bytes and gpu_memory_mib:
        # --cpu-offload-gb keeps that much of each GPU's share of the weights in host memory.
        per_gpu = max(int(weights_bytes) / (tp * pp) - float(cpu_offload_gb or 0) * 1e9, 0)
        estimate["weights_gib_per_gpu"] = round(per_gpu / GIB, 2)
        estimate["budget_gib_per_gpu"] = round(budget / GIB, 2)
        if per_gpu + _RUNTIME_OVERHEAD > budget:
            need_util = (per_gpu + _RUNTIME_OVERHEAD) / (int(gpu_memory_mib) * MIB)
            errors.append(
                f"the weights need {per_gpu / GIB:.1f} GiB per GPU (+{_RUNTIME_OVERHEAD // GIB} GiB runtime) but "
                f"{util:.2f} x {int(gpu_memory_mib) / 1024:.0f} GiB allows {budget / GIB:.1f} GiB: "
                + (f"raise vllm_service_gpu_memory_utilization to {need_util:.2f}, " if need_util < 0.98 else "")
                + "use more GPUs (tensor/pipeline parallel), vllm_service_cpu_offload_gb or a quantized model")
        elif config.get("num_hidden_layers") and max_model_len:
            kv_token = kv_bytes_per_token(config, kv_cache_dtype, dtype) / (tp * pp)
            free = budget - per_gpu - _RUNTIME_OVERHEAD
            need = kv_token * int(max_model_len)
            estimate["kv_gib_per_gpu_for_one_sequence"] = round(need / GIB, 3)
            estimate["max_concurrent_sequences"] = int(free // need) if need else None
            if need > free:
                fits = int(free // kv_token) if kv_token else 0
                errors.append(
                    f"vllm_service_max_model_len {max_model_len} needs {need / GIB:.1f} GiB of KV cache per GPU, "
                    f"{free / GIB:.1f} GiB are left after the weights: lower it to at most {fits}, raise "
                    "vllm_service_gpu_memory_utilization, use an fp8 vllm_service_kv_cache_dtype or more GPUs")
    elif not weights_bytes:
        notes.append("weights size unknown: the memory check waits until the model is on the host")
    return {"errors": errors, "notes": notes, "estimate": estimate}


def model_weights_bytes(files):
    """Sum of weight files (safetensors/bin/pt/gguf) from ansible.builtin.find results."""
    suffixes = (".safetensors", ".bin", ".pt", ".pth", ".gguf")
    return sum(int(f["size"]) for f in files if str(f["path"]).endswith(suffixes))


class FilterModule:
    def filters(self):
        return {"vllm_capacity": vllm_capacity, "model_weights_bytes": model_weights_bytes,
                "kv_bytes_per_token": kv_bytes_per_token}
