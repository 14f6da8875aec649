"""Load test of the demo server (slow: python -m pytest -m slow tests/test_load.py -s).

16 concurrent clients each send several requests with their own image and seed; every answer must be exactly
the image that this image and seed give on a local copy of the same model (no state shared between
requests), and the server's resident memory must stay flat over 200 requests.
"""

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from crossview.demo import load_pipeline
from tests.conftest import ARTIFACTS, ROOT

pytestmark = pytest.mark.slow

CLIENTS, REQUESTS_EACH, MEMORY_REQUESTS = 16, 4, 200


def server_rss_mb(port: int) -> float:
    """Resident memory of the process listening on the port (the app), from /proc."""
    inode = None
    for line in Path("/proc/net/tcp").read_text().splitlines()[1:]:
        fields = line.split()
        if int(fields[1].split(":")[1], 16) == port and fields[3] == "0A":  # LISTEN
            inode = fields[9]
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            if any(f"socket:[{inode}]" == str(fd.readlink()) for fd in (proc / "fd").iterdir()):
                rss = next(x for x in (proc / "status").read_text().splitlines() if x.startswith("VmRSS"))
                return int(rss.split()[1]) / 1024
        except (PermissionError, FileNotFoundError, ProcessLookupError):
            continue
    raise RuntimeError(f"no process listens on port {port}")


def test_concurrent_clients_get_their_own_results_and_memory_stays_flat(app_url):
    from gradio_client import Client, handle_file

    local = load_pipeline()  # the model the app serves: the shipped checkpoint, or the untrained one
    examples = sorted((ROOT / "assets" / "examples").glob("*.png"))
    jobs = [(examples[i % len(examples)], 1000 * i + j) for i in range(CLIENTS) for j in range(REQUESTS_EACH)]
    expected = {(str(p), s): np.asarray(local(p, seed=s).images[0]) for p, s in jobs}

    def client_session(i):
        client = Client(app_url, verbose=False)
        out = []
        for path, seed in jobs[i * REQUESTS_EACH:(i + 1) * REQUESTS_EACH]:
            start = time.perf_counter()
            result = client.predict(handle_file(str(path)), "Auto", seed, 1, api_name="/synthesize")
            out.append((str(path), seed, np.asarray(Image.open(result[0]).convert("RGB")),
                        time.perf_counter() - start))
        return out

    port = int(app_url.rstrip("/").rsplit(":", 1)[1])
    started = time.perf_counter()
    with ThreadPoolExecutor(CLIENTS) as pool:
        results = [r for session in pool.map(client_session, range(CLIENTS)) for r in session]
    wall = time.perf_counter() - started
    assert len(results) == CLIENTS * REQUESTS_EACH
    for path, seed, image, _ in results:
        assert np.array_equal(image, expected[(path, seed)]), (path, seed)

    client = Client(app_url, verbose=False)
    rss = []
    for k in range(MEMORY_REQUESTS):
        client.predict(handle_file(str(examples[k % len(examples)])), "Auto", k, 1, api_name="/synthesize")
        if k % 20 == 19:
            rss.append(server_rss_mb(port))
    growth = rss[-1] - rss[0]
    latencies = sorted(r[3] for r in results)
    report = {"clients": CLIENTS, "requests": len(results), "wall_s": round(wall, 1),
              "requests_per_s": round(len(results) / wall, 2),
              "latency_median_s": round(latencies[len(latencies) // 2], 2),
              "latency_max_s": round(latencies[-1], 2), "rss_mb_every_20_requests": [round(x) for x in rss],
              "rss_growth_mb_over_180_requests": round(growth, 1)}
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    (ARTIFACTS / "load.json").write_text(json.dumps(report, indent=2) + "\n")
    print(json.dumps(report))
    assert growth < 50, report  # flat: no per-request leak (50 MB of slack for allocator noise)
