"""The Python client against a real control center: `stewardctl serve` (STEWARDCTL, default
target/debug/stewardctl) on a temporary database, its module socket, real gRPC."""

import json
import os
import pathlib
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.request

import grpc

sys.path.insert(0, str(pathlib.Path(__file__).resolve().parents[1]))
from steward_module import Client, Module, NotRegistered, StewardError, applied, refused  # noqa: E402

ROOT = pathlib.Path(__file__).resolve().parents[3]
STEWARDCTL = os.environ.get("STEWARDCTL", str(ROOT / "target" / "debug" / "stewardctl"))


def registration(name: str, interval_ms: int = 200) -> dict:
    level = lambda i: {"level": i, "label": f"level {i}", "cpu_millis": None, "memory_bytes": None, "gpu_memory_bytes": None}  # noqa: E731
    return {
        "name": name,
        "role": "reasoning",
        "criticality": "high",
        "features": [{"name": "lookahead", "rank": 1}],
        "quality_levels": [level(0), level(1), level(2)],
        "minimal_level": 2,
        "pids": [os.getpid()],
        "report_interval_ms": interval_ms,
    }


def report(done: int) -> dict:
    return {"cpu_millis": 120, "memory_bytes": 1 << 20, "gpu_memory_bytes": None, "healthy": True,
            "quality_level": 0, "features_on": ["lookahead"], "goodput_total": done}


class AgainstServe(unittest.TestCase):
    @classmethod
    def setUpClass(cls):
        cls.dir = tempfile.TemporaryDirectory()
        d = pathlib.Path(cls.dir.name)
        cls.socket, cls.token_file = str(d / "modules.sock"), d / "serve-token"
        cls.serve = subprocess.Popen(
            [STEWARDCTL, "serve", "--listen", "127.0.0.1:0", "--db", str(d / "s.db"), "--token-file",
             str(cls.token_file), "--module-socket", cls.socket],
            stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True)
        for line in cls.serve.stdout:
            if "http://" in line:
                cls.url = line[line.index("http://"):].split("/?token=")[0]
                break
        else:
            raise RuntimeError("stewardctl serve did not start")
        cls.token = cls.token_file.read_text().strip()
        deadline = time.time() + 10
        while not os.path.exists(cls.socket) and time.time() < deadline:
            time.sleep(0.05)

    @classmethod
    def tearDownClass(cls):
        cls.serve.kill()
        cls.serve.wait()
        cls.dir.cleanup()

    def http(self, path: str, body=None):
        req = urllib.request.Request(self.url + path, method="POST" if body is not None else "GET",
                                     data=json.dumps(body).encode() if body is not None else None,
                                     headers={"authorization": f"Bearer {self.token}",
                                              "content-type": "application/json"})
        with urllib.request.urlopen(req, timeout=10) as r:
            return json.load(r)

    def module(self, name: str) -> dict:
        return next(m for m in self.http("/api/registered-modules") if m["registration"]["name"] == name)

    def until(self, name: str, ok, timeout: float = 5.0) -> dict:
        deadline, m = time.time() + timeout, None
        while time.time() < deadline:
            m = self.module(name) if any(x["registration"]["name"] == name for x in self.http("/api/registered-modules")) else None
            if m is not None and ok(m):
                return m
            time.sleep(0.05)
        self.fail(f"{name} never got there: {m}")

    def test_register_report_directive_ack_deregister(self):
        client = Client(socket=self.socket, token=self.token)
        self.assertEqual(client.register(registration("planner")), "local")
        client.report("planner", report(10))
        time.sleep(0.25)
        client.report("planner", report(60))
        m = self.until("planner", lambda m: (m["goodput_per_s"] or 0) > 0)
        self.assertEqual((m["state"], m["report"]["goodput_total"]), ("active", 60))

        order = self.http("/api/registered-modules/local/planner/directives",
                          {"directive": {"kind": "set_quality", "level": 1}, "reason": "python test"})
        received = next(client.watch_directives("planner"))
        self.assertEqual(received, order)
        client.ack("planner", received["id"], refused("busy"))
        m = self.until("planner", lambda m: m["directives"][0]["ack"] is not None)
        self.assertEqual(m["directives"][0]["ack"], {"outcome": "refused", "reason": "busy"})

        client.deregister("planner")
        self.until("planner", lambda m: m["state"] == "deregistered")
        with self.assertRaises(NotRegistered):
            client.report("planner", report(70))
        client.close()

    def test_bad_input_and_a_wrong_token_are_refused(self):
        bad = registration("broken")
        bad["minimal_level"] = 9
        client = Client(socket=self.socket, token=self.token)
        with self.assertRaises(StewardError) as e:
            client.register(bad)
        self.assertEqual(e.exception.code, grpc.StatusCode.INVALID_ARGUMENT)
        self.assertIn("minimal_level", str(e.exception))
        intruder = Client(socket=self.socket, token="not-the-token-0123456789abcdef")
        with self.assertRaises(StewardError) as e:
            intruder.register(registration("intruder"))
        self.assertEqual(e.exception.code, grpc.StatusCode.UNAUTHENTICATED)

    def test_the_module_helper_reports_follows_directives_and_is_lost_when_it_stops_reporting(self):
        seen = []

        def on_directive(order):
            seen.append(order["directive"])
            return applied()

        module = Module(lambda: Client(socket=self.socket, token=self.token), registration("helper"), on_directive)
        module.start()
        self.assertTrue(module.registered.wait(5))
        module.report(report(1))
        self.until("helper", lambda m: m["report"] is not None)
        self.http("/api/registered-modules/local/helper/directives", {"directive": {"kind": "pause"}})
        self.until("helper", lambda m: m["directives"] and m["directives"][-1]["ack"] == {"outcome": "applied"})
        self.assertEqual(seen, [{"kind": "pause"}])
        module.stop()
        self.until("helper", lambda m: m["state"] == "deregistered")

        silent = Client(socket=self.socket, token=self.token)
        silent.register(registration("silent", interval_ms=200))
        silent.report("silent", report(1))
        m = self.until("silent", lambda m: m["state"] == "lost", timeout=3)
        self.assertEqual(m["lost_reason"], "no report for 3 intervals (600 ms)")
        silent.close()


if __name__ == "__main__":
    unittest.main()
