"""GPU preflight arithmetic with the seeds' models and hardware."""
from ansible_collections.inferops.inference.plugins.filter.capacity import GIB, kv_bytes_per_token, model_weights_bytes, vllm_capacity

# config.json values of the published models.
QWEN_7B = {"num_attention_heads": 28, "num_key_value_heads": 4, "hidden_size": 3584, "num_hidden_layers": 28}
LLAMA_8B = {"num_attention_heads": 32, "num_key_value_heads": 8, "hidden_size": 4096, "num_hidden_layers": 32}
LLAMA_70B = {"num_attention_heads": 64, "num_key_value_heads": 8, "hidden_size": 8192, "num_hidden_layers": 80}
DEEPSEEK_R1 = {"num_attention_heads": 128, "num_key_value_heads": 128, "hidden_size": 7168, "num_hidden_layers": 61,
               "kv_lora_rank": 512, "qk_rope_head_dim": 64}
T4, A100, H800 = 15360, 81920, 81559


def test_seed_003_t4_with_7b_distill_does_not_fit():
    # Seed 003 serves the 7B distill on one T4 (16 GB): bf16 weights are ~15.2 GB.
    result = vllm_capacity(QWEN_7B, 1, T4, weights_bytes=15.23e9, max_model_len=4096)
    assert len(result["errors"]) == 1
    assert "the weights need 14.2 GiB per GPU" in result["errors"][0]
    assert "quantized model" in result["errors"][0]


def test_seed_001_a100x4_serves_llama_8b():
    result = vllm_capacity(LLAMA_8B, 4, A100, tensor_parallel_size=4, weights_bytes=16.06e9, max_model_len=32768)
    assert result["errors"] == []
    assert result["estimate"]["max_concurrent_sequences"] > 10


def test_seed_004_h800x8_r1_awq_tp8():
    result = vllm_capacity(DEEPSEEK_R1, 8, H800, tensor_parallel_size=8, gpu_memory_utilization=0.92,
                           weights_bytes=362e9, max_model_len=8192)
    assert result["errors"] == [], result
    assert 40 < result["estimate"]["weights_gib_per_gpu"] < 45


def test_tp_must_divide_heads_and_fit_the_gpus():
    result = vllm_capacity(QWEN_7B, 4, A100, tensor_parallel_size=3)
    assert result["errors"] == ["vllm_service_tensor_parallel_size 3 does not divide the model's 28 attention heads; "
                                "use one of [1, 2, 4]"]
    result = vllm_capacity(LLAMA_8B, 4, A100, tensor_parallel_size=8)
    assert "exceeds the 4 GPUs" in result["errors"][0]


def test_70b_needs_more_than_one_a100():
    result = vllm_capacity(LLAMA_70B, 1, A100, weights_bytes=141e9)
    assert "use more GPUs" in result["errors"][0]
    assert vllm_capacity(LLAMA_70B, 2, A100, tensor_parallel_size=2, weights_bytes=141e9, max_model_len=4096,
                         gpu_memory_utilization=0.95)["errors"] == []


def test_max_model_len_beyond_the_kv_cache_fails_with_the_limit():
    result = vllm_capacity(LLAMA_70B, 2, A100, tensor_parallel_size=2, weights_bytes=141e9,
                           gpu_memory_utilization=0.95, max_model_len=131072)
    assert "vllm_service_max_model_len 131072 needs" in result["errors"][0]
    assert "lower it to at most" in result["errors"][0]


def test_higher_utilization_is_suggested_when_it_would_fit():
    result = vllm_capacity(LLAMA_8B, 1, 24576, weights_bytes=16.06e9, gpu_memory_utilization=0.7)
    assert "raise vllm_service_gpu_memory_utilization to 0.7" in result["errors"][0] or \
        "raise vllm_service_gpu_memory_utilization to 0.8" in result["errors"][0]


def test_kv_bytes_per_token():
    assert kv_bytes_per_token(LLAMA_8B) == 2 * 32 * 8 * 128 * 2  # 128 KiB per token
    assert kv_bytes_per_token(LLAMA_8B, kv_cache_dtype="fp8") == 2 * 32 * 8 * 128
    assert kv_bytes_per_token(DEEPSEEK_R1) == 61 * (512 + 64) * 2  # MLA latent cache


def test_unknown_weights_only_notes():
    result = vllm_capacity(LLAMA_8B, 1, A100)
    assert result["errors"] == [] and "weights size unknown" in result["notes"][0]


def test_model_weights_bytes():
    files = [{"path": "/m/model-00001.safetensors", "size": 5 * GIB}, {"path": "/m/config.json", "size": 10},
             {"path": "/m/model-00002.safetensors", "size": 3 * GIB}]
    assert model_weights_bytes(files) == 8 * GIB


def test_cpu_offload_makes_the_7b_fit_a_t4():
    result = vllm_capacity(QWEN_7B, 1, T4, weights_bytes=15.23e9, max_model_len=4096, cpu_offload_gb=4,
                           gpu_memory_utilization=0.95, dtype="float16")
    assert result["errors"] == [], result
