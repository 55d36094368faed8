"""The progress line the model_fetch action prints while the fetcher runs on the host."""
from ansible_collections.inferops.inference.plugins.action.model_fetch import progress_line


def test_progress_line():
    line = progress_line("h1", {"phase": "downloading", "bytes_done": 157286430, "bytes_total": 314572860,
                                "files_done": 1, "files_total": 3, "rate_bytes_per_s": 12142888.5})
    assert line == "h1: downloading 157.3 MB / 314.6 MB (50%), files 1/3, 12.1 MB/s"
