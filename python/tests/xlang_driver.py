"""Driver of the C# cross-language tests (tests/Shmap.Tests/CrossLanguage): one command per run.

    python3 xlang_driver.py COMMAND ARGS...   (entries as a JSON object on stdin where needed)

Commands print one result line on stdout (JSON or words); errors go to stderr with exit code 1.
Not a unittest module (no test_ prefix): unittest discovery skips it.
"""

from __future__ import annotations

import json
import os
import sys
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))

import shmap  # noqa: E402


def entries_from_stdin() -> dict:
    return json.loads(sys.stdin.buffer.read().decode("utf-8"))


def out(obj) -> None:
    sys.stdout.write((obj if isinstance(obj, str) else json.dumps(obj)) + "\n")
    sys.stdout.flush()


def check(m, expected: dict) -> str:
    """Every key maps to its value, scans equal the sorted model, misses are absent, verify passes."""
    for k, v in expected.items():
        got = m.get(k)
        if got != v:
            raise AssertionError(f"key {k!r}: {got!r} != {v!r}")
        if bytes(m.get_bytes(k.encode())) != v.encode():
            raise AssertionError(f"get_bytes {k!r}")
    items = sorted(expected.items(), key=lambda kv: kv[0].encode())
    if list(m.items()) != items:
        raise AssertionError("ordered scan differs from the model")
    for i in range(0, len(items), max(1, len(items) // 50)):
        if m.at(i) != items[i] or m.index(items[i][0]) != i:
            raise AssertionError(f"rank {i}")
    for k in ("\u0001missing", "nope-" * 5, "zz" * 20):
        if k not in expected and k in m:
            raise AssertionError(f"miss {k!r} found")
    if items:
        p = items[len(items) // 2][0][:3]
        if list(m.prefix(p)) != [kv for kv in items if kv[0].encode().startswith(p.encode())]:
            raise AssertionError("prefix scan")
    m.verify()
    return f"ok {len(m)} {m.version}"


def main(argv) -> int:
    cmd = argv[1]
    if cmd == "check":  # check NAME DIR  (expected entries on stdin)
        with shmap.open(argv[2], argv[3]) as m:
            out(check(m, entries_from_stdin()))
    elif cmd == "publish":  # publish NAME DIR DUMPFILE  (entries on stdin)
        b = shmap.Builder(entries_from_stdin())
        version = b.publish(argv[2], argv[3])
        b.write_to(argv[4])
        out(str(version))
    elif cmd == "follow":  # follow NAME DIR VERSION TIMEOUT KEY: print 'ready', wait, print 'VERSION VALUE'
        with shmap.follow(argv[2], argv[3]) as f:
            out(f"ready {f.version}")
            target = int(argv[4])
            deadline = time.monotonic() + float(argv[5])
            while f.version < target:
                if f.wait_for_new_version(max(0.0, deadline - time.monotonic())) is None:
                    out(f"timeout {f.version}")
                    return 1
            out(json.dumps([f.version, f.get(argv[6])]))
    elif cmd == "race":  # race NAME DIR COUNT: publish COUNT versions, print them as JSON
        versions = []
        for i in range(int(argv[4])):
            b = shmap.Builder({"writer": "python", "i": str(i), "check": f"python:{i}"})
            versions.append(b.publish(argv[2], argv[3]))
        out(versions)
    elif cmd == "seeded":  # seeded FILE SEED (entries on stdin): a snapshot laid out with another hash seed
        from shmap._builder import _Plan
        d = entries_from_stdin()
        keys = sorted(k.encode() for k in d)
        plan = _Plan(keys, [d[k.decode()].encode() for k in keys], int(argv[3]))
        with open(argv[2], "wb") as f:
            f.write(plan.header_bytes() + plan.body)
        out("ok")
    elif cmd == "names":  # names: the BMP code points c (surrogates aside) for which "a" + c + "b" is refused
        refused = []
        for c in range(0x10000):
            if 0xD800 <= c <= 0xDFFF:
                continue
            try:
                shmap.validate_name("a" + chr(c) + "b")
            except ValueError:
                refused.append(c)
        out(refused)
    elif cmd == "outcomes":  # outcomes FILE...: for each file, 'ok' or the error's field
        results = []
        for path in argv[2:]:
            try:
                with shmap.open_file(path) as m:
                    m.verify()
                    list(m.items())
                results.append("ok")
            except shmap.VersionError:
                results.append("version")
            except shmap.FormatError as e:
                results.append(e.field)
        out(results)
    else:
        print(f"unknown command {cmd}", file=sys.stderr)
        return 2
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
