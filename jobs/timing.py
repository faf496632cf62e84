"""How a task snapshot's timing fields are said to people: "about 2 min left · 14 items/s", "3rd in line".

The pages say the same in static/js/tasks.js (timingText); keep the two in step.
"""

from .models import Status


def ordinal(number: int) -> str:
    """Return 1st, 2nd, 3rd, 4th, …, 11th, 12th, 13th, 21st for number."""
    suffix = "th" if 10 <= number % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(number % 10, "th")
    return f"{number}{suffix}"


def duration_words(seconds: float) -> str:
    """Return a rough duration as people say it: "a few seconds", "40 s", "about 2 min", "about 1 h 5 min"."""
    seconds = round(seconds)
    if seconds < 5:
        return "a few seconds"
    if seconds < 60:
        return f"{seconds} s"
    minutes = round(seconds / 60)
    if minutes < 60:
        return f"about {minutes} min"
    hours, minutes = divmod(minutes, 60)
    return f"about {hours} h {minutes} min" if minutes else f"about {hours} h"


def rate_words(items_per_second: float) -> str:
    """Return a rate as "14 items/s", "2.5 items/s" or "0.3 items/s"."""
    shown = f"{items_per_second:.0f}" if items_per_second >= 10 else f"{items_per_second:.1f}"
    return f"{shown} items/s"


def timing_words(snapshot: dict) -> str:
    """Return what the snapshot says about time: "about 2 min left · 14 items/s", "3rd in line", or ""."""
    if snapshot.get("queue_position"):
        return f"{ordinal(snapshot['queue_position'])} in line"
    if snapshot.get("status") != Status.RUNNING:
        return ""
    parts = []
    if snapshot.get("eta_seconds") is not None:
        parts.append(f"{duration_words(snapshot['eta_seconds'])} left")
    if snapshot.get("items_per_second"):
        parts.append(rate_words(snapshot["items_per_second"]))
    return " · ".join(parts)
