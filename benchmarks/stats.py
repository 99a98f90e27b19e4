"""Summary statistics and their formatting (pure)."""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass


@dataclass(frozen=True)
class Summary:
    n: int
    median: float
    low: float
    high: float

    def to_json(self) -> dict:
        return {"n": self.n, "median": self.median, "min": self.low, "max": self.high}


def summarise(samples: Sequence[float]) -> Summary | None:
    """Median, min and max of the samples; None when there are none."""
    values = [float(v) for v in samples]
    if not values:
        return None
    return Summary(len(values), statistics.median(values), min(values), max(values))


def ratio(numerator: Summary | None, denominator: Summary | None) -> float | None:
    """numerator.median / denominator.median, None when either is missing or zero."""
    if numerator is None or denominator is None or denominator.median <= 0:
        return None
    return numerator.median / denominator.median


def fmt_seconds(value: float | None) -> str:
    if value is None:
        return "–"
    if value < 10:
        return f"{value:.3f}"
    return f"{value:.1f}"


def fmt_summary(summary: Summary | None, unit: str = "s") -> str:
    """`0.412 s (0.398–0.455)`; a single sample has no range."""
    if summary is None:
        return "–"
    text = f"{fmt_seconds(summary.median)} {unit}".rstrip()
    if summary.n > 1:
        text += f" ({fmt_seconds(summary.low)}–{fmt_seconds(summary.high)})"
    return text


def fmt_ratio(value: float | None) -> str:
    if value is None:
        return "–"
    return f"{value:.2f}×"


def fmt_bytes(value: float | None) -> str:
    if value is None:
        return "–"
    mib = value / (1024 * 1024)
    return f"{mib:.1f} MiB"
