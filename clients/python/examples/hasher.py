"""An example module in Python: hashes blocks of data (real work) at the rate its quality level
allows, reports its CPU time, resident memory and blocks hashed, and follows Steward's directives.

    python examples/hasher.py --socket ~/.local/share/steward/modules.sock \
        --token-file ~/.local/share/steward/serve-token
"""

import argparse
import hashlib
import os
import resource
import threading
import time

from steward_module import Client, Module, applied, refused

RATES = [200, 100, 50, 10]  # blocks per second, full quality first


def main() -> None:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--socket", required=True)
    p.add_argument("--token-file", required=True)
    p.add_argument("--name", default="hasher")
    p.add_argument("--report-ms", type=int, default=1000)
    args = p.parse_args()
    token = open(args.token_file).read().strip()

    state = {"level": 0, "paused": False, "done": 0, "verify": True}
    registration = {
        "name": args.name,
        "role": "indexing",
        "criticality": "sheddable",
        "features": [{"name": "verify", "rank": 1}],
        "quality_levels": [
            {"level": i, "label": f"{r} blocks/s", "cpu_millis": None, "memory_bytes": None, "gpu_memory_bytes": None}
            for i, r in enumerate(RATES)
        ],
        "minimal_level": len(RATES) - 1,
        "pids": [os.getpid()],
        "report_interval_ms": args.report_ms,
    }

    def on_directive(order: dict) -> dict:
        d = order["directive"]
        kind = d["kind"]
        if kind == "set_quality":
            if d["level"] >= len(RATES):
                return refused(f"no level {d['level']}")
            state["level"] = d["level"]
        elif kind in ("disable_feature", "enable_feature"):
            if d["name"] != "verify":
                return refused(f"no feature {d['name']!r}")
            state["verify"] = kind == "enable_feature"
        elif kind in ("pause", "resume"):
            state["paused"] = kind == "pause"
        print(f"directive {order['id']} {d}: applied", flush=True)
        return applied()

    module = Module(lambda: Client(socket=args.socket, token=token), registration, on_directive).start()
    stop = threading.Event()

    def work() -> None:
        block = os.urandom(64 * 1024)
        while not stop.is_set():
            if state["paused"]:
                time.sleep(0.05)
                continue
            digest = hashlib.sha256(block).digest()
            if state["verify"]:
                assert hashlib.sha256(block).digest() == digest
            block = digest + block[32:]
            state["done"] += 1
            time.sleep(1.0 / RATES[state["level"]])

    threading.Thread(target=work, daemon=True).start()
    last = (time.monotonic(), time.process_time())
    try:
        while True:
            time.sleep(args.report_ms / 1000.0)
            now = (time.monotonic(), time.process_time())
            cpu_millis = round((now[1] - last[1]) / (now[0] - last[0]) * 1000)
            last = now
            module.report({
                "cpu_millis": cpu_millis,
                # ru_maxrss is the peak, in KiB on Linux: the honest figure Python has at hand.
                "memory_bytes": resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024,
                "gpu_memory_bytes": None,
                "healthy": True,
                "quality_level": state["level"],
                "features_on": ["verify"] if state["verify"] else [],
                "goodput_total": state["done"],
            })
    except KeyboardInterrupt:
        pass
    finally:
        stop.set()
        module.stop()


if __name__ == "__main__":
    main()
