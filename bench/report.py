#!/usr/bin/env python3
"""Formats bench/run.sh's raw figures as a table.

Input rows: backend, users, key, value (tab-separated). A key may end in `#N`, the round
it was measured in; per-round figures are summarised as median (min-max), and ratios
are taken round by round (each figure against the baseline of its own round) before
the median.

Usage: python3 bench/report.py results.tsv
"""

import statistics
import sys
from collections import defaultdict


def load(path):
    meta, per = {}, defaultdict(lambda: defaultdict(dict))
    with open(path, encoding="utf-8") as f:
        for line in f:
            parts = line.rstrip("\n").split("\t")
            if len(parts) != 4:
                continue
            backend, users, key, value = parts
            if backend == "-":
                meta[key] = value
                continue
            name, _, rnd = key.partition("#")
            per[(backend, int(users))][name][rnd] = value
    return meta, per


def fnum(x):
    try:
        return float(x)
    except (TypeError, ValueError):
        return None


def vals(d, key):
    return [v for v in (fnum(x) for _, x in sorted(d.get(key, {}).items())) if v is not None]


def med(d, key):
    v = vals(d, key)
    return statistics.median(v) if v else None


def one(d, key):
    v = d.get(key, {})
    return next(iter(v.values()), None) if v else None


def paired(da, ka, db, kb):
    """Per-round a/b for the rounds both have: (median, min, max) or None."""
    a, b = da.get(ka, {}), db.get(kb, {})
    r = [fnum(a[k]) / fnum(b[k]) for k in a if k in b and fnum(a[k]) and fnum(b[k])]
    return (statistics.median(r), min(r), max(r)) if r else None


def fmt_rate(x):
    if x is None:
        return "n/a"
    return f"{x:,.0f}" if x >= 100 else f"{x:,.1f}"


def fmt_pct(x):
    return "n/a" if x is None else f"{x:.0f}%"


def fmt_spread(d, key):
    v = vals(d, key)
    if not v:
        return "n/a"
    if len(v) == 1:
        return fmt_rate(v[0])
    return f"{fmt_rate(statistics.median(v))} ({fmt_rate(min(v))}-{fmt_rate(max(v))})"


def fmt_ratio(p):
    if p is None:
        return "n/a"
    m, lo, hi = p
    return f"{m:.3f}" if lo == hi else f"{m:.3f} ({lo:.3f}-{hi:.3f})"


def mib(x):
    return "n/a" if x is None else f"{x / 1024:.1f}"


def main():
    meta, per = load(sys.argv[1])
    small, large = (int(x) for x in meta.get("meta_sizes", "0 0").split())
    backends = []
    for backend, _ in per:
        if backend not in backends:
            backends.append(backend)
    out = []
    w = out.append
    w(f"latchkey benchmark  {meta.get('meta_date', '')}  git {meta.get('meta_git', '?')}  "
      f"QUICK={meta.get('meta_quick', '0')}  run took {meta.get('meta_seconds', '?')} s "
      f"(of which {meta.get('meta_quiet_waited', '?')} s waiting for a quiet machine)")
    w(f"machine: {meta.get('meta_cores', '?')} cores ({meta.get('meta_cpu', '?')}); load: {meta.get('meta_wrk', '?')}; "
      f"wrk runs on the same box as the server; users {small:,} and {large:,}")
    w("Figures over rounds are median (min-max); ratios are taken within each round, then the median.")
    w("'other' = median share of the machine's CPU used by processes other than the server, its")
    w("PostgreSQL backends and wrk while measuring: the box is shared, and a high value means noise.")
    w("")
    w("In-process, no HTTP (token checks per second):")
    w(f"  latchkey_http KeyRing::verify, the same token again (as the server sees it):  "
      f"1 thread {fmt_rate(fnum(meta.get('keyring_verify_per_s_1t')))}/s ({meta.get('keyring_verify_us', '?')} µs), "
      f"{meta.get('threads', '?')} threads {fmt_rate(fnum(meta.get('keyring_verify_per_s_nt')))}/s")
    w(f"  RS256 signature + claims check uncached (jsonwebtoken as built, 2048-bit):      "
      f"1 thread {fmt_rate(fnum(meta.get('rs256_per_s_1t')))}/s ({meta.get('rs256_us', '?')} µs), "
      f"{meta.get('threads', '?')} threads {fmt_rate(fnum(meta.get('rs256_per_s_nt')))}/s; "
      f"{meta.get('rs256_cpu_us', '?')} µs CPU each")
    w(f"  the same token parsed (base64 + JSON) without any signature check:            "
      f"1 thread {fmt_rate(fnum(meta.get('decode_nosig_per_s_1t')))}/s")
    w("")

    w("Requests/s against a baseline measured in the same round")
    hdr = (f"  {'request':<44} {'backend':<9} {'users':>9}  {'req/s':<22} {'baseline':<32} "
           f"{'ratio':<22} {'goal':<6} {'other':>5}")
    w(hdr)
    w("  " + "-" * (len(hdr) - 2))
    for be in backends:
        for n in (small, large):
            d = per.get((be, n), {})
            flag = ""
            if sum(vals(d, "get_non2xx")) > 0 or sum(vals(d, "get_sockerr")) > 0:
                flag = f"  !! {sum(vals(d, 'get_non2xx')):.0f} non-2xx, {sum(vals(d, 'get_sockerr')):.0f} socket errors"
            w(f"  {'GET /v1.0/users/{id}/authentication/methods':<44} {be:<9} {n:>9,}  {fmt_spread(d, 'get_rps'):<22} "
              f"{'hello ' + fmt_spread(d, 'hello_rps'):<32} {fmt_ratio(paired(d, 'get_rps', d, 'hello_rps')):<22} "
              f"{'>= 0.5':<6} {fmt_pct(med(d, 'get_foreign')):>4}{flag}")
        for n in (small, large):
            d = per.get((be, n), {})
            flag = ""
            if sum(vals(d, "post_non2xx")) > 0 or sum(vals(d, "post_sockerr")) > 0:
                flag = f"  !! {sum(vals(d, 'post_non2xx')):.0f} non-2xx, {sum(vals(d, 'post_sockerr')):.0f} socket errors"
            w(f"  {'POST .../temporaryAccessPassMethods':<44} {be:<9} {n:>9,}  {fmt_spread(d, 'post_rps'):<22} "
              f"{'argon2 ' + fmt_spread(d, 'argon2_rps'):<32} {fmt_ratio(paired(d, 'post_rps', d, 'argon2_rps')):<22} "
              f"{'':<6} {fmt_pct(med(d, 'post_foreign')):>4}{flag}")
    w("  (argon2 = raw Argon2id hashes/s, m=19456 KiB t=2 p=1, one per core, measured just before the")
    w("   POST round: every pass creation costs one such hash, so it is the ceiling)")
    w("")

    w("CPU per request of the server process (with its PostgreSQL backends), median of the rounds;")
    w("other load on the machine hardly changes it, so this is the steadier view of the same ratios")
    w(f"  {'request':<44} {'backend':<9} {'users':>9} {'server µs':>10} {'baseline µs':>16} {'ratio':>7} {'wrk µs':>7}")
    for be in backends:
        for n in (small, large):
            d = per.get((be, n), {})
            c, hc = med(d, "get_cpu"), med(d, "hello_cpu")
            r = paired(d, "hello_cpu", d, "get_cpu")
            w(f"  {'GET /v1.0/users/{id}/authentication/methods':<44} {be:<9} {n:>9,} {fmt_rate(c):>10} "
              f"{'hello ' + fmt_rate(hc):>16} {(f'{r[0]:.3f}' if r else 'n/a'):>7} {fmt_rate(med(d, 'get_wrkcpu')):>7}")
        for n in (small, large):
            d = per.get((be, n), {})
            c, ac = med(d, "post_cpu"), med(d, "argon2_cpu")
            r = paired(d, "argon2_cpu", d, "post_cpu")
            w(f"  {'POST .../temporaryAccessPassMethods':<44} {be:<9} {n:>9,} {fmt_rate(c):>10} "
              f"{'argon2 ' + fmt_rate(ac):>16} {(f'{r[0]:.3f}' if r else 'n/a'):>7} {fmt_rate(med(d, 'post_wrkcpu')):>7}")
    w("  (ratio = baseline CPU / latchkey CPU per request; argon2 = CPU time of one raw hash)")
    w("")

    w(f"Where a GET's time goes ({small:,} users; same URL shape, less of the work each time)")
    for be in backends:
        d = per.get((be, small), {})
        h = med(d, "hello_rps")
        rows = [
            ("hello world (baseline, median of the rounds)", "hello"),
            ("401, no Authorization header", "noauth"),
            ("401, bad signature (RS256 check every time, no DB)", "badsig"),
            ("400, GET /v1.0/me app token (token check + app lookup)", "authonly"),
            ("200, GET .../authentication/methods (all of it)", "get"),
        ]
        w(f"  {be}:")
        for label, key in rows:
            x = med(d, key + "_rps")
            per_req = f"{1e6 / x:8.1f} µs/req" if x else ""
            ratio = f"{x / h:.3f}" if x and h else "n/a"
            w(f"    {label:<55} {fmt_rate(x):>9} req/s  {ratio:>6}  {per_req}   server CPU {fmt_rate(med(d, key + '_cpu')):>6} µs/req"
              f"   other {fmt_pct(med(d, key + '_foreign'))}")
    w("")

    w(f"Scaling {small:,} -> {large:,} users: time per request at {large:,} / at {small:,} "
      f"(= req/s small / req/s large, paired by round; goal <= 1.2)")
    w(f"  {'backend':<9} {'GET methods':<24} {'POST pass':<24}")
    for be in backends:
        s, l = per.get((be, small), {}), per.get((be, large), {})
        w(f"  {be:<9} {fmt_ratio(paired(s, 'get_rps', l, 'get_rps')):<24} {fmt_ratio(paired(s, 'post_rps', l, 'post_rps')):<24}")
    w("")

    w("Resident memory of `latchkey serve`, MiB (VmRSS sampled every 0.25 s under load; VmHWM at the end)")
    w(f"  {'backend':<9} {'users':>9} {'idle':>7} {'GET load':>9} {'POST load':>10} {'after':>7} {'VmHWM':>7}")
    for be in backends:
        for n in (small, large):
            d = per.get((be, n), {})
            g = vals(d, "get_rss")
            p = vals(d, "post_rss")
            w(f"  {be:<9} {n:>9,} {mib(fnum(one(d, 'rss_idle'))):>7} {mib(max(g) if g else None):>9} "
              f"{mib(max(p) if p else None):>10} {mib(fnum(one(d, 'rss_after'))):>7} {mib(fnum(one(d, 'rss_hwm'))):>7}")
    hr = [x for be in backends for x in vals(per.get((be, small), {}), "hello_rss")]
    if hr:
        w(f"  (hello world under load: {max(hr) / 1024:.1f} MiB)")
    w("")

    w("Seeding (seed-users: direct bulk INSERTs)")
    for be in backends:
        for n in (small, large):
            d = per.get((be, n), {})
            extra = ""
            db = fnum(one(d, "db_bytes"))
            if db:
                extra = f", database {db / 2**20:,.0f} MiB"
            w(f"  {be:<9} up to {n:>9,} users: {one(d, 'seed_seconds') or '?'} s "
              f"({fmt_rate(fnum(one(d, 'seed_rate')))} users/s); {one(d, 'total_users') or '?'} users in the directory{extra}")
    w("")
    lat = []
    for be in backends:
        for n in (small, large):
            d = per.get((be, n), {})
            lat.append(f"{be} {n:,}: GET {'/'.join(d.get('get_lat', {}).values()) or '?'}, "
                       f"POST {'/'.join(d.get('post_lat', {}).values()) or '?'}")
    w("wrk average latency by round: " + "; ".join(lat))
    print("\n".join(out))


if __name__ == "__main__":
    main()
