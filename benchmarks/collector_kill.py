"""Kill test of the event collector: no acknowledged event is lost or stored twice, however often it dies.

    python benchmarks/collector_kill.py [--events 100000] [--batch 500] [--kills 6] [--clients 2] [--json]

A load generator on 127.0.0.1 sends ``--events`` events in batches of ``--batch`` to ``shoplens collect serve``
(a separate process) from ``--clients`` connections, while the collector is killed with SIGKILL ``--kills`` times
(spread over the run, each at a random moment in a request) and restarted. A batch that was not answered 200 is
sent again with the same event ids until it is. Then ``shoplens collect load`` moves the spool into the
warehouse, and the warehouse is read back: every acknowledged event must be there exactly once.

The baseline, measured in the same run, is the same generator against a collector that is never killed
(``--no-baseline`` skips it). Printed: acknowledged, stored, duplicate rows, lost, batches sent again, the
loader's own counts, and events/s with and without kills. No number here is asserted by the test suite, except
by the ``slow`` test that runs a small version and checks lost = duplicates = 0.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from shoplens.config import Settings
from shoplens.warehouse import connect

TYPES = ("page_view", "product_view", "cart", "checkout", "order")
# The benchmark is one client address sending as fast as it can: the per-address rate limit is raised for it.
COLLECTOR_ENV = {"SHOPLENS_COLLECT_RATE": "100000", "SHOPLENS_COLLECT_BURST": "100000"}


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


class Collector:
    """``shoplens collect serve`` in a child process, killed and restarted on demand."""

    def __init__(self, home: Path, port: int) -> None:
        self.home, self.port = home, port
        self.process: subprocess.Popen[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        args = [sys.executable, "-m", "shoplens", "--home", str(self.home), "collect", "serve"]
        args += ["--port", str(self.port)]
        env = {**os.environ, **COLLECTOR_ENV}
        self.process = subprocess.Popen(args, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.starts += 1
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"the collector exited with {self.process.returncode}")
            try:
                connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=1)
                connection.request("GET", "/collect/v1/health")
                if connection.getresponse().status == 200:
                    connection.close()
                    return
            except OSError:
                time.sleep(0.05)
        raise RuntimeError("the collector did not start within 60 s")

    def kill(self) -> None:
        assert self.process is not None
        os.kill(self.process.pid, signal.SIGKILL)
        self.process.wait()

    def stop(self) -> None:
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            self.process.wait(timeout=30)


@dataclass
class Generator:
    """Sends every batch until it is acknowledged; remembers which event ids were."""

    port: int
    batches: list[list[dict[str, Any]]]
    clients: int
    acknowledged: set[str] = field(default_factory=set)
    acked_batches: int = 0
    resent: int = 0
    seconds: float = 0.0
    lock: threading.Lock = field(default_factory=threading.Lock)
    # Each client holds its last batch back until every kill is done, so a fast machine (or a slow killer) can never
    # finish sending before the last kill comes.
    release: threading.Event = field(default_factory=threading.Event)

    def run(self) -> None:
        started = time.perf_counter()
        threads = [threading.Thread(target=self._client, args=(n,)) for n in range(self.clients)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        self.seconds = time.perf_counter() - started

    def _client(self, number: int) -> None:
        connection: http.client.HTTPConnection | None = None
        mine = self.batches[number :: self.clients]
        for index, batch in enumerate(mine):
            if index == len(mine) - 1:
                self.release.wait()
            body = json.dumps({"events": batch}).encode()
            attempts = 0
            while True:
                attempts += 1
                try:
                    if connection is None:
                        connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=10)
                    connection.request("POST", "/collect/v1/events", body, {"Content-Type": "application/json"})
                    response = connection.getresponse()
                    answer = json.loads(response.read())
                    if response.status == 200 and answer["accepted"] == len(batch):
                        break
                    if response.status not in (429, 503):
                        raise RuntimeError(f"unexpected answer {response.status}: {answer}")
                except (OSError, http.client.HTTPException, json.JSONDecodeError):
                    if connection is not None:
                        connection.close()
                    connection = None
                time.sleep(0.02)
            with self.lock:
                self.acknowledged.update(event["event_id"] for event in batch)
                self.acked_batches += 1
                self.resent += attempts - 1
        if connection is not None:
            connection.close()


def make_batches(run: str, events: int, batch: int) -> list[list[dict[str, Any]]]:
    rows = [
        {
            "event_id": f"{run}-{i:07d}",
            "type": TYPES[i % len(TYPES)],
            "at": f"2025-06-01T{(i // 3600) % 24:02d}:{(i // 60) % 60:02d}:{i % 60:02d}Z",
            "session_id": f"{run}-S{i // 25}",
            "page": f"/products/{i % 997}",
            "product_id": f"P-{i % 997}",
            "device": "mobile" if i % 3 else "desktop",
        }
        for i in range(events)
    ]
    return [rows[start : start + batch] for start in range(0, events, batch)]


def run_once(home: Path, *, events: int, batch: int, kills: int, clients: int, seed: int) -> dict[str, Any]:
    """One run into a fresh store at ``home``: send, kill, load, count."""
    port = free_port()
    collector = Collector(home, port)
    collector.start()
    generator = Generator(port, make_batches(home.name, events, batch), clients)
    sending = threading.Thread(target=generator.run)
    sending.start()
    randomness = random.Random(seed)
    total = len(generator.batches)
    held_back = min(clients, total)  # the last batch of each client waits for the release
    thresholds = [min(total * (k + 1) // (kills + 1), total - held_back) for k in range(kills)]
    done_kills = 0
    for threshold in thresholds:
        while generator.acked_batches < threshold and sending.is_alive():
            time.sleep(0.002)
        if not sending.is_alive():
            break
        time.sleep(randomness.uniform(0, 0.03))  # somewhere inside a request: parsing, writing or fsyncing
        collector.kill()
        done_kills += 1
        collector.start()
    generator.release.set()
    sending.join()
    collector.stop()

    started = time.perf_counter()
    loaded = subprocess.run(
        [sys.executable, "-m", "shoplens", "--home", str(home), "collect", "load", "--json"],
        capture_output=True,
        check=True,
        text=True,
    )
    load_seconds = time.perf_counter() - started
    loader = json.loads(loaded.stdout)
    with connect(Settings(home=home), read_only=True) as warehouse:
        ids = warehouse.backend.table("events").event_id.to_pandas()
    stored_ids = set(ids)
    seconds = generator.seconds
    return {
        "events": events,
        "batch": batch,
        "kills": done_kills,
        "collector_starts": collector.starts,
        "acknowledged": len(generator.acknowledged),
        "stored": len(generator.acknowledged & stored_ids),
        "rows": len(ids),
        "duplicates": len(ids) - len(stored_ids),
        "lost": len(generator.acknowledged - stored_ids),
        "batches_resent": generator.resent,
        "loader": {k: loader[k] for k in ("events_loaded", "duplicates", "quarantined")},
        "send_seconds": round(seconds, 2),
        "events_per_second": round(len(generator.acknowledged) / seconds),
        "load_seconds": round(load_seconds, 2),
        "acknowledged_ids": sorted(generator.acknowledged),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--events", type=int, default=100_000)
    parser.add_argument("--batch", type=int, default=500)
    parser.add_argument("--kills", type=int, default=6)
    parser.add_argument("--clients", type=int, default=2)
    parser.add_argument("--seed", type=int, default=7)
    parser.add_argument("--no-baseline", action="store_true", help="skip the run without kills")
    parser.add_argument("--home", type=Path, help="directory for the stores (default: a temporary one)")
    parser.add_argument("--acked-file", type=Path, help="write the acknowledged event ids here, one per line")
    parser.add_argument("--json", action="store_true", help="print one JSON document")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory(prefix="collector-kill-") as scratch:
        base = args.home or Path(scratch)
        options = {"events": args.events, "batch": args.batch, "clients": args.clients, "seed": args.seed}
        baseline = None if args.no_baseline else run_once(base / "baseline", kills=0, **options)
        killed = run_once(base / "killed", kills=args.kills, **options)
    acked = killed.pop("acknowledged_ids")
    if args.acked_file:
        args.acked_file.write_text("".join(f"{event_id}\n" for event_id in acked))
    report: dict[str, Any] = {"killed": killed}
    if baseline is not None:
        baseline.pop("acknowledged_ids")
        report["baseline"] = baseline
        report["throughput_ratio"] = round(killed["events_per_second"] / baseline["events_per_second"], 2)
    if args.json:
        print(json.dumps(report))
        return
    for name, figures in (("baseline (no kills)", baseline), ("with SIGKILLs", killed)):
        if figures is None:
            continue
        print(
            f"{name}: {figures['kills']} kills, acknowledged {figures['acknowledged']:,}, "
            f"stored {figures['stored']:,}, "
            f"duplicates {figures['duplicates']}, lost {figures['lost']}, batches resent {figures['batches_resent']}, "
            f"loader {figures['loader']}, {figures['events_per_second']:,} events/s "
            f"({figures['send_seconds']} s), load {figures['load_seconds']} s"
        )
    if "throughput_ratio" in report:
        print(f"throughput with kills / without: {report['throughput_ratio']}x")


if __name__ == "__main__":
    main()
