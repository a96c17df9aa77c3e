#!/usr/bin/env python3
"""numpy/scipy side of bench/drift.bench.ts: reads the data the TypeScript side wrote, times only
the computations (the same ones as the TypeScript drift report), prints one JSON object."""
import json
import os
import sys
import time

import numpy as np
from scipy import stats
from scipy.spatial.distance import jensenshannon

data = sys.argv[1]
meta = json.load(open(os.path.join(data, "meta.json")))
n, numeric, categorical = meta["rows"], meta["numeric"], meta["categorical"]


def load_numeric(side):
    raw = np.fromfile(os.path.join(data, f"{side}_numeric.f64"), dtype="<f8")
    return {name: raw[i * n:(i + 1) * n] for i, name in enumerate(numeric)}


def load_categorical(side):
    out = {}
    for c in categorical:
        codes = np.fromfile(os.path.join(data, f"{side}_{c['name']}.u16"), dtype="<u2")
        out[c["name"]] = np.array(c["labels"])[codes]
    return out


ref_num, cur_num = load_numeric("ref"), load_numeric("cur")
ref_cat, cur_cat = load_categorical("ref"), load_categorical("cur")


def aligned_counts(r, c):
    rv, rc = np.unique(r, return_counts=True)
    cv, cc = np.unique(c, return_counts=True)
    keys = list(dict.fromkeys(list(rv) + list(cv)))
    rd, cd = dict(zip(rv, rc)), dict(zip(cv, cc))
    return (np.array([rd.get(k, 0) for k in keys], float), np.array([cd.get(k, 0) for k in keys], float))


def psi_counts(r, c, eps=1e-4):
    p, q = r / r.sum(), c / c.sum()
    p, q = np.where(p == 0, eps, p), np.where(q == 0, eps, q)
    return float(np.sum((p - q) * np.log(p / q)))


def numeric_psi(r, c, bins=10):
    edges = np.unique(np.quantile(r, [i / bins for i in range(1, bins)]))
    hr = np.bincount(np.searchsorted(edges, r, side="left"), minlength=len(edges) + 1)
    hc = np.bincount(np.searchsorted(edges, c, side="left"), minlength=len(edges) + 1)
    return psi_counts(hr.astype(float), hc.astype(float))


def timed(fn):
    t = time.perf_counter()
    result = fn()
    return (time.perf_counter() - t) * 1000, result


def auto():
    out = {}
    for k in numeric:
        out[k] = float(stats.wasserstein_distance(ref_num[k], cur_num[k]) / max(np.std(ref_num[k]), 0.001))
    for c in categorical:
        r, cc = aligned_counts(ref_cat[c["name"]], cur_cat[c["name"]])
        out[c["name"]] = float(jensenshannon(r, cc, base=2))
    return out


def ks():
    return {k: [float(v) for v in stats.ks_2samp(ref_num[k], cur_num[k])[:2]] for k in numeric}


def psi():
    out = {k: numeric_psi(ref_num[k], cur_num[k]) for k in numeric}
    for c in categorical:
        out[c["name"]] = psi_counts(*aligned_counts(ref_cat[c["name"]], cur_cat[c["name"]]))
    return out


result = {}
for name, fn in [("auto", auto), ("ks", ks), ("psi", psi)]:
    ms, values = timed(fn)
    result[name] = {"ms": ms, "values": values}
print(json.dumps(result))
