"""Draws each dashboard's panels from data a real Prometheus returned (written by hack/dashboard-pictures.ts).

Usage: python dashboards.py IN.json OUT.png

The panels sit where the dashboard's grid puts them (24 columns), rows become headings, time series are lines
(reference lines dashed red), stat panels show their last values. A panel with no data says so, and why.
"""
import json
import sys
from datetime import datetime, timezone

import matplotlib

matplotlib.use("Agg")
import matplotlib.dates as mdates  # noqa: E402
import matplotlib.pyplot as plt  # noqa: E402

ROW_HEIGHT = 0.42  # inches per grid unit
WIDTH = 24.0


def scale(unit, values):
    """Values in the unit a reader expects, and the axis label."""
    if unit == "percentunit":
        return [v * 100 for v in values], "%"
    if unit == "s":
        return [v * 1000 for v in values], "ms"
    if unit in ("bytes", "decbytes"):
        return [v / 2**20 for v in values], "MiB"
    return values, {"reqps": "req/s", "ops": "ops/s", "cps": "/s", "wps": "writes/s", "short": "", "none": ""}.get(unit, unit)


def draw(data, out):
    panels = data["panels"]
    bottom = max(p["gridPos"]["y"] + p["gridPos"]["h"] for p in panels)
    fig = plt.figure(figsize=(WIDTH, bottom * ROW_HEIGHT + 1.2), dpi=60)
    fig.suptitle(f'{data["title"]}  ({data["subtitle"]})', fontsize=18, x=0.01, ha="left")
    top = 1 - 1.0 / (bottom * ROW_HEIGHT + 1.2)
    unit_h = top / bottom

    def box(g, pad=0.25):
        x0 = g["x"] / 24 + 0.004
        w = g["w"] / 24 - 0.008
        h = g["h"] * unit_h
        y0 = top - (g["y"] + g["h"]) * unit_h
        return [x0 + 0.02 * w, y0 + pad * unit_h, w * 0.96, h - (pad + 0.9) * unit_h]

    for p in panels:
        g = p["gridPos"]
        if p["type"] == "row":
            fig.text(g["x"] / 24 + 0.004, top - (g["y"] + 0.6) * unit_h, p["title"], fontsize=15, weight="bold")
            continue
        ax = fig.add_axes(box(g))
        ax.set_title(p["title"], fontsize=11, loc="left")
        series = [s for s in p["series"] if s["v"]]
        if not series:
            ax.set_axis_off()
            ax.text(0.5, 0.5, f'no data\n{p.get("why", "")}', ha="center", va="center", fontsize=9, color="grey", wrap=True, transform=ax.transAxes)
            continue
        if p["type"] == "stat":
            ax.set_axis_off()
            lines = []
            for s in series[:4]:
                values, label = scale(p["unit"], [s["v"][-1]])
                lines.append(f'{s["legend"]}: {values[0]:.4g} {label}'.strip())
            ax.text(0.5, 0.45, "\n".join(lines), ha="center", va="center", fontsize=14 if len(lines) == 1 else 10, transform=ax.transAxes)
            continue
        label = ""
        for s in series[:12]:
            values, label = scale(p["unit"], s["v"])
            times = [datetime.fromtimestamp(t, tz=timezone.utc) for t in s["t"]]
            if s["reference"]:
                ax.plot(times, values, linestyle="--", color="red", linewidth=1, label=s["legend"])
            else:
                ax.plot(times, values, linewidth=1.2, label=s["legend"])
        ax.set_ylabel(label, fontsize=8)
        ax.tick_params(labelsize=7)
        ax.xaxis.set_major_formatter(mdates.DateFormatter("%H:%M"))
        ax.grid(alpha=0.3)
        ax.legend(fontsize=6, loc="upper left", ncol=2, framealpha=0.6)
    fig.savefig(out)


if __name__ == "__main__":
    with open(sys.argv[1], encoding="utf-8") as f:
        draw(json.load(f), sys.argv[2])
