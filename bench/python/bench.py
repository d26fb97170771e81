"""Benchmarks of the Python side (python/shmap): lookups, open and publish.

    taskset -c 1 python3 bench/python/bench.py [--entries 1000000] [--open-entries 10000000]
                                               [--rounds 5] [--no-csharp] [--markdown FILE]

Data has the shape of the C# benchmarks' Dataset (bench/Shmap.Benchmarks/Dataset.cs): random
ASCII keys of 16-24 characters and values of 24-40 from the same 67-character alphabet, misses of
the same shape. Every figure is the median of ``--rounds`` rounds; lookups are per key over the
whole shuffled key set (hits) or as many same-shape misses, timed with ``time.perf_counter_ns``
around a plain ``for`` loop (the loop's own cost, a few ns, is included, as it is for the dict).
The C# builder's publish time comes from the CLI (``shmap share``, Release build, its "published
in" figure: planning, hashing, writing and publishing, the same steps ``Builder.publish`` times).
"""

from __future__ import annotations

import argparse
import gc
import os
import platform
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(os.path.dirname(HERE))
sys.path.insert(0, os.path.join(ROOT, "python"))

import shmap  # noqa: E402

ALPHABET = b"ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_.:/"
_TABLE = bytes(ALPHABET[i % len(ALPHABET)] for i in range(256))


def random_texts(rnd: random.Random, count: int, lo: int, hi: int) -> list:
    """``count`` random ASCII strings of lo..hi characters (bytes mapped onto the alphabet)."""
    out = []
    for start in range(0, count, 1 << 20):  # randbytes takes at most 2**28 bytes at a time
        lengths = [rnd.randint(lo, hi) for _ in range(min(1 << 20, count - start))]
        blob = rnd.randbytes(sum(lengths)).translate(_TABLE).decode("ascii")
        at = 0
        for n in lengths:
            out.append(blob[at: at + n])
            at += n
    return out


def dataset(count: int, seed: int = 20_240_601):
    rnd = random.Random(seed)
    keys = list(dict.fromkeys(random_texts(rnd, count, 16, 24)))
    while len(keys) < count:
        keys = list(dict.fromkeys(keys + random_texts(rnd, count - len(keys), 16, 24)))
    values = random_texts(rnd, count, 24, 40)
    key_set = set(keys)
    misses = [k for k in random_texts(random.Random(seed + 1), count + 1000, 16, 24) if k not in key_set][:count]
    return keys, values, misses


BATCH = 100


def median_ns_per(fn, items, rounds: int):
    """(median over rounds of the whole pass's ns per key, 10th percentile of the per-key time of
    the passes' 100-key batches). Every key is looked up once per pass, so both are cold-cache
    figures; the percentile leaves out the batches a busy machine's other processes slowed."""
    results = []
    batches = []
    perf = time.perf_counter_ns
    for _ in range(rounds):
        gc.disable()
        total = 0
        for start in range(0, len(items), BATCH):
            chunk = items[start: start + BATCH]
            t = perf()
            fn(chunk)
            elapsed = perf() - t
            total += elapsed
            batches.append(elapsed / len(chunk))
        gc.enable()
        results.append(total / len(items))
    batches.sort()
    return statistics.median(results), batches[len(batches) // 10]


def loop_get(get):
    def run(items):
        for k in items:
            get(k)
    return run


def measure_lookups(m, d: dict, keys, misses, rounds: int):
    rnd = random.Random(7)
    hits = list(keys)
    rnd.shuffle(hits)
    hits_b = [k.encode() for k in hits]
    misses_b = [k.encode() for k in misses]
    # setup checks its data
    assert all(m.get(k) == d[k] for k in hits[:1000])
    assert all(m.get(k) is None for k in misses[:1000])
    assert all(bytes(m.get_bytes(k)) == d[k.decode()].encode() for k in hits_b[:1000])
    rows = []
    for label, fn, items in [
        ("SharedMap.get(str) hit", loop_get(m.get), hits),
        ("SharedMap.get(str) miss", loop_get(m.get), misses),
        ("SharedMap.get_bytes(bytes) hit", loop_get(m.get_bytes), hits_b),
        ("SharedMap.get_bytes(bytes) miss", loop_get(m.get_bytes), misses_b),
        ("dict.get(str) hit", loop_get(d.get), hits),
        ("dict.get(str) miss", loop_get(d.get), misses),
    ]:
        rows.append((label, median_ns_per(fn, items, rounds)))
    return rows


def time_open(name: str, directory: str, rounds: int = 200) -> float:
    times = []
    for _ in range(rounds):
        t = time.perf_counter_ns()
        m = shmap.open(name, directory)
        times.append(time.perf_counter_ns() - t)
        m.close()
    return statistics.median(times) / 1e3  # µs


def parse_duration(text: str) -> float:
    """Seconds from the CLI's Display.Duration text ("404 ms", "1.23 s", "850 µs")."""
    m = re.search(r"published in ([0-9.,]+)\s*(µs|us|ms|s|min)", text)
    if not m:
        raise ValueError(f"no 'published in' figure in: {text!r}")
    value = float(m.group(1).replace(",", ""))
    return value * {"µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "min": 60.0}[m.group(2)]


def write_tsv(path: str, keys, values) -> None:
    with open(path, "w", encoding="ascii", newline="\n") as f:
        for k, v in zip(keys, values):
            f.write(k)
            f.write("\t")
            f.write(v)
            f.write("\n")


def cli(args, timeout=3600):
    cmd = ["dotnet", "run", "-c", "Release", "--no-build", "--project", os.path.join(ROOT, "src", "Shmap.Cli"), "--"] + args
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout, check=True).stdout


def machine() -> str:
    try:
        lscpu = subprocess.run(["lscpu"], capture_output=True, text=True).stdout
        wanted = ("Model name", "CPU(s):", "Thread(s) per core", "L1d", "L2", "L3", "Hypervisor vendor")
        lines = [ln.strip() for ln in lscpu.splitlines() if ln.strip().startswith(wanted)]
    except OSError:
        lines = []
    lines.append(f"Python {platform.python_version()} ({platform.python_implementation()}), {platform.platform()}")
    try:
        lines.append("load average at start: " + " ".join(f"{x:.2f}" for x in os.getloadavg()))
    except OSError:
        pass
    return "\n".join(lines)


def main() -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--entries", type=int, default=1_000_000)
    ap.add_argument("--open-entries", type=int, default=10_000_000, help="size of the second map whose open is timed (0: skip)")
    ap.add_argument("--rounds", type=int, default=5)
    ap.add_argument("--no-csharp", action="store_true", help="skip the C# CLI runs (publish figure, 10M map)")
    ap.add_argument("--markdown", help="append the results as markdown to this file")
    args = ap.parse_args()

    directory = tempfile.mkdtemp(prefix="shmap-pybench-", dir="/dev/shm" if os.path.isdir("/dev/shm") else None)
    os.chmod(directory, 0o700)
    out = []
    info = machine()  # the load average when the run starts
    try:
        print(info)
        n = args.entries
        t = time.perf_counter()
        keys, values, misses = dataset(n)
        print(f"dataset: {n} entries in {time.perf_counter() - t:.1f} s")
        d = dict(zip(keys, values))

        t = time.perf_counter()
        b = shmap.Builder()
        for k, v in zip(keys, values):
            b.set(k, v)
        set_s = time.perf_counter() - t
        gc.collect()
        t = time.perf_counter()
        version = b.publish("bench", directory)
        publish_s = time.perf_counter() - t
        size = os.path.getsize(os.path.join(directory, "bench.shmap"))
        print(f"python: set x{n} {set_s:.2f} s, publish {publish_s:.2f} s, {size / 2**20:.1f} MiB, version {version}")
        del b
        gc.collect()

        csharp_publish = None
        if not args.no_csharp:
            tsv = os.path.join(directory, "bench.tsv")
            write_tsv(tsv, keys, values)
            text = cli(["share", "bench-cs", tsv, "--dir", directory])
            csharp_publish = parse_duration(text)
            print("C# CLI:", text.strip())
            os.unlink(tsv)
            with open(os.path.join(directory, "bench.shmap"), "rb") as f1, open(os.path.join(directory, "bench-cs.shmap"), "rb") as f2:
                same = f1.read()[128:] == f2.read()[128:]
            print("python and C# snapshots identical past the header:", same)
            assert same

        open_1m = time_open("bench", directory)
        m = shmap.open("bench", directory)
        rows = measure_lookups(m, d, keys, misses, args.rounds)
        for label, (ns, p10) in rows:
            print(f"{label:34s} {ns:8.0f} ns   (p10 of batches {p10:.0f} ns)")

        open_big = None
        if args.open_entries and not args.no_csharp:
            del d, keys, values, misses
            m.close()
            gc.collect()
            big_keys, big_values, _ = dataset(args.open_entries, seed=99)
            tsv = os.path.join(directory, "big.tsv")
            write_tsv(tsv, big_keys, big_values)
            del big_keys, big_values
            gc.collect()
            print("C# CLI (10M):", cli(["share", "big", tsv, "--dir", directory, "--last-wins"]).strip())
            os.unlink(tsv)
            open_big = time_open("big", directory)
            with shmap.open("big", directory) as big:
                big_count, big_size = len(big), big.byte_length
            print(f"open {big_count} entries ({big_size / 2**20:.0f} MiB): {open_big:.1f} µs")
        print(f"open {n} entries: {open_1m:.1f} µs")

        out.append(f"### Run of {time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}\n")
        out.append("```\n" + info + "\n```\n")
        out.append(f"{n:,} entries, keys 16-24 ASCII chars, values 24-40; median of {args.rounds} rounds.\n")
        out.append("| operation | per key, median of passes | per key, 10th percentile of 100-key batches |\n|---|---:|---:|")
        for label, (ns, p10) in rows:
            out.append(f"| {label} | {ns / 1000:.2f} µs | {p10 / 1000:.2f} µs |")
        out.append("")
        out.append("| operation | time |\n|---|---:|")
        out.append(f"| shmap.open, {n:,} entries ({size / 2**20:.1f} MiB), median of 200 | {open_1m:.0f} µs |")
        if open_big is not None:
            out.append(f"| shmap.open, {big_count:,} entries ({big_size / 2**20:.0f} MiB), median of 200 | {open_big:.0f} µs |")
        out.append(f"| Builder.set x {n:,} (Python) | {set_s:.2f} s |")
        out.append(f"| Builder.publish, {n:,} entries (Python) | {publish_s:.2f} s |")
        if csharp_publish is not None:
            out.append(f"| SharedMapBuilder publish, {n:,} entries (C#, CLI `share` \"published in\") | {csharp_publish:.2f} s |")
        out.append("")
        text = "\n".join(out)
        print(text)
        if args.markdown:
            with open(args.markdown, "a", encoding="utf-8") as f:
                f.write(text + "\n")
    finally:
        shutil.rmtree(directory, ignore_errors=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
