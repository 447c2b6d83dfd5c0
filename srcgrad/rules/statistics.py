"""Rules of the statistical reductions: var, std, average, ptp and the NaN-skipping reductions.

``axis`` may be None, an int or a tuple of ints, as for np.sum. ``count`` is the number of
elements each result summarizes (``size_of(a) // size_of(ans)``), so no axis arithmetic is needed.
"""
import numpy as np

from ..runtime import (add_at, average_weights, corrcoef_adjoint, corrcoef_tangent, count_of,
                       cov_adjoint, cov_direction, cov_divisor, cov_part, cov_tangent, cov_weights,
                       expand_reduced, interp_index, interp_inside, interp_kept, median_shares,
                       percent_to_fraction, product_of_others, quantile_shares, size_of)
from .registry import differentiable, jvp, non_differentiable, vjp


@vjp(np.var)
def var(g, ans, a, axis=None, ddof=0, keepdims=False):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = size_of(a) // size_of(ans)
    return expand_reduced(g, a, axis, keepdims) * centered * (2.0 / (count - ddof))


@jvp(np.var)
def var_jvp(ans, a, axis=None, ddof=0, keepdims=False, *, da):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = size_of(a) // size_of(ans)
    return np.sum(da * centered, axis=axis, keepdims=keepdims) * (2.0 / (count - ddof))


@vjp(np.std)
def std(g, ans, a, axis=None, ddof=0, keepdims=False):
    # Where every value is the same (std 0), centered is 0 too: the derivative is taken as 0
    # there, the subgradient abs takes at 0, instead of 0 / 0.
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = size_of(a) // size_of(ans)
    spread = np.where(ans == 0.0, np.inf, ans)
    return expand_reduced(g / spread, a, axis, keepdims) * centered * (1.0 / (count - ddof))


@jvp(np.std)
def std_jvp(ans, a, axis=None, ddof=0, keepdims=False, *, da):
    centered = a - np.mean(a, axis=axis, keepdims=True)
    count = size_of(a) // size_of(ans)
    spread = np.where(ans == 0.0, np.inf, ans)
    return np.sum(da * centered, axis=axis, keepdims=keepdims) / (spread * (count - ddof))


@vjp(np.average)
def average(g, ans, a, axis=None, weights=None, returned=False, keepdims=False):
    # With weights: sum(w a) / sum(w) along axis; without, the mean. The weights are an option
    # here (a differentiated weights argument is refused, not given a zero derivative).
    return average_weights(a, axis, weights, returned) * expand_reduced(g, a, axis, keepdims)


@jvp(np.average)
def average_jvp(ans, a, axis=None, weights=None, returned=False, keepdims=False, *, da):
    return np.average(da, axis=axis, weights=weights, keepdims=keepdims)


@vjp(np.ptp)
def ptp(g, ans, a, axis=None, keepdims=False):
    # max - min; ties at either end share its part of the adjoint evenly.
    is_max = a == np.max(a, axis=axis, keepdims=True)
    is_min = a == np.min(a, axis=axis, keepdims=True)
    max_share = is_max / count_of(is_max, a, axis, True)
    min_share = is_min / count_of(is_min, a, axis, True)
    return expand_reduced(g, a, axis, keepdims) * (max_share - min_share)


@jvp(np.ptp)
def ptp_jvp(ans, a, axis=None, keepdims=False, *, da):
    is_max = a == np.max(a, axis=axis, keepdims=True)
    is_min = a == np.min(a, axis=axis, keepdims=True)
    return (np.sum(da * is_max, axis=axis, keepdims=keepdims)
            / count_of(is_max, a, axis, keepdims)
            - np.sum(da * is_min, axis=axis, keepdims=keepdims)
            / count_of(is_min, a, axis, keepdims))


@vjp(np.nansum)
def nansum(g, ans, a, axis=None, keepdims=False):
    return np.where(np.isnan(a), 0.0, expand_reduced(g, a, axis, keepdims))


@jvp(np.nansum)
def nansum_jvp(ans, a, axis=None, keepdims=False, *, da):
    return np.sum(np.where(np.isnan(a), 0.0, da), axis=axis, keepdims=keepdims)


@vjp(np.nanmean)
def nanmean(g, ans, a, axis=None, keepdims=False):
    present = ~np.isnan(a)
    count = count_of(present, a, axis, True)
    return np.where(present, expand_reduced(g, a, axis, keepdims) / count, 0.0)


@jvp(np.nanmean)
def nanmean_jvp(ans, a, axis=None, keepdims=False, *, da):
    present = ~np.isnan(a)
    return (np.sum(np.where(present, da, 0.0), axis=axis, keepdims=keepdims)
            / count_of(present, a, axis, keepdims))


@vjp(np.nanvar)
def nanvar(g, ans, a, axis=None, ddof=0, keepdims=False):
    # The variance of the values that are not NaN; NaNs get no adjoint.
    present = ~np.isnan(a)
    centered = np.where(present, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    count = count_of(present, a, axis, True)
    return expand_reduced(g, a, axis, keepdims) * centered * (2.0 / (count - ddof))


@jvp(np.nanvar)
def nanvar_jvp(ans, a, axis=None, ddof=0, keepdims=False, *, da):
    present = ~np.isnan(a)
    centered = np.where(present, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    return (np.sum(np.where(present, da, 0.0) * centered, axis=axis, keepdims=keepdims)
            * (2.0 / (count_of(present, a, axis, keepdims) - ddof)))


@vjp(np.nanstd)
def nanstd(g, ans, a, axis=None, ddof=0, keepdims=False):
    # As std: where every value present is the same, the derivative is taken as 0.
    present = ~np.isnan(a)
    centered = np.where(present, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    count = count_of(present, a, axis, True)
    spread = np.where(ans == 0.0, np.inf, ans)
    return expand_reduced(g / spread, a, axis, keepdims) * centered * (1.0 / (count - ddof))


@jvp(np.nanstd)
def nanstd_jvp(ans, a, axis=None, ddof=0, keepdims=False, *, da):
    present = ~np.isnan(a)
    centered = np.where(present, a - np.nanmean(a, axis=axis, keepdims=True), 0.0)
    spread = np.where(ans == 0.0, np.inf, ans)
    return (np.sum(np.where(present, da, 0.0) * centered, axis=axis, keepdims=keepdims)
            / (spread * (count_of(present, a, axis, keepdims) - ddof)))


@vjp(np.nanmax, np.nanmin)
def nan_extreme(g, ans, a, axis=None, keepdims=False):
    # nanmax and nanmin alike: ties share the adjoint evenly; NaNs equal nothing, so get none.
    is_extreme = a == expand_reduced(ans, a, axis, keepdims)
    share = g / count_of(is_extreme, a, axis, keepdims)
    return expand_reduced(share, a, axis, keepdims) * is_extreme


@jvp(np.nanmax, np.nanmin)
def nan_extreme_jvp(ans, a, axis=None, keepdims=False, *, da):
    is_extreme = a == expand_reduced(ans, a, axis, keepdims)
    return (np.sum(np.where(is_extreme, da, 0.0), axis=axis, keepdims=keepdims)
            / count_of(is_extreme, a, axis, keepdims))


# Shapes and options only (average_weights reads a's shape and the weights, an option).
non_differentiable(average_weights, cov_divisor, cov_weights, median_shares,
                   quantile_shares, percent_to_fraction)


@vjp(np.cov)
def cov(g, ans, m, y=differentiable(None), rowvar=True, bias=False, ddof=None, fweights=None,
        aweights=None):
    # The weights are options: a differentiated fweights or aweights is refused.
    dx = cov_adjoint(g, m, y, rowvar, bias, ddof, fweights, aweights)
    return cov_part(dx, m, y, rowvar, 0), cov_part(dx, m, y, rowvar, 1)


@jvp(np.cov)
def cov_jvp(ans, m, y=differentiable(None), rowvar=True, bias=False, ddof=None, fweights=None,
            aweights=None, *, dm, dy):
    return (cov_tangent(cov_direction(dm, m, y, rowvar, 0), ans, m, y, rowvar, bias, ddof,
                        fweights, aweights),
            cov_tangent(cov_direction(dy, m, y, rowvar, 1), ans, m, y, rowvar, bias, ddof,
                        fweights, aweights))


@vjp(np.corrcoef)
def corrcoef(g, ans, x, y=differentiable(None), rowvar=True):
    dx = corrcoef_adjoint(g, x, y, rowvar)
    return cov_part(dx, x, y, rowvar, 0), cov_part(dx, x, y, rowvar, 1)


@jvp(np.corrcoef)
def corrcoef_jvp(ans, x, y=differentiable(None), rowvar=True, *, dx, dy):
    return (corrcoef_tangent(cov_direction(dx, x, y, rowvar, 0), ans, x, y, rowvar),
            corrcoef_tangent(cov_direction(dy, x, y, rowvar, 1), ans, x, y, rowvar))


@vjp(np.median)
def median(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    return expand_reduced(g, a, axis, keepdims) * median_shares(a, axis)


@jvp(np.median)
def median_jvp(ans, a, axis=None, out=None, overwrite_input=False, keepdims=False, *, da):
    return np.sum(da * median_shares(a, axis), axis=axis, keepdims=keepdims)


@vjp(np.nanmedian)
def nanmedian(g, ans, a, axis=None, out=None, overwrite_input=False, keepdims=False):
    # The median of the values that are not NaN; NaNs get no adjoint.
    return expand_reduced(g, a, axis, keepdims) * median_shares(a, axis, True)


@jvp(np.nanmedian)
def nanmedian_jvp(ans, a, axis=None, out=None, overwrite_input=False, keepdims=False, *, da):
    return np.sum(np.where(np.isnan(a), 0.0, da) * median_shares(a, axis, True), axis=axis,
                  keepdims=keepdims)


@vjp(np.nanprod)
def nanprod(g, ans, a, axis=None, keepdims=False):
    # The product with NaNs read as ones; NaNs get no adjoint.
    present = ~np.isnan(a)
    others = product_of_others(np.where(present, a, 1.0), axis)
    return np.where(present, expand_reduced(g, a, axis, keepdims) * others, 0.0)


@jvp(np.nanprod)
def nanprod_jvp(ans, a, axis=None, keepdims=False, *, da):
    present = ~np.isnan(a)
    others = product_of_others(np.where(present, a, 1.0), axis)
    return np.sum(np.where(present, da * others, 0.0), axis=axis, keepdims=keepdims)


@vjp(np.quantile)
def quantile(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
             keepdims=False):
    # q, the level, is an option here: a differentiated q is refused.
    return expand_reduced(g, a, axis, keepdims) * quantile_shares(a, q, axis, method), None


@jvp(np.quantile)
def quantile_jvp(ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                 keepdims=False, *, da):
    return np.sum(da * quantile_shares(a, q, axis, method), axis=axis, keepdims=keepdims)


@vjp(np.percentile)
def percentile(g, ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
               keepdims=False):
    shares = quantile_shares(a, percent_to_fraction(q), axis, method)
    return expand_reduced(g, a, axis, keepdims) * shares, None


@jvp(np.percentile)
def percentile_jvp(ans, a, q, axis=None, out=None, overwrite_input=False, method="linear",
                   keepdims=False, *, da):
    shares = quantile_shares(a, percent_to_fraction(q), axis, method)
    return np.sum(da * shares, axis=axis, keepdims=keepdims)


# np.interp(x, xp, fp): piecewise linear in x, linear in fp; the knots xp are constants.
@vjp(np.interp)
def interp(g, ans, x, xp, fp, left=None, right=None, period=None):
    i = interp_index(x, xp, period)
    slope = np.diff(fp)[i] / np.diff(xp)[i]
    upper = np.clip((x - np.asarray(xp)[i]) / np.diff(xp)[i], 0.0, 1.0)
    kept = g * interp_kept(x, xp, left, right)
    dfp = add_at(add_at(np.zeros_like(fp), i, kept * (1.0 - upper)), i + 1, kept * upper)
    return g * interp_inside(x, xp) * slope, None, dfp


@jvp(np.interp)
def interp_jvp(ans, x, xp, fp, left=None, right=None, period=None, *, dx, dfp):
    i = interp_index(x, xp, period)
    slope = np.diff(fp)[i] / np.diff(xp)[i]
    upper = np.clip((x - np.asarray(xp)[i]) / np.diff(xp)[i], 0.0, 1.0)
    kept = interp_kept(x, xp, left, right)
    return (dx * interp_inside(x, xp) * slope,
            kept * ((1.0 - upper) * dfp[i] + upper * dfp[i + 1]))


non_differentiable(interp_index, interp_inside, interp_kept)
