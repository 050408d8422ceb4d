"""bench.png from a report: accuracy (or, without data, throughput) against p50 latency, and the
sentence latency distributions. Needs matplotlib (the ``bench`` extra)."""
from __future__ import annotations

from typing import Any, Dict, Optional, Sequence, Tuple

from .stats import ms
from .targets import figure, ok_systems

THROUGHPUT_FIGURE = "throughput.batched.chars_per_s"


def _p50_target(report: Dict[str, Any], ok: Dict[str, Dict[str, Any]]) -> Optional[Tuple[float, str]]:
    """Where the targets file puts edge's p50 sentence latency, as a line at the peer's p50 x ratio."""
    for target in (report.get("targets_file") or {}).get("targets", []):
        if target.get("figure") == "latency_ms.sentence.p50" and "at_most" in target and target.get("peer") in ok:
            peer_p50 = figure(ok[target["peer"]], "latency_ms.sentence.p50")
            if peer_p50:
                return peer_p50 * target["at_most"], f"p50 <= {target['at_most']:g}x {target['peer']}'s"
    return None


def render_png(report: Dict[str, Any], path: str) -> None:
    """Two panels: accuracy vs p50 sentence latency, and the sentence latency distributions."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ok = ok_systems(report)
    primary = report["data"][0]["name"] if report.get("data") else None
    names = [n for n in ok if figure(ok[n], "latency_ms.sentence.p50") is not None]
    colors = {n: plt.get_cmap("tab10")(i % 10) for i, n in enumerate(names)}
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 5.2), gridspec_kw={"width_ratios": [1, 1.15]})

    line = _p50_target(report, ok)
    if line is not None:
        x, text = line
        left.axvline(x, color="grey", linestyle="--", linewidth=1)
        left.text(x, 0.01, f" target: {text}", va="bottom", ha="left", transform=left.get_xaxis_transform(),
                  fontsize=8, color="grey")
    points = []
    for name in names:
        system = ok[name]
        x = figure(system, "latency_ms.sentence.p50")
        y = figure(system, f"accuracy.{primary}.accuracy") if primary else figure(system, THROUGHPUT_FIGURE)
        if y is not None:
            y = 100 * y if primary else y
            points.append((name, x, y))
            left.scatter([x], [y], s=70, color=colors[name], zorder=3, edgecolor="black", linewidth=0.5,
                         label=system.get("label", name))
    left.set_xscale("log")
    # plain numbers: a narrow log axis otherwise labels its minor ticks "3x10^-1" on top of each other
    from matplotlib.ticker import LogLocator, NullFormatter, StrMethodFormatter
    xs = [x for _, x, _ in points] or [1.0]
    wide = max(xs) / max(min(xs), 1e-9) > 100  # over two decades: 1-2-5 ticks would collide
    left.xaxis.set_major_locator(LogLocator(base=10, subs=(1.0,) if wide else (1.0, 2.0, 5.0)))
    left.xaxis.set_major_formatter(StrMethodFormatter("{x:g}"))
    left.xaxis.set_minor_formatter(NullFormatter())
    left.set_xlabel("p50 latency per sentence, batch 1 (ms, log scale)")
    if primary:
        sample = " (sample)" if any((ok[n].get("accuracy", {}).get(primary) or {}).get("sampled")
                                    for n in names) else ""
        left.set_ylabel(f"accuracy on {primary}{sample} (%)")
        left.set_title("accuracy vs latency (up and left is better)", fontsize=10)
    else:
        left.set_yscale("log")
        left.set_ylabel("batched throughput (chars/s, log scale)")
        left.set_title("throughput vs latency (up and left is better; no --data: no accuracy)", fontsize=10)
    left.grid(True, which="both", alpha=0.3)
    left.margins(x=0.4, y=0.18)

    stats = []
    for name in names:
        lat = ok[name]["latency_ms"]["sentence"]
        stats.append({"label": ok[name].get("label", name), "med": lat["p50"], "q1": lat["p25"],
                      "q3": lat["p75"], "whislo": lat["p5"], "whishi": lat["p95"], "fliers": []})
    if stats:
        options = dict(showfliers=False, patch_artist=True, widths=0.55, medianprops={"color": "black"})
        if _bxp_takes_orientation():
            options["orientation"] = "horizontal"
        else:
            options["vert"] = False
        boxes = right.bxp(stats, **options)
        for patch, name in zip(boxes["boxes"], names):
            patch.set_facecolor(colors[name])
            patch.set_alpha(0.6)
        for i, name in enumerate(names, 1):
            lat = ok[name]["latency_ms"]["sentence"]
            right.scatter([lat["p99"]], [i], marker="x", color="black", zorder=3,
                          label="p99" if i == 1 else None)
            right.annotate(f"p50 {ms(lat['p50'])} · p95 {ms(lat['p95'])} · p99 {ms(lat['p99'])}",
                           (lat["p99"], i), textcoords="offset points", xytext=(8, -3), fontsize=8)
        right.set_xscale("log")
        right.margins(x=0.45)
        right.invert_yaxis()  # first system on top, as in the table
        right.legend(loc="upper right", fontsize=8)
    right.set_xlabel("latency per sentence, batch 1 (ms, log scale)")
    info = report["inputs"]["sentence"]
    right.set_title(f"latency on {primary or 'speed-text'} sentences (n={info['count']}, "
                    f"mean {info['chars_mean']:.0f} chars)\n"
                    "box p25-p75, line p50, whiskers p5-p95, x p99", fontsize=10)
    right.grid(True, axis="x", which="both", alpha=0.3)

    machine = report["machine"]
    fig.suptitle(f"pinyin-edge bench{' --quick' if report['settings'].get('quick') else ''} · "
                 f"{machine.get('cpu_model') or 'CPU'} · {report['settings']['threads']} thread(s) · "
                 f"{report['created'][:10]}", fontsize=11)
    fig.tight_layout()
    fig.canvas.draw()  # final limits and layout first, so that label boxes are where they will be drawn
    unit = "%" if primary else " chars/s"
    _place_labels(fig, left, [(f"{ok[n].get('label', n)}\n{y:,.2f}{unit}, {ms(x)} ms" if primary else
                               f"{ok[n].get('label', n)}\n{y:,.0f}{unit}, {ms(x)} ms", x, y) for n, x, y in points])
    fig.savefig(path, dpi=120)
    plt.close(fig)


def _place_labels(fig, ax, labels: Sequence[Tuple[str, float, float]]) -> None:
    """Annotate points, trying a few offsets per label so that no two labels overlap."""
    renderer = fig.canvas.get_renderer()
    placed = []
    offsets = [((8, 4), "left", "bottom"), ((8, -6), "left", "top"), ((-8, 4), "right", "bottom"),
               ((-8, -6), "right", "top"), ((8, 18), "left", "bottom"), ((8, -20), "left", "top")]
    for text, x, y in labels:
        annotation = None
        for offset, ha, va in offsets:
            if annotation is not None:
                annotation.remove()
            annotation = ax.annotate(text, (x, y), textcoords="offset points", xytext=offset, ha=ha, va=va,
                                     fontsize=8.5)
            box = annotation.get_window_extent(renderer)
            if not any(box.overlaps(other) for other in placed):
                break
        placed.append(annotation.get_window_extent(renderer))


def _bxp_takes_orientation() -> bool:
    import inspect

    import matplotlib.axes

    try:
        return "orientation" in inspect.signature(matplotlib.axes.Axes.bxp).parameters
    except (TypeError, ValueError):
        return False


