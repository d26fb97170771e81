#!/usr/bin/env python3
"""Plot nanoseconds per lookup against map size for every peer, from interleaved tables.

Reads bench/results/sizes/interleaved-WORKLOAD-N.md (written by
`dotnet run -c Release --project bench/Shmap.Benchmarks -- interleaved N ROUNDS WORKLOAD`
in that directory) and writes docs/lookup-sizes.svg: one panel per workload, log-scaled size
axis, one line per loop. Standard library only.

    python3 bench/plot_lookups.py [results-dir] [output.svg]
"""
import html
import math
import os
import re
import sys

HERE = os.path.dirname(os.path.abspath(__file__))
RESULTS = sys.argv[1] if len(sys.argv) > 1 else os.path.join(HERE, "results", "sizes")
OUTPUT = sys.argv[2] if len(sys.argv) > 2 else os.path.join(HERE, "..", "docs", "lookup-sizes.svg")

# The loops plotted (hot hits), and their colours.
PEERS = [
    ("Dictionary.TryGetValue", "Dictionary<string,string>", "#444444"),
    ("FrozenDictionary.TryGetValue", "FrozenDictionary", "#8c564b"),
    ("LightningDB Get(utf8)", "LightningDB (UTF-8 key)", "#9467bd"),
    ("SharedMap.Get(string)", "SharedMap.Get(string)", "#d62728"),
    ("cold: SharedMap.Get(string)", "SharedMap.Get(string), cold keys", "#ff9896"),
    ("cold: Dictionary.TryGetValue", "Dictionary, cold keys", "#aaaaaa"),
    ("LiveSharedMap.Get(string)", "LiveSharedMap.Get(string)", "#ff7f0e"),
    ("SharedMap.TryGetValue(utf8)", "SharedMap.TryGetValue(UTF-8)", "#1f77b4"),
    ("SharedMap.GetMany(string), 256", "SharedMap.GetMany(string), 256", "#2ca02c"),
]


def read_tables(directory):
    """{workload: {size: {loop: ns}}} from the interleaved-*.md files."""
    data = {}
    for name in sorted(os.listdir(directory)):
        match = re.fullmatch(r"interleaved-(\w+)-(\d+)\.md", name)
        if not match:
            continue
        workload, size = match.group(1), int(match.group(2))
        with open(os.path.join(directory, name), encoding="utf-8") as f:
            for line in f:
                cells = [c.strip() for c in line.strip().strip("|").split("|")]
                if len(cells) >= 2 and re.fullmatch(r"[\d.]+", cells[1]):
                    data.setdefault(workload, {}).setdefault(size, {})[cells[0]] = float(cells[1])
    return data


def panel(out, data, title, x0, y0, width, height):
    sizes = sorted(data)
    values = [v for size in sizes for loop, v in data[size].items() if any(loop == p[0] for p in PEERS)]
    top = max(values) * 1.1
    lo, hi = math.log10(sizes[0]), math.log10(sizes[-1])

    def px(size):
        return x0 + (math.log10(size) - lo) / (hi - lo or 1) * width

    def py(ns):
        return y0 + height - ns / top * height

    out.append(f'<text x="{x0 + width / 2}" y="{y0 - 12}" text-anchor="middle" font-weight="bold">{html.escape(title)}</text>')
    out.append(f'<rect x="{x0}" y="{y0}" width="{width}" height="{height}" fill="none" stroke="#999"/>')
    step = 10 ** math.floor(math.log10(top / 4))
    step = step * (5 if top / step > 20 else 2 if top / step > 8 else 1)
    tick = 0.0
    while tick <= top:
        y = py(tick)
        out.append(f'<line x1="{x0}" y1="{y:.1f}" x2="{x0 + width}" y2="{y:.1f}" stroke="#eee"/>')
        out.append(f'<text x="{x0 - 6}" y="{y + 4:.1f}" text-anchor="end" font-size="11">{tick:g}</text>')
        tick += step
    for size in sizes:
        out.append(f'<text x="{px(size):.1f}" y="{y0 + height + 16}" text-anchor="middle" font-size="11">{size:,}</text>')
    out.append(f'<text x="{x0 + width / 2}" y="{y0 + height + 34}" text-anchor="middle" font-size="12">entries (log scale)</text>')
    out.append(f'<text transform="translate({x0 - 44},{y0 + height / 2}) rotate(-90)" text-anchor="middle" font-size="12">ns per lookup (median)</text>')
    for loop, _, colour in PEERS:
        points = [(px(s), py(data[s][loop])) for s in sizes if loop in data[s]]
        if len(points) < 1:
            continue
        path = " ".join(f"{x:.1f},{y:.1f}" for x, y in points)
        dash = ' stroke-dasharray="5,3"' if loop.startswith("cold") else ""
        out.append(f'<polyline points="{path}" fill="none" stroke="{colour}" stroke-width="2"{dash}/>')
        for x, y in points:
            out.append(f'<circle cx="{x:.1f}" cy="{y:.1f}" r="3" fill="{colour}"/>')


def main():
    data = read_tables(RESULTS)
    if not data:
        sys.exit(f"no interleaved-WORKLOAD-N.md tables in {RESULTS}")
    workloads = [w for w in ("profiles", "ascii") if w in data] + [w for w in data if w not in ("profiles", "ascii")]
    width, height, margin = 360, 260, 70
    total_width = margin + len(workloads) * (width + margin) + 10
    legend_top = 60 + height + 60
    out = [f'<svg xmlns="http://www.w3.org/2000/svg" width="{total_width}" height="{legend_top + 20 * ((len(PEERS) + 1) // 2) + 20}" font-family="sans-serif" font-size="12">',
           '<rect width="100%" height="100%" fill="white"/>']
    titles = {"profiles": "profiles (JSON values, 56% with non-ASCII)", "ascii": "random ASCII keys and values"}
    for i, workload in enumerate(workloads):
        panel(out, data[workload], titles.get(workload, workload), margin + i * (width + margin), 50, width, height)
    for i, (_, label, colour) in enumerate(PEERS):
        x = margin + (i % 2) * 380
        y = legend_top + 20 * (i // 2)
        out.append(f'<line x1="{x}" y1="{y - 4}" x2="{x + 24}" y2="{y - 4}" stroke="{colour}" stroke-width="3"/>')
        out.append(f'<text x="{x + 30}" y="{y}">{html.escape(label)}</text>')
    out.append("</svg>")
    os.makedirs(os.path.dirname(os.path.abspath(OUTPUT)), exist_ok=True)
    with open(OUTPUT, "w", encoding="utf-8") as f:
        f.write("\n".join(out) + "\n")
    print(f"wrote {OUTPUT} ({', '.join(f'{w}: {sorted(data[w])}' for w in workloads)})")


if __name__ == "__main__":
    main()
