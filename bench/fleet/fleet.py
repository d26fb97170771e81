#!/usr/bin/env python3
"""End-to-end fleet figures for bench/results/fleet.md (README, "Many hosts").

  python3 bench/fleet/fleet.py latency [ENTRIES]    # 3-node cluster (R3 bucket), 3 hosts: push -> every follower
  python3 bench/fleet/fleet.py rss ENTRIES...        # one server, one agent: the agent's memory while it syncs

Runs the Release CLI (build it first: dotnet build -c Release src/Shmap.Cli), nats-server on
loopback ports, everything in a private directory under /dev/shm that it removes. Standard
library only.
"""
import json
import os
import random
import shutil
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from datetime import datetime

ROOT = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
CLI = ["dotnet", os.path.join(ROOT, "src/Shmap.Cli/bin/Release/net10.0/Shmap.Cli.dll")]
VALUE_BYTES = int(os.environ.get("VALUE_BYTES", "80"))
procs = []


def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start(args, out=None, err=None):
    p = subprocess.Popen(args, stdout=out or subprocess.DEVNULL, stderr=err or subprocess.DEVNULL)
    procs.append(p)
    return p


def cli(*args, check=True):
    r = subprocess.run(CLI + list(args), capture_output=True, text=True)
    if check and r.returncode != 0:
        raise SystemExit(f"shmap {' '.join(args)} failed ({r.returncode}): {r.stderr}")
    return r


def nats_cluster(work, n):
    ports = [free_port() for _ in range(n)]
    cports = [free_port() for _ in range(n)]
    mports = [free_port() for _ in range(n)]
    for i in range(n):
        args = ["nats-server", "-n", f"n{i}", "-a", "127.0.0.1", "-p", str(ports[i]), "-m", str(mports[i]),
                "-js", "-sd", os.path.join(work, f"store{i}")]
        if n > 1:
            routes = ",".join(f"nats://127.0.0.1:{p}" for j, p in enumerate(cports) if j != i)
            args += ["--cluster_name", "fleet", "--cluster", f"nats://127.0.0.1:{cports[i]}", "--routes", routes]
        start(args)
    for m in mports:
        wait_for(lambda: http_ok(f"http://127.0.0.1:{m}/healthz"), 20, "nats-server")
    return ",".join(f"nats://127.0.0.1:{p}" for p in ports), mports


def http_ok(url):
    try:
        with urllib.request.urlopen(url, timeout=1) as r:
            return r.status == 200
    except OSError:
        return False


def sync_out_bytes(mports):
    """Bytes each server sent to each 'shmap sync' connection: {(server, cid): out_bytes}."""
    result = {}
    for m in mports:
        with urllib.request.urlopen(f"http://127.0.0.1:{m}/connz?limit=1024", timeout=5) as r:
            for c in json.load(r).get("connections", []):
                if c.get("name", "").startswith("shmap sync@"):
                    result[(m, c["cid"])] = c["out_bytes"]
    return result


def wait_for(condition, seconds, what):
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline:
            raise SystemExit(f"timed out waiting for {what}")
        time.sleep(0.01)


def write_tsv(path, entries, version):
    rng = random.Random(42)
    pad = "x" * max(0, VALUE_BYTES - 24)
    with open(path, "w") as f:
        for i in range(entries):
            f.write(f"user:{i:08d}\t{version}:{rng.randrange(1 << 40):013d}:{pad}\n")


def lines(path):
    try:
        with open(path) as f:
            return [json.loads(l) for l in f if l.strip()]
    except FileNotFoundError:
        return []


def iso_ms(text):
    return datetime.fromisoformat(text.replace("Z", "+00:00")).timestamp() * 1000


def latency(entries, rounds=3):
    work = tempfile.mkdtemp(prefix="shmap-fleet.", dir="/dev/shm")
    try:
        urls, mports = nats_cluster(work, 3)
        pub = os.path.join(work, "pub")
        tsv = [os.path.join(work, f"v{v}.tsv") for v in (1, 2)]
        for v in (1, 2):
            write_tsv(tsv[v - 1], entries, v)
        cli("share", "big", tsv[0], "--dir", pub)
        size = os.path.getsize(os.path.join(pub, "big.shmap"))
        hosts = [os.path.join(work, f"h{h}") for h in range(3)]
        for h, d in enumerate(hosts):
            start(CLI + ["sync", "--nats", urls, "--bucket", "fleet", "--dir", d, "--json"],
                  out=open(os.path.join(work, f"sync{h}.jsonl"), "w"), err=open(os.path.join(work, f"sync{h}.log"), "w"))
        cli("push", "big", "--nats", urls, "--bucket", "fleet", "--replicas", "3", "--dir", pub)
        for h in range(3):
            wait_for(lambda: any(e["event"] == "published" for e in lines(os.path.join(work, f"sync{h}.jsonl"))), 300, f"host {h}")
            start(CLI + ["watch", "big", "--dir", hosts[h], "--json"], out=open(os.path.join(work, f"watch{h}.jsonl"), "w"))
        time.sleep(2)
        results = []
        for r in range(rounds):
            cli("share", "big", tsv[(r + 1) % 2], "--dir", pub, "--force")
            before = sync_out_bytes(mports)
            t0 = time.time() * 1000
            push = json.loads(cli("push", "big", "--nats", urls, "--bucket", "fleet", "--dir", pub, "--json").stdout)
            t_push = time.time() * 1000 - t0
            seen = []
            for h in range(3):
                path = os.path.join(work, f"watch{h}.jsonl")
                wait_for(lambda: len(lines(path)) >= r + 1, 300, f"watch {h}")
                seen.append(iso_ms(lines(path)[r]["seenAt"]) - t0)
            syncs = []
            for h in range(3):
                path = os.path.join(work, f"sync{h}.jsonl")
                wait_for(lambda: any(e["fleetVersion"] == push["fleetVersion"] for e in lines(path)), 60, f"sync {h}")
                syncs.append(next(e for e in lines(path) if e["fleetVersion"] == push["fleetVersion"]))
            time.sleep(0.5)
            after = sync_out_bytes(mports)
            sent = sorted(after[k] - before.get(k, 0) for k in after)
            results.append({"push_ms": t_push, "push_lib_s": push["seconds"], "seen_ms": seen,
                            "sync_since_push_s": [s["seconds"] for s in syncs],
                            "download_s": [s["downloadSeconds"] for s in syncs], "publish_s": [s["publishSeconds"] for s in syncs], "bytes_sent": sent})
            print(json.dumps(results[-1]), flush=True)
        # Baseline: the same bytes copied with cp and loaded with shmap load on one host.
        copy = os.path.join(work, "copy.shmap")
        t0 = time.time()
        shutil.copyfile(os.path.join(pub, "big.shmap"), copy)
        t1 = time.time()
        cli("load", "big", copy, "--dir", os.path.join(work, "loaded"))
        t2 = time.time()
        print(json.dumps({"entries": entries, "snapshot_bytes": size, "cp_s": t1 - t0, "load_s": t2 - t1}), flush=True)
    finally:
        stop(work)


def rss(entries):
    work = tempfile.mkdtemp(prefix="shmap-fleet.", dir="/dev/shm")
    try:
        urls, _ = nats_cluster(work, 1)
        pub = os.path.join(work, "pub")
        tsv = os.path.join(work, "v1.tsv")
        write_tsv(tsv, entries, 1)
        cli("share", "big", tsv, "--dir", pub)
        os.remove(tsv)
        size = os.path.getsize(os.path.join(pub, "big.shmap"))
        cli("push", "big", "--nats", urls, "--dir", pub)
        shutil.rmtree(pub)
        events = os.path.join(work, "sync.jsonl")
        agent = start(CLI + ["sync", "--nats", urls, "--dir", os.path.join(work, "h"), "--json"], out=open(events, "w"))
        peak = {}
        t0 = time.time()
        while not lines(events):
            try:
                with open(f"/proc/{agent.pid}/status") as f:
                    for line in f:
                        k, _, v = line.partition(":")
                        if k in ("VmRSS", "RssAnon", "RssFile", "RssShmem", "VmHWM"):
                            peak[k] = max(peak.get(k, 0), int(v.split()[0]))
            except FileNotFoundError:
                raise SystemExit("the agent died")
            time.sleep(0.02)
        took = time.time() - t0
        with open(f"/proc/{agent.pid}/status") as f:
            after = {k: int(v.split()[0]) for k, _, v in (l.partition(":") for l in f) if k in ("VmRSS", "RssAnon", "RssShmem")}
        print(json.dumps({"entries": entries, "snapshot_bytes": size, "sync_s": took, "peak_kib": peak, "after_kib": after,
                          "event": lines(events)[0]}), flush=True)
    finally:
        stop(work)


def stop(work):
    for p in procs:
        p.kill()
    for p in procs:
        p.wait()
    procs.clear()
    shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    if len(sys.argv) < 2 or sys.argv[1] not in ("latency", "rss"):
        raise SystemExit(__doc__)
    if sys.argv[1] == "latency":
        latency(int(sys.argv[2]) if len(sys.argv) > 2 else 1_000_000)
    else:
        for n in sys.argv[2:] or ["100000"]:
            rss(int(n))
