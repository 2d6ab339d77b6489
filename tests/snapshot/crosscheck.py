#!/usr/bin/env python3
"""Cross-check tm's Snapshot model with Python's own tracemalloc.

Generates random pairs of snapshots, feeds the same traces to tm-stats and
to tracemalloc.Snapshot, and requires identical statistics and differences,
line for line, for every key type, cumulative or not; and the same again
after filter_traces() with random Filters and DomainFilters; and
Traceback.format() of every trace with limits and orders in turn.

    crosscheck.py TM_STATS [ROUNDS] [SEED]
"""
import random
import subprocess
import sys
import tempfile
import tracemalloc

FILES = ["a.c", "b.c", "lib/util.c", "src/main.cc", "<unknown>", "z.h"]
KEYS = ["filename", "lineno", "traceback"]


def random_size(rng):
    # Every unit of _format_size, and its boundaries.
    kind = rng.randrange(6)
    if kind == 0:
        return rng.randrange(0, 200)
    if kind == 1:
        return rng.choice([10 * 1024 - 1, 10 * 1024, 100 * 1024 - 1,
                           100 * 1024, 10 * 1024 * 1024, 1 << 40])
    if kind == 2:
        return rng.randrange(1000, 200000)
    if kind == 3:
        return rng.randrange(1 << 20, 1 << 34)
    return rng.randrange(1, 5000)


def random_traceback(rng, pool):
    if pool and rng.random() < 0.6:
        return rng.choice(pool)
    depth = rng.randrange(1, 6)
    frames = tuple((rng.choice(FILES), rng.randrange(0, 12))
                   for _ in range(depth))
    pool.append(frames)
    return frames


def random_traces(rng, pool, count):
    traces = []
    for _ in range(count):
        frames = random_traceback(rng, pool)
        total = len(frames) + rng.choice([0, 0, 0, 3])
        traces.append((rng.randrange(0, 3), random_size(rng), frames, total))
    return traces


PATTERNS = ["*.c", "a.c", "lib/*", "*", "?.c", "[ab].c", "<unknown>",
            "*.h", "src/*.cc", "[!a]*"]


def random_filters(rng):
    """Filters for tracemalloc and the same as tm-stats arguments."""
    filters, args = [], []
    for _ in range(rng.randrange(1, 4)):
        inclusive = rng.random() < 0.5
        if rng.random() < 0.2:
            domain = rng.randrange(0, 3)
            filters.append(tracemalloc.DomainFilter(inclusive, domain))
            args.append("D\t%d\t%d" % (inclusive, domain))
            continue
        pattern = rng.choice(PATTERNS)
        lineno = rng.choice([None, None, rng.randrange(0, 12)])
        all_frames = rng.random() < 0.4
        domain = rng.choice([None, None, rng.randrange(0, 3)])
        filters.append(tracemalloc.Filter(inclusive, pattern, lineno,
                                          all_frames, domain))
        args.append("F\t%d\t%s\t%d\t%d\t%d" % (
            inclusive, pattern, -1 if lineno is None else lineno,
            all_frames, -1 if domain is None else domain))
    return filters, args


def write(traces, path):
    with open(path, "w") as f:
        for domain, size, frames, total in traces:
            text = ";".join("%s:%d" % frame for frame in frames)
            f.write("%d\t%d\t%d\t%s\n" % (domain, size, total, text))


def expected(old_traces, new_traces, filters=None):
    old = tracemalloc.Snapshot(old_traces, 16)
    new = tracemalloc.Snapshot(new_traces, 16)
    if filters is not None:
        new = new.filter_traces(filters)
    lines = []
    for key in KEYS:
        for cumulative in (0, 1):
            lines.append("== statistics %s %d" % (key, cumulative))
            try:
                lines += [str(s) for s in new.statistics(key, bool(cumulative))]
            except ValueError:
                lines.append("error")
            lines.append("== compare %s %d" % (key, cumulative))
            try:
                lines += [str(s) for s in
                          new.compare_to(old, key, bool(cumulative))]
            except ValueError:
                lines.append("error")
    # Traceback.format of each trace, with limits and orders in turn.
    lines.append("== format")
    for i, trace in enumerate(new.traces):
        limits = [0, 1, 2, 3, -1, -2]
        limit = limits[i % 6] if i % 7 != 6 else None
        text = "\n".join(trace.traceback.format(
            limit=limit, most_recent_first=bool(i % 2)))
        lines += text.split("\n")
    return lines


def main():
    tool = sys.argv[1]
    rounds = int(sys.argv[2]) if len(sys.argv) > 2 else 200
    seed = int(sys.argv[3]) if len(sys.argv) > 3 else 1
    rng = random.Random(seed)
    checked = 0
    with tempfile.TemporaryDirectory() as tmp:
        for r in range(rounds):
            pool = []
            old = random_traces(rng, pool, rng.randrange(0, 40))
            new = random_traces(rng, pool, rng.randrange(0, 40))
            write(old, tmp + "/old")
            write(new, tmp + "/new")
            filters, args = (random_filters(rng) if r % 2
                             else (None, []))
            got = subprocess.run([tool, tmp + "/old", tmp + "/new"] + args,
                                 capture_output=True, text=True, check=True)
            want = expected(old, new, filters)
            lines = got.stdout.splitlines()
            if lines != want:
                for i, (a, b) in enumerate(zip(lines, want)):
                    if a != b:
                        print("round %d line %d (filters %s):\n"
                              "  tm:          %s\n  tracemalloc: %s"
                              % (r, i, args, a, b))
                        break
                else:
                    print("round %d: %d lines from tm, %d from tracemalloc"
                          % (r, len(lines), len(want)))
                return 1
            checked += len(want)
    print("crosscheck: %d rounds, %d lines identical to tracemalloc"
          % (rounds, checked))
    return 0


if __name__ == "__main__":
    sys.exit(main())
