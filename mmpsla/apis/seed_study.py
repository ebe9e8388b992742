"""Aggregate a seed study: each method trained and tested once per seed.

``rows_by_seed`` maps a seed to that seed's table rows (dicts with ``key`` (method name),
``method`` (label), metric fractions such as ``mAP`` / ``mAP_degraded`` and ``fps``), as
``tools/compare.py`` writes them. :func:`summarize_seeds` gives each method's mean ± sd
and, for a reference method (PSLA), the per-seed differences to every other method
(paired by seed: both trained from the same initialisation with the same seed) and the
per-seed fps ratio; :func:`format_seed_study` renders it as Markdown.
"""

import math
from typing import Dict, List, Mapping, Sequence, Tuple

#: Metrics aggregated by default (fractions; printed as percentage points).
STUDY_METRICS = ('mAP', 'mAP_degraded')


def mean_sd(values: Sequence[float]) -> Tuple[float, float]:
    """Mean and sample standard deviation (n - 1); sd is NaN for fewer than 2 values."""
    values = [float(v) for v in values]
    if not values:
        raise ValueError('mean_sd: no values')
    mean = sum(values) / len(values)
    if len(values) < 2:
        return mean, float('nan')
    var = sum((v - mean) ** 2 for v in values) / (len(values) - 1)
    return mean, math.sqrt(var)


def _stats(per_seed: Mapping[int, float]) -> dict:
    mean, sd = mean_sd(list(per_seed.values()))
    return dict(per_seed=dict(per_seed), mean=mean, sd=sd)


def summarize_seeds(
    rows_by_seed: Mapping[int, List[dict]],
    reference: str = 'psla_c',
    metrics: Sequence[str] = STUDY_METRICS,
) -> dict:
    """Mean ± sd per method and metric, and ``reference`` − other method per seed.

    Args:
        rows_by_seed: seed -> rows; every seed must hold the same methods.
        reference: The method whose differences are reported (``key`` of its rows).
        metrics: Row fields to aggregate.

    Returns:
        dict: ``seeds`` (sorted), ``labels`` (key -> label), ``methods``
        (key -> metric -> ``{per_seed, mean, sd}``, metrics plus ``fps``), and when
        ``reference`` is among the methods, ``diffs`` (other key -> metric ->
        ``{per_seed, mean, sd, positive}``; ``positive`` counts seeds with a difference > 0)
        and ``fps_ratio`` (other key -> ``{per_seed, mean, sd}``, reference fps / other fps).
    """
    if not rows_by_seed:
        raise ValueError('summarize_seeds: no seeds')
    seeds = sorted(rows_by_seed)
    by_seed = {s: {r['key']: r for r in rows_by_seed[s]} for s in seeds}
    keys = [r['key'] for r in rows_by_seed[seeds[0]]]
    for s in seeds:
        if sorted(by_seed[s]) != sorted(keys):
            raise ValueError(
                f'summarize_seeds: seed {s} has methods {sorted(by_seed[s])}, seed {seeds[0]} '
                f'has {sorted(keys)}; every seed must run the same methods'
            )
    labels = {k: by_seed[seeds[0]][k]['method'] for k in keys}
    fields = list(metrics) + ['fps']
    methods = {k: {m: _stats({s: by_seed[s][k][m] for s in seeds}) for m in fields} for k in keys}
    out = dict(seeds=seeds, labels=labels, methods=methods, reference=reference)
    if reference in keys:
        out['diffs'], out['fps_ratio'] = {}, {}
        for k in keys:
            if k == reference:
                continue
            out['diffs'][k] = {}
            for m in metrics:
                d = {s: by_seed[s][reference][m] - by_seed[s][k][m] for s in seeds}
                out['diffs'][k][m] = dict(_stats(d), positive=sum(v > 0 for v in d.values()))
            ratio = {
                s: by_seed[s][reference]['fps'] / by_seed[s][k]['fps']
                if by_seed[s][k]['fps'] > 0
                else float('nan')
                for s in seeds
            }
            out['fps_ratio'][k] = _stats(ratio)
    return out


def _pm(stats: dict, scale: float = 100.0, sign: bool = False, digits: int = 1) -> str:
    mean, sd = scale * stats['mean'], scale * stats['sd']
    text = f'{mean:+.{digits}f}' if sign else f'{mean:.{digits}f}'
    return text if sd != sd else f'{text} ± {sd:.{digits}f}'  # one seed: no sd


def format_seed_study(summary: dict, metric_names: Mapping[str, str] = None) -> str:
    """Markdown: one row per seed (each method's metrics, the reference's differences and
    fps ratios), a mean ± sd row, and the number of seeds with a positive difference."""
    names = dict(mAP='mAP@50', mAP_degraded='degraded')
    names.update(metric_names or {})
    seeds, labels, methods = summary['seeds'], summary['labels'], summary['methods']
    metrics = [m for m in next(iter(methods.values())) if m != 'fps']
    ref = summary['reference']
    diffs, ratios = summary.get('diffs', {}), summary.get('fps_ratio', {})
    header = ['seed']
    for k in methods:
        header += [f'{labels[k]} {names.get(m, m)}' for m in metrics]
    for k in diffs:
        header += [f'{names.get(m, m)}: {labels[ref]} − {labels[k]}' for m in metrics]
        header.append(f'fps {labels[ref]} / {labels[k]}')
    lines = ['| ' + ' | '.join(header) + ' |', '|' + '---|' * len(header)]

    def row(first: str, pick, pick_ratio) -> str:
        cells = [first]
        for k in methods:
            cells += [pick(methods[k][m], 100.0, False) for m in metrics]
        for k in diffs:
            cells += [pick(diffs[k][m], 100.0, True) for m in metrics]
            cells.append(pick_ratio(ratios[k]))
        return '| ' + ' | '.join(cells) + ' |'

    for s in seeds:
        lines.append(
            row(
                str(s),
                lambda st, scale, sign, s=s: (
                    f'{scale * st["per_seed"][s]:+.1f}'
                    if sign
                    else f'{scale * st["per_seed"][s]:.1f}'
                ),
                lambda st, s=s: f'{st["per_seed"][s]:.2f}x',
            )
        )
    lines.append(
        row(
            'mean ± sd',
            lambda st, scale, sign: f'**{_pm(st, scale, sign)}**' if sign else _pm(st, scale, sign),
            lambda st: f'{_pm(st, 1.0, digits=2)}x',
        )
    )
    if diffs:
        counts = []
        for k in diffs:
            counts += [
                f'{names.get(m, m)} vs {labels[k]}: {diffs[k][m]["positive"]}/{len(seeds)}'
                for m in metrics
            ]
        lines.append('')
        lines.append(f'Seeds where {labels[ref]} is ahead: ' + '; '.join(counts) + '.')
    return '\n'.join(lines)


def rows_by_seed_from_json(data: Mapping) -> Dict[int, List[dict]]:
    """``{"seeds": {"0": [rows...], ...}}`` (compare.py's JSON) -> ``{0: [rows...], ...}``."""
    try:
        return {int(s): rows for s, rows in data['seeds'].items()}
    except (KeyError, AttributeError, ValueError) as err:
        raise ValueError(
            "expected compare.py's seed-study JSON with a 'seeds' object mapping each seed to "
            f'its rows ({err!r})'
        ) from err


def load_seed_files(paths: Sequence[str], methods: Sequence[str] = None) -> Dict[int, List[dict]]:
    """Merge the seeds of earlier tool runs (``--from-json``) into ``rows_by_seed``.

    Each file is a seed study (``{"seeds": {...}}``) or a single-seed result (``{"rows":
    [...]}``, its seed read from the rows' ``seed``). Rows whose ``key`` is not in
    ``methods`` (if given) are dropped.

    Raises:
        ValueError: A missing file, an unexpected JSON layout or a seed given twice; the
            message names the file.
    """
    import json
    import os.path as osp

    rows_by_seed = {}
    for path in paths:
        if not osp.isfile(path):
            raise ValueError(f'no such file {path}')
        with open(path) as f:
            data = json.load(f)
        if isinstance(data, dict) and 'rows' in data:  # a single-seed run
            data = {'seeds': {str(data['rows'][0].get('seed', 0)): data['rows']}}
        try:
            found = rows_by_seed_from_json(data)
        except ValueError as err:
            raise ValueError(f'{path}: {err}') from err
        for seed, rows in found.items():
            if seed in rows_by_seed:
                raise ValueError(f'seed {seed} appears twice (again in {path})')
            rows_by_seed[seed] = [r for r in rows if methods is None or r['key'] in methods]
    return rows_by_seed
