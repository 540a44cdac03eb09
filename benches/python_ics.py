#!/usr/bin/env python3
"""Parse the import benchmark's .ics with Python's `icalendar` package, for comparison.

It does the work confbot's iCalendar importer does: parse the calendar (unfolding, escapes,
the VTIMEZONE), walk every VEVENT, read DTSTART/DTEND as time-zone-aware datetimes converted
to UTC, and read SUMMARY, DESCRIPTION, LOCATION, UID and URL as text.

Usage: python_ics.py FILE [--runs N] [--expect TALKS] [--out MEDIAN_FILE]
Prints min / median seconds; with --out, writes the median (seconds) to that file.
"""

import argparse
import statistics
import sys
import time
from datetime import datetime, timezone

import icalendar


def parse(data: bytes) -> tuple[int, datetime | None]:
    calendar = icalendar.Calendar.from_ical(data)
    count = 0
    first_start = None
    for event in calendar.walk("VEVENT"):
        start = event["DTSTART"].dt
        end = event["DTEND"].dt
        if start.tzinfo is None or end.tzinfo is None:
            raise SystemExit(f"event {count + 1}: DTSTART/DTEND did not resolve to a time zone")
        start = start.astimezone(timezone.utc)
        end = end.astimezone(timezone.utc)
        for name in ("SUMMARY", "DESCRIPTION", "LOCATION", "UID", "URL"):
            str(event.get(name, ""))
        if first_start is None:
            first_start = start
        count += 1
    return count, first_start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("file")
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--expect", type=int, help="the number of VEVENTs the file must hold")
    parser.add_argument("--out", help="write the median seconds to this file")
    args = parser.parse_args()

    with open(args.file, "rb") as f:
        data = f.read()
    times = []
    count, first = 0, None
    for _ in range(max(1, args.runs)):
        started = time.perf_counter()
        count, first = parse(data)
        times.append(time.perf_counter() - started)
    if args.expect is not None and count != args.expect:
        print(f"parsed {count} events, expected {args.expect}", file=sys.stderr)
        return 1

    median = statistics.median_low(times)
    print(
        f"python icalendar {icalendar.__version__} (Python {sys.version.split()[0]}): "
        f"{count} events, first starts {first.isoformat() if first else '-'}; "
        f"min {min(times):.3f} s, median {median:.3f} s over {len(times)} runs"
    )
    if args.out:
        with open(args.out, "w") as f:
            f.write(f"{median:.6f}\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
