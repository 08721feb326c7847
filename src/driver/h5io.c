/* One small writer in the manner of SWIFT's common_io.c: typed helpers for attributes and
 * datasets, every HDF5 return checked with the object's name in the message. */
#include "gpmc/h5io.h"
#include "gpmc/blas_kernel.h"
#include "gpmc/error.h"
#include "gpmc/summary.h"
#include "gpmc/stats.h"
#include "gpmc/version.h"

#include <errno.h>
#include <fcntl.h>
#include <fftw3.h>
#include <gsl/gsl_version.h>
#include <hdf5.h>
#include <math.h>
#include <mpi.h>
#include <stdio.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

char *openblas_get_config(void); /* OpenBLAS's cblas.h clashes with gsl_cblas.h */

#define FAIL(what, name) gpmc_error(GPMC_EIO, path, "HDF5: cannot %s '%s'", what, name)

static const char *path; /* file being written or read, for messages */

/* ---- typed attribute helpers ---- */

static hid_t str_type(void)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    return t;
}

static int attr_write(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                      const void *data)
{
    hid_t space = rank ? H5Screate_simple(rank, dims, NULL) : H5Screate(H5S_SCALAR);
    hid_t a = space < 0 ? -1 : H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = a < 0 ? -1 : H5Awrite(a, type, data);
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    return w < 0 ? FAIL("write attribute", name) : GPMC_OK;
}

static int attr_str(hid_t loc, const char *name, const char *value)
{
    hid_t t = str_type();
    const char *v = value ? value : "";
    int st = attr_write(loc, name, t, 0, NULL, &v);
    H5Tclose(t);
    return st;
}

static int attr_strs(hid_t loc, const char *name, const char *const *values, size_t n)
{
    hid_t t = str_type();
    hsize_t dims[1] = {n};
    int st = attr_write(loc, name, t, 1, dims, values);
    H5Tclose(t);
    return st;
}

static int attr_f64(hid_t loc, const char *name, double v)
{
    return attr_write(loc, name, H5T_NATIVE_DOUBLE, 0, NULL, &v);
}

static int attr_i64(hid_t loc, const char *name, long long v)
{
    return attr_write(loc, name, H5T_NATIVE_LLONG, 0, NULL, &v);
}

static int attr_u64(hid_t loc, const char *name, unsigned long long v)
{
    return attr_write(loc, name, H5T_NATIVE_ULLONG, 0, NULL, &v);
}

/* ---- datasets and groups ---- */

static hid_t group(hid_t loc, const char *name)
{
    hid_t g = H5Gcreate2(loc, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    if (g < 0)
        FAIL("create group", name);
    return g;
}

static int dset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                const void *data, const char *doc, const char *units)
{
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t d = space < 0 ? -1
                        : H5Dcreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = d < 0 ? -1 : H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, data);
    int st = w < 0 ? FAIL("write dataset", name) : GPMC_OK;
    if (!st && doc)
        st = attr_str(d, "doc", doc);
    if (!st && units)
        st = attr_str(d, "units", units);
    if (d >= 0)
        H5Dclose(d);
    if (space >= 0)
        H5Sclose(space);
    return st;
}

static int dset_f64(hid_t loc, const char *name, int rank, const hsize_t *dims,
                    const double *data, const char *doc, const char *units)
{
    return dset(loc, name, H5T_NATIVE_DOUBLE, rank, dims, data, doc, units);
}

/* Counts are computed as doubles alongside the rates; stored as int64. */
static int dset_count(hid_t loc, const char *name, int rank, const hsize_t *dims,
                      const double *data, const char *doc)
{
    size_t n = 1;
    for (int r = 0; r < rank; r++)
        n *= dims[r];
    long long *ll = malloc((n + 1) * sizeof *ll);
    if (!ll)
        return gpmc_error(GPMC_ENOMEM, path, "out of memory");
    for (size_t i = 0; i < n; i++)
        ll[i] = data[i] >= 0 && data[i] < 9.2e18 ? (long long)data[i] : -1; /* no UB on NaN */
    int st = dset(loc, name, H5T_NATIVE_LLONG, rank, dims, ll, doc, NULL);
    free(ll);
    return st;
}

/* Open a group, creating it if absent (a success field's statistics made it already). */
static hid_t group_open(hid_t loc, const char *name)
{
    if (H5Lexists(loc, name, H5P_DEFAULT) > 0)
        return H5Gopen2(loc, name, H5P_DEFAULT);
    return group(loc, name);
}

static int attr_ci(hid_t g)
{
    int st = attr_f64(g, "level", GPMC_CI_LEVEL);
    return st ? st : attr_str(g, "method", "clopper-pearson");
}

/* ---- the layout ---- */

/* Point p's parameter values, recomputed from the spec into buf (nparams entries). */
static const gpmc_value *point_values(const gpmc_plan *plan, size_t p, gpmc_value *buf)
{
    gpmc_spec_point_values(plan->spec, p, buf);
    return buf;
}

/* Write value v of parameter def as an attribute called name. */
static int attr_value(hid_t loc, const char *name, const gpmc_param_def *def, const gpmc_value *v)
{
    char text[2048];
    switch (def->type) {
    case GPMC_PARAM_INT:
        return attr_i64(loc, name, (long long)v->num);
    case GPMC_PARAM_REAL:
        return attr_f64(loc, name, v->num);
    case GPMC_PARAM_REAL_LIST:
    case GPMC_PARAM_INT_LIST: {
        hsize_t dims[1] = {v->len};
        if (v->len == 0)
            return attr_str(loc, name, "");
        if (def->type == GPMC_PARAM_REAL_LIST)
            return attr_write(loc, name, H5T_NATIVE_DOUBLE, 1, dims, v->list);
        long long ll[GPMC_LIST_MAX];
        for (size_t i = 0; i < v->len; i++)
            ll[i] = (long long)v->list[i];
        return attr_write(loc, name, H5T_NATIVE_LLONG, 1, dims, ll);
    }
    case GPMC_PARAM_BOOL:
    case GPMC_PARAM_CHOICE:
    default:
        gpmc_value_format(def, v, text, sizeof text);
        return attr_str(loc, name, text);
    }
}

static int write_grid(hid_t file, const gpmc_plan *plan)
{
    const gpmc_spec *spec = plan->spec;
    const gpmc_experiment *exp = plan->exp;
    size_t P = plan->P;
    hid_t g = group(file, "grid");
    if (g < 0)
        return GPMC_EIO;
    size_t na = spec->naxes;
    /* Sized from the spec (one axis per parameter at most), never a fixed 64. */
    const char **names = calloc(na + 1, sizeof *names);
    char (*ratio_names)[128] = calloc(na + 1, sizeof *ratio_names);
    long long *shape = calloc(na + 1, sizeof *shape);
    gpmc_value *vals = calloc(exp->nparams + 1, sizeof *vals);
    double *col = malloc((P + 1) * sizeof *col);
    const char **strs = malloc((P + 1) * sizeof *strs);
    char (*text)[64] = malloc((P + 1) * sizeof *text);
    int st = (col && strs && text && names && ratio_names && shape && vals)
                 ? GPMC_OK : gpmc_error(GPMC_ENOMEM, path, "out of memory");
    hsize_t dims[1] = {P};
    for (size_t a = 0; a < na && !st; a++) {
        const gpmc_axis *ax = &spec->axes[a];
        const gpmc_param_def *def = &exp->params[ax->param];
        shape[a] = (long long)ax->n;
        names[a] = def->name;
        if (ax->ratio_of != GPMC_NO_PARAM) {
            /* The axis itself is the ratio; the parameter it sets is derived. */
            snprintf(ratio_names[a], sizeof ratio_names[a], "%s_over_%s", def->name,
                     exp->params[ax->ratio_of].name);
            names[a] = ratio_names[a];
            /* The ratio as written (before rounding n) is what the user chose. */
            for (size_t p = 0; p < P; p++)
                col[p] = ax->values[gpmc_spec_axis_index(spec, a, p)];
            st = dset_f64(g, names[a], 1, dims, col, "grid axis: ratio as given in the spec", NULL);
            hid_t d = st ? -1 : H5Dopen2(g, names[a], H5P_DEFAULT);
            if (d >= 0) {
                st = attr_str(d, "sets", def->name);
                st = st ? st : attr_str(d, "ratio_of", exp->params[ax->ratio_of].name);
                H5Dclose(d);
            }
        }
        if (st)
            break;
        for (size_t p = 0; p < P; p++)
            col[p] = point_values(plan, p, vals)[ax->param].num;
        if (def->type == GPMC_PARAM_INT) {
            long long *ll = (long long *)col; /* same size; converted in place */
            for (size_t p = 0; p < P; p++)
                ll[p] = (long long)col[p];
            st = dset(g, def->name, H5T_NATIVE_LLONG, 1, dims, ll, def->doc, NULL);
        } else if (def->type == GPMC_PARAM_REAL) {
            st = dset_f64(g, def->name, 1, dims, col, def->doc, NULL);
        } else {
            for (size_t p = 0; p < P; p++) {
                gpmc_value_format(def, &point_values(plan, p, vals)[ax->param], text[p],
                                  sizeof text[p]);
                strs[p] = text[p];
            }
            hid_t t = str_type();
            st = dset(g, def->name, t, 1, dims, strs, def->doc, NULL);
            H5Tclose(t);
        }
    }
    if (!st)
        st = attr_strs(g, "axes", names, spec->naxes);
    if (!st) {
        hsize_t n[1] = {spec->naxes};
        st = spec->naxes ? attr_write(g, "shape", H5T_NATIVE_LLONG, 1, n, shape)
                         : attr_str(g, "shape", "");
    }
    free(col);
    free(strs);
    free(text);
    free(names);
    free(ratio_names);
    free(shape);
    free(vals);
    H5Gclose(g);
    return st;
}

static int is_axis(const gpmc_spec *spec, size_t param)
{
    for (size_t a = 0; a < spec->naxes; a++)
        if (spec->axes[a].param == param)
            return 1;
    return 0;
}

static int write_params(hid_t file, const gpmc_plan *plan)
{
    hid_t g = group(file, "params");
    if (g < 0)
        return GPMC_EIO;
    int st = GPMC_OK;
    for (size_t i = 0; i < plan->exp->nparams && !st; i++)
        if (!is_axis(plan->spec, i))
            st = attr_value(g, plan->exp->params[i].name, &plan->exp->params[i],
                            &plan->spec->fixed[i]);
    H5Gclose(g);
    return st;
}

static int write_code(hid_t file, int nranks)
{
    hid_t g = group(file, "code");
    if (g < 0)
        return GPMC_EIO;
    char buf[MPI_MAX_LIBRARY_VERSION_STRING + 64];
    unsigned maj, min, rel;
    int len = 0, st = GPMC_OK;
    st = st ? st : attr_str(g, "gpmc_version", gpmc_version);
    st = st ? st : attr_str(g, "git_commit", gpmc_git_commit);
#ifdef __VERSION__
    st = st ? st : attr_str(g, "compiler", "gcc-compatible " __VERSION__);
#endif
    st = st ? st : attr_str(g, "cflags", gpmc_cflags);
    H5get_libversion(&maj, &min, &rel);
    snprintf(buf, sizeof buf, "%u.%u.%u", maj, min, rel);
    st = st ? st : attr_str(g, "hdf5_version", buf);
    MPI_Get_library_version(buf, &len);
    buf[strcspn(buf, "\n")] = '\0';
    st = st ? st : attr_str(g, "mpi_version", buf);
    st = st ? st : attr_str(g, "gsl_version", GSL_VERSION);
    st = st ? st : attr_str(g, "fftw_version", fftw_version);
    st = st ? st : attr_str(g, "openblas_config", openblas_get_config());
    /* Kernels round differently: results are bitwise reproducible for one kernel. */
    st = st ? st : attr_str(g, "openblas_corename", gpmc_blas_corename());
    st = st ? st : attr_str(g, "openblas_kernel_origin", gpmc_blas_kernel_origin());
    st = st ? st : attr_i64(g, "mpi_ranks", nranks);
    H5Gclose(g);
    return st;
}

static int write_trials(hid_t file, const gpmc_results *res)
{
    const gpmc_plan *plan = res->plan;
    const gpmc_experiment *exp = plan->exp;
    size_t P = plan->P, T = plan->T;
    hsize_t dims[2] = {P, T};
    hid_t gt = group(file, "trials"), gtime = group(file, "timing");
    double *col = malloc((P * T + 1) * sizeof *col);
    int st = (gt < 0 || gtime < 0) ? GPMC_EIO
             : col ? GPMC_OK : gpmc_error(GPMC_ENOMEM, path, "out of memory");
    for (size_t f = 0; f < exp->nfields && !st; f++) {
        const gpmc_field_def *fd = &exp->fields[f];
        if (fd->shape)
            continue;
        for (size_t p = 0; p < P; p++)
            for (size_t t = 0; t < T; t++)
                col[p * T + t] = gpmc_results_record(res, p, t)[gpmc_plan_layout(plan, p)->offset[f]];
        st = dset_f64((fd->flags & GPMC_FIELD_TIMING) ? gtime : gt, fd->name, 2, dims, col,
                      fd->doc, fd->units);
    }
    if (!st)
        st = dset(gt, "done", H5T_NATIVE_UINT8, 2, dims, res->done,
                  "1 once the trial is stored (gpmc resume runs the others)", NULL);
    if (!st)
        st = dset_f64(gtime, "trial_seconds", 2, dims, res->seconds,
                      "wall-clock time of the whole trial (not reproducible)", "s");
    if (!st)
        st = dset(gtime, "rank", H5T_NATIVE_INT32, 2, dims, res->rank,
                  "MPI rank that ran the trial (-1: not run); shows the load balance", NULL);
    free(col);
    if (gt >= 0)
        H5Gclose(gt);
    if (gtime >= 0)
        H5Gclose(gtime);
    return st;
}

static int write_points(hid_t file, const gpmc_results *res)
{
    const gpmc_plan *plan = res->plan;
    const gpmc_experiment *exp = plan->exp;
    int any = 0;
    for (size_t f = 0; f < exp->nfields; f++)
        any |= exp->fields[f].shape != NULL;
    if (!any)
        return GPMC_OK;
    hid_t gp = group(file, "points");
    if (gp < 0)
        return GPMC_EIO;
    int st = GPMC_OK;
    size_t T = plan->T;
    double *buf = NULL;
    gpmc_value *vals = calloc(exp->nparams + 1, sizeof *vals);
    if (!vals)
        st = gpmc_error(GPMC_ENOMEM, path, "out of memory");
    for (size_t p = 0; p < plan->P && !st; p++) {
        const gpmc_layout *lay = gpmc_plan_layout(plan, p);
        char name[32];
        snprintf(name, sizeof name, "%zu", p);
        hid_t g = group(gp, name);
        if (g < 0) {
            st = GPMC_EIO;
            break;
        }
        for (size_t a = 0; a < plan->spec->naxes && !st; a++) {
            const gpmc_axis *ax = &plan->spec->axes[a];
            const gpmc_value *v = point_values(plan, p, vals);
            st = attr_value(g, exp->params[ax->param].name, &exp->params[ax->param], &v[ax->param]);
            if (!st && ax->ratio_of != GPMC_NO_PARAM) {
                char rn[160];
                snprintf(rn, sizeof rn, "%s_over_%s", exp->params[ax->param].name,
                         exp->params[ax->ratio_of].name);
                st = attr_f64(g, rn, ax->values[gpmc_spec_axis_index(plan->spec, a, p)]);
            }
        }
        for (size_t f = 0; f < exp->nfields && !st; f++) {
            if (!exp->fields[f].shape || lay->len[f] == 0)
                continue;
            double *nb = realloc(buf, (T * lay->len[f] + 1) * sizeof *buf);
            if (!nb) {
                st = gpmc_error(GPMC_ENOMEM, path, "out of memory");
                break;
            }
            buf = nb;
            for (size_t t = 0; t < T; t++)
                memcpy(buf + t * lay->len[f], gpmc_results_record(res, p, t) + lay->offset[f],
                       lay->len[f] * sizeof *buf);
            hsize_t dims[GPMC_MAX_RANK + 1] = {T};
            for (int r = 0; r < lay->rank[f]; r++)
                dims[r + 1] = lay->dims[f][r];
            st = dset_f64(g, exp->fields[f].name, lay->rank[f] + 1, dims, buf,
                          exp->fields[f].doc, exp->fields[f].units);
        }
        H5Gclose(g);
    }
    free(buf);
    free(vals);
    H5Gclose(gp);
    return st;
}

/* A statistic that cannot be computed must not cost the trials: it is stored as NaN,
 * its group gets an attribute `error`, and the writer goes on. */
typedef struct {
    gpmc_h5_report *report;
    char first[512]; /* this group's first failure */
} stat_errors;

static void stat_failed(stat_errors *se, const char *what)
{
    if (!se->first[0])
        snprintf(se->first, sizeof se->first, "%s", what);
    if (!se->report)
        return;
    if (!se->report->summary_failures)
        snprintf(se->report->summary_error, sizeof se->report->summary_error, "%s", what);
    se->report->summary_failures++;
}

/* Close a summary group, recording its first failure (if any) as attribute `error`. */
static int close_stat_group(hid_t g, stat_errors *se, int st)
{
    if (g < 0)
        return st ? st : GPMC_EIO;
    if (!st && se->first[0])
        st = attr_str(g, "error", se->first);
    H5Gclose(g);
    se->first[0] = '\0';
    return st;
}

/* Rates and intervals of counts k[i] of n[i]; NaN where n = 0 or the interval failed. */
static void rates(stat_errors *se, const char *what, size_t m, const double *k, const double *n,
                  double *rate, double *lo, double *hi)
{
    for (size_t i = 0; i < m; i++) {
        size_t ki = (size_t)k[i], ni = (size_t)n[i];
        rate[i] = ni ? k[i] / n[i] : NAN;
        if (gpmc_summary_interval(ki, ni, &lo[i], &hi[i])) {
            char msg[512];
            snprintf(msg, sizeof msg, "%s: %s", what, gpmc_error_message());
            stat_failed(se, msg);
        }
    }
}

static int write_field_stats(hid_t gs, const gpmc_results *res, size_t f, double *scratch,
                             double *cols, stat_errors *se)
{
    static const char *stat_names[] = {"mean", "std", "min", "q05", "q50", "q95", "max", "n"};
    const gpmc_field_def *fd = &res->plan->exp->fields[f];
    size_t P = res->plan->P;
    hsize_t d1[1] = {P};
    for (size_t p = 0; p < P; p++) {
        gpmc_field_stats s;
        gpmc_summary_field(res, p, f, scratch, &s);
        double v[8] = {s.mean, s.std, s.min, s.q05, s.q50, s.q95, s.max, (double)s.n};
        for (int j = 0; j < 8; j++)
            cols[j * P + p] = v[j];
    }
    hid_t g = group(gs, fd->name);
    int st = g < 0 ? GPMC_EIO : GPMC_OK;
    for (int j = 0; j < 7 && !st; j++)
        st = dset_f64(g, stat_names[j], 1, d1, cols + j * P, NULL, fd->units);
    st = st ? st : dset_count(g, stat_names[7], 1, d1, cols + 7 * P,
                              "done trials with a value (NaN values are left out)");
    return close_stat_group(g, se, st);
}

/* P(field <= t_j) for every threshold t_j of the field's list parameter: (P, E) tables. */
static int write_threshold_rates(hid_t gs, const gpmc_results *res, size_t f, double *cols,
                                 stat_errors *se)
{
    const gpmc_plan *plan = res->plan;
    const gpmc_field_def *fd = &plan->exp->fields[f];
    const gpmc_value *thr = &plan->spec->fixed[gpmc_param_index(plan->exp, fd->threshold)];
    size_t P = plan->P, E = thr->len, PE = P * E;
    double *rate = cols, *lo = rate + PE, *hi = lo + PE, *kk = hi + PE, *nn = kk + PE,
           *cnt = nn + PE;
    for (size_t p = 0; p < P; p++) {
        for (size_t e = 0; e < E; e++) {
            size_t k, n;
            gpmc_summary_count_le(res, p, f, thr->list[e], &k, &n);
            kk[p * E + e] = (double)k;
            nn[p * E + e] = (double)n;
        }
        cnt[p] = E ? nn[p * E] : 0;
    }
    char name[160];
    snprintf(name, sizeof name, "%s_le", fd->name);
    rates(se, name, PE, kk, nn, rate, lo, hi);
    hid_t g = group(gs, name);
    hsize_t d1[1] = {P}, d2[2] = {P, E}, de[1] = {E};
    int st = g < 0 ? GPMC_EIO : GPMC_OK;
    st = st ? st : dset_f64(g, "threshold", 1, de, thr->list, "the thresholds t_j", fd->units);
    st = st ? st : dset_f64(g, "rate", 2, d2, rate, "fraction of trials with value <= t_j", NULL);
    st = st ? st : dset_f64(g, "ci_low", 2, d2, lo, "Clopper-Pearson 95% lower bound", NULL);
    st = st ? st : dset_f64(g, "ci_high", 2, d2, hi, "Clopper-Pearson 95% upper bound", NULL);
    st = st ? st : dset_count(g, "k", 2, d2, kk, "number of trials with value <= t_j");
    st = st ? st : dset_count(g, "n", 1, d1, cnt, "number of trials with a value");
    st = st ? st : attr_str(g, "field", fd->name);
    st = st ? st : attr_str(g, "threshold_param", fd->threshold);
    st = st ? st : attr_ci(g);
    return close_stat_group(g, se, st);
}

static int write_success_rate(hid_t gs, const gpmc_results *res, size_t sf, double *cols,
                              stat_errors *se)
{
    const gpmc_field_def *fd = &res->plan->exp->fields[sf];
    size_t P = res->plan->P;
    double *rate = cols, *lo = rate + P, *hi = lo + P, *kk = hi + P, *nn = kk + P;
    for (size_t p = 0; p < P; p++) {
        size_t k, n;
        gpmc_summary_count_success(res, p, sf, &k, &n);
        kk[p] = (double)k;
        nn[p] = (double)n;
    }
    rates(se, fd->name, P, kk, nn, rate, lo, hi);
    hsize_t d1[1] = {P};
    hid_t g = group_open(gs, fd->name);
    int st = g < 0 ? GPMC_EIO : GPMC_OK;
    st = st ? st : dset_f64(g, "rate", 1, d1, rate, fd->doc, NULL);
    st = st ? st : dset_f64(g, "ci_low", 1, d1, lo, "Clopper-Pearson 95% lower bound", NULL);
    st = st ? st : dset_f64(g, "ci_high", 1, d1, hi, "Clopper-Pearson 95% upper bound", NULL);
    /* The field's statistics already wrote the same n into its group. */
    if (!st && H5Lexists(g, "n", H5P_DEFAULT) <= 0)
        st = dset_count(g, "n", 1, d1, nn, "trials with a value");
    st = st ? st : dset_count(g, "k", 1, d1, kk, "successful trials");
    st = st ? st : attr_str(g, "field", fd->name);
    st = st ? st : attr_ci(g);
    return close_stat_group(g, se, st);
}

/* Doubles the summary's column buffer holds at once: 8 statistics x P for a field, and
 * 5 tables of P x E plus P counts for the longest threshold list. 0 on overflow. */
static size_t summary_cols(const gpmc_plan *plan)
{
    size_t P = plan->P, need = 8 * P, E = 0;
    for (size_t f = 0; f < plan->exp->nfields; f++)
        if (plan->exp->fields[f].threshold && !plan->exp->fields[f].shape) {
            size_t len = plan->spec->fixed[gpmc_param_index(plan->exp, plan->exp->fields[f].threshold)].len;
            E = len > E ? len : E;
        }
    if (P && E > (SIZE_MAX / sizeof(double) - 1) / 6 / P)
        return 0;
    size_t le = 5 * P * E + P;
    return (le > need ? le : need) + 1;
}

static int write_summary(hid_t file, const gpmc_results *res, gpmc_h5_report *report)
{
    const gpmc_plan *plan = res->plan;
    const gpmc_experiment *exp = plan->exp;
    hid_t gs = group(file, "summary");
    if (gs < 0)
        return GPMC_EIO;
    stat_errors se = {report, ""};
    size_t ncols = summary_cols(plan);
    double *scratch = malloc((plan->T + 1) * sizeof *scratch);
    double *cols = ncols ? malloc(ncols * sizeof *cols) : NULL;
    int st = GPMC_OK;
    if (!scratch || !cols) {
        /* The trials are already written: keep them, say why there is no summary. */
        stat_failed(&se, "out of memory for the summary (gpmc info recomputes it)");
        st = attr_str(gs, "error", se.first);
    }
    for (size_t f = 0; f < exp->nfields && !st && cols; f++) {
        const gpmc_field_def *fd = &exp->fields[f];
        if (fd->shape)
            continue;
        st = write_field_stats(gs, res, f, scratch, cols, &se);
        if (!st && fd->threshold)
            st = write_threshold_rates(gs, res, f, cols, &se);
    }
    /* Every 0/1 success-like field (cs: success; landscape: where descent ends) gets its
     * rate and interval beside its statistics, in /summary/<field>. */
    for (size_t f = 0; f < exp->nfields && !st && cols; f++)
        if (gpmc_summary_is_success(exp, f))
            st = write_success_rate(gs, res, f, cols, &se);
    free(scratch);
    free(cols);
    H5Gclose(gs);
    return st;
}

static int write_root(hid_t file, const gpmc_results *res, const gpmc_h5_meta *meta)
{
    const gpmc_spec *spec = res->plan->spec;
    char shard[64], overrides[8192] = "";
    snprintf(shard, sizeof shard, "%u/%u", res->plan->shard_i, res->plan->shard_n);
    for (size_t i = 0; i < spec->noverrides; i++) {
        strncat(overrides, spec->overrides[i], sizeof overrides - strlen(overrides) - 2);
        strcat(overrides, "\n");
    }
    int st = attr_str(file, "format", "gpmc");
    st = st ? st : attr_i64(file, "format_version", GPMC_FORMAT_VERSION);
    st = st ? st : attr_str(file, "gpmc_version", gpmc_version);
    st = st ? st : attr_str(file, "git_commit", gpmc_git_commit);
    st = st ? st : attr_str(file, "created", meta->created);
    st = st ? st : attr_str(file, "experiment", res->plan->exp->name);
    st = st ? st : attr_u64(file, "seed", (unsigned long long)spec->seed);
    st = st ? st : attr_i64(file, "trials", (long long)res->plan->T);
    st = st ? st : attr_str(file, "spec", spec->text);
    st = st ? st : attr_str(file, "spec_path", spec->path);
    st = st ? st : attr_str(file, "overrides", overrides);
    st = st ? st : attr_str(file, "command_line", meta->command_line);
    st = st ? st : attr_str(file, "shard", shard);
    st = st ? st : attr_i64(file, "complete", meta->complete);
    return st;
}

double gpmc_h5_estimate_plan_bytes(const gpmc_plan *plan)
{
    double P = (double)plan->P, T = (double)plan->T, scalars = 0, arrays = 0, E = 0;
    for (size_t f = 0; f < plan->exp->nfields; f++)
        if (!plan->exp->fields[f].shape)
            scalars++;
    for (size_t p = 0; p < plan->P; p++)
        for (size_t f = 0; f < plan->exp->nfields; f++)
            if (plan->exp->fields[f].shape)
                arrays += T * (double)gpmc_plan_layout(plan, p)->len[f];
    for (size_t i = 0; i < plan->exp->nparams; i++)
        E += (double)plan->spec->fixed[i].len;
    /* trials + timing (8 bytes each, done 1, rank 4), arrays, summary, metadata */
    return 8 * P * T * (scalars + 1) + 5 * P * T + 8 * arrays + 8 * P * (8 * scalars + 5 * E) +
           2048 * P * (arrays > 0) + 65536 + (double)strlen(plan->spec->text);
}

/* Write all of buf to a new file `name` and fsync it; errno's text on failure. */
static int write_image(const char *name, const void *buf, size_t len)
{
    int fd = open(name, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return gpmc_error(GPMC_EIO, path, "cannot create '%s': %s", name, strerror(errno));
    const char *c = buf;
    size_t left = len;
    while (left > 0) {
        ssize_t w = write(fd, c, left);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            int e = w < 0 ? errno : ENOSPC;
            close(fd);
            return gpmc_error(GPMC_EIO, path, "cannot write '%s' (%zu of %zu bytes written): %s",
                              name, len - left, len, strerror(e));
        }
        c += w;
        left -= (size_t)w;
    }
    /* Durable before the rename makes it the file (a node crash must not leave a hole). */
    if (fsync(fd) != 0 || close(fd) != 0)
        return gpmc_error(GPMC_EIO, path, "cannot write '%s': %s", name, strerror(errno));
    return GPMC_OK;
}

/* The file is built in memory (HDF5's core driver, no backing store) and written with
 * plain write(2): a full disk then fails in our code, cleanly, instead of in H5Fclose,
 * which in HDF5 1.10 leaves a half-closed file that crashes the library's exit handler. */
int gpmc_h5_write(const char *target, const gpmc_results *res, const gpmc_h5_meta *meta,
                  gpmc_h5_report *report)
{
    if (report)
        memset(report, 0, sizeof *report);
    char tmp[4096];
    if ((size_t)snprintf(tmp, sizeof tmp, "%s.tmp", target) >= sizeof tmp)
        return gpmc_error(GPMC_EINVAL, target, "path too long");
    path = target;
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    if (fapl < 0 || H5Pset_fapl_core(fapl, (size_t)1 << 20, 0) < 0) {
        if (fapl >= 0)
            H5Pclose(fapl);
        return gpmc_error(GPMC_EIO, target, "HDF5: cannot set up the in-memory file");
    }
    hid_t file = H5Fcreate(tmp, H5F_ACC_TRUNC, H5P_DEFAULT, fapl);
    H5Pclose(fapl);
    if (file < 0)
        return gpmc_error(GPMC_ENOMEM, target, "HDF5: cannot create the in-memory file");
    int st = write_root(file, res, meta);
    st = st ? st : write_code(file, meta->nranks);
    st = st ? st : write_grid(file, res->plan);
    st = st ? st : write_params(file, res->plan);
    st = st ? st : write_trials(file, res);
    st = st ? st : write_points(file, res);
    st = st ? st : write_summary(file, res, report);
    void *image = NULL;
    ssize_t len = -1;
    if (!st && (H5Fflush(file, H5F_SCOPE_GLOBAL) < 0 || (len = H5Fget_file_image(file, NULL, 0)) <= 0))
        st = gpmc_error(GPMC_EIO, target, "HDF5: cannot build the file image");
    if (!st && !(image = malloc((size_t)len)))
        st = gpmc_error(GPMC_ENOMEM, target, "out of memory for the file image (%zd bytes)", len);
    if (!st && H5Fget_file_image(file, image, (size_t)len) != len)
        st = gpmc_error(GPMC_EIO, target, "HDF5: cannot copy the file image");
    if (H5Fclose(file) < 0 && !st)
        st = gpmc_error(GPMC_EIO, target, "HDF5: cannot close the in-memory file");
    st = st ? st : write_image(tmp, image, (size_t)len);
    free(image);
    /* The rename is atomic: a reader (or a kill) sees the old file or the new one. */
    if (!st && rename(tmp, target) != 0)
        st = gpmc_error(GPMC_EIO, target, "cannot rename '%s' over it: %s", tmp, strerror(errno));
    if (st)
        remove(tmp);
    return st;
}

/* ---- reading ---- */

/* An attribute of class `want` holding exactly one element, or an error naming it: a
 * file may hold anything, and H5Aread writes every element it holds. */
static hid_t open_scalar_attr(hid_t loc, const char *name, H5T_class_t want)
{
    if (H5Aexists(loc, name) <= 0) {
        gpmc_error(GPMC_EINVAL, path, "attribute '%s' is missing", name);
        return -1;
    }
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    hid_t space = a < 0 ? -1 : H5Aget_space(a), type = a < 0 ? -1 : H5Aget_type(a);
    hssize_t npts = space < 0 ? -1 : H5Sget_simple_extent_npoints(space);
    H5T_class_t have = type < 0 ? H5T_NO_CLASS : H5Tget_class(type);
    int bad = a < 0 || npts != 1 || have != want;
    if (bad)
        gpmc_error(GPMC_EINVAL, path, "attribute '%s' %s", name,
                   a < 0 ? "cannot be read"
                   : npts != 1 ? "must hold exactly one value"
                   : want == H5T_STRING ? "must be a string" : "must be an integer");
    if (type >= 0)
        H5Tclose(type);
    if (space >= 0)
        H5Sclose(space);
    if (bad && a >= 0)
        H5Aclose(a);
    return bad ? -1 : a;
}

static char *read_attr_str(hid_t loc, const char *name)
{
    hid_t a = open_scalar_attr(loc, name, H5T_STRING);
    if (a < 0)
        return NULL;
    hid_t t = str_type();
    char *v = NULL, *copy = NULL;
    if (H5Aread(a, t, &v) >= 0 && v) {
        copy = strdup(v);
        H5free_memory(v);
    }
    if (!copy)
        gpmc_error(GPMC_EINVAL, path, "attribute '%s' cannot be read as a string", name);
    H5Tclose(t);
    H5Aclose(a);
    return copy;
}

static int read_attr_num(hid_t loc, const char *name, hid_t type, void *out)
{
    hid_t a = open_scalar_attr(loc, name, H5T_INTEGER);
    if (a < 0)
        return -1;
    herr_t r = H5Aread(a, type, out);
    H5Aclose(a);
    if (r < 0)
        gpmc_error(GPMC_EINVAL, path, "attribute '%s' is out of range", name);
    return r < 0 ? -1 : 0;
}

void gpmc_h5_origin_free(gpmc_h5_origin *o)
{
    free(o->spec_path);
    free(o->spec_text);
    free(o->created);
    free(o->command_line);
    free(o->experiment);
    free(o->gpmc_version);
    free(o->blas_kernel);
    free(o->git_commit);
    for (size_t i = 0; i < o->noverrides; i++)
        free(o->overrides[i]);
    free(o->overrides);
    memset(o, 0, sizeof *o);
}

int gpmc_h5_read_origin(const char *file_path, gpmc_h5_origin *o)
{
    memset(o, 0, sizeof *o);
    path = file_path;
    hid_t file = H5Fopen(file_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return gpmc_error(GPMC_EIO, file_path, "cannot open as HDF5");
    char *format = read_attr_str(file, "format");
    long long version = -1;
    int st = GPMC_OK;
    if (!format || strcmp(format, "gpmc") != 0)
        st = gpmc_error(GPMC_EINVAL, file_path, "not a gpmc file (no format=\"gpmc\" attribute)");
    else if (read_attr_num(file, "format_version", H5T_NATIVE_LLONG, &version))
        st = GPMC_EINVAL; /* the message names the attribute */
    else if (version != GPMC_FORMAT_VERSION)
        st = gpmc_error(GPMC_EINVAL, file_path, "format_version %lld, this gpmc reads %d",
                        version, GPMC_FORMAT_VERSION);
    free(format);
    char *overrides = NULL, *shard = NULL;
    unsigned long long seed = 0;
    long long trials = 0;
    /* The required string attributes, in order; the first missing one is the message. */
    struct { const char *name; char **dst; } strs[] = {
        {"spec_path", &o->spec_path}, {"spec", &o->spec_text}, {"created", &o->created},
        {"command_line", &o->command_line}, {"experiment", &o->experiment},
        {"gpmc_version", &o->gpmc_version}, {"overrides", &overrides}, {"shard", &shard}};
    for (size_t i = 0; i < sizeof strs / sizeof *strs && !st; i++)
        if (!(*strs[i].dst = read_attr_str(file, strs[i].name)))
            st = GPMC_EINVAL;
    if (!st && (read_attr_num(file, "seed", H5T_NATIVE_ULLONG, &seed) ||
                read_attr_num(file, "trials", H5T_NATIVE_LLONG, &trials)))
        st = GPMC_EINVAL;
    if (!st && H5Aexists(file, "git_commit") > 0) {
        o->git_commit = read_attr_str(file, "git_commit");
        gpmc_error_clear();
    }
    /* Optional (files before it lack it): the BLAS kernel that computed the trials. */
    if (!st && H5Lexists(file, "code", H5P_DEFAULT) > 0) {
        hid_t code = H5Gopen2(file, "code", H5P_DEFAULT);
        if (code >= 0 && H5Aexists(code, "openblas_corename") > 0)
            o->blas_kernel = read_attr_str(code, "openblas_corename");
        if (code >= 0)
            H5Gclose(code);
        gpmc_error_clear();
    }
    if (!st && gpmc_plan_parse_shard(shard, &o->shard_i, &o->shard_n))
        st = gpmc_error(GPMC_EINVAL, file_path, "attribute 'shard': %s", gpmc_error_message());
    o->seed = seed;
    o->trials = (long)trials;
    if (!st) {
        size_t n = 0;
        for (const char *c = overrides; *c; c++)
            n += *c == '\n';
        o->overrides = calloc(n + 1, sizeof *o->overrides);
        for (char *line = strtok(overrides, "\n"); line && o->overrides; line = strtok(NULL, "\n"))
            o->overrides[o->noverrides++] = strdup(line);
    }
    free(overrides);
    free(shard);
    H5Fclose(file);
    if (st)
        gpmc_h5_origin_free(o);
    return st;
}

/* The file is input like a spec: rank, shape and type class are checked before a read
 * (the rank first, so a file can never make us write past `got`). HDF5 converts between
 * numeric types of one class; a string or compound where numbers belong is refused. */
static int read_dset(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                     void *out)
{
    hid_t d = H5Dopen2(loc, name, H5P_DEFAULT);
    if (d < 0)
        return gpmc_error(GPMC_EINVAL, path, "dataset '%s' is missing or unreadable", name);
    hid_t space = H5Dget_space(d), ftype = H5Dget_type(d);
    int st = GPMC_OK;
    int r = space < 0 ? -1 : H5Sget_simple_extent_ndims(space);
    if (r != rank)
        st = gpmc_error(GPMC_EINVAL, path, "dataset '%s' has rank %d, expected %d", name, r, rank);
    hsize_t got[GPMC_MAX_RANK + 1];
    if (!st && (rank > GPMC_MAX_RANK + 1 || H5Sget_simple_extent_dims(space, got, NULL) != rank))
        st = gpmc_error(GPMC_EINVAL, path, "dataset '%s': cannot read its shape", name);
    for (int i = 0; i < rank && !st; i++)
        if (got[i] != dims[i])
            st = gpmc_error(GPMC_EINVAL, path,
                            "dataset '%s' has extent %llu in dimension %d, expected %llu "
                            "(the shape its spec gives)",
                            name, (unsigned long long)got[i], i, (unsigned long long)dims[i]);
    H5T_class_t want = H5Tget_class(type), have = ftype < 0 ? H5T_NO_CLASS : H5Tget_class(ftype);
    if (!st && have != want)
        st = gpmc_error(GPMC_EINVAL, path, "dataset '%s' holds %s, expected %s", name,
                        have == H5T_STRING ? "strings" : have == H5T_INTEGER ? "integers"
                        : have == H5T_FLOAT ? "floats" : "another type",
                        want == H5T_INTEGER ? "integers" : "floats");
    if (!st && H5Dread(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, out) < 0)
        st = FAIL("read dataset", name);
    if (ftype >= 0)
        H5Tclose(ftype);
    if (space >= 0)
        H5Sclose(space);
    H5Dclose(d);
    return st;
}

int gpmc_h5_read_results(const char *file_path, gpmc_results *res)
{
    const gpmc_plan *plan = res->plan;
    const gpmc_experiment *exp = plan->exp;
    size_t P = plan->P, T = plan->T;
    path = file_path;
    hid_t file = H5Fopen(file_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        return gpmc_error(GPMC_EIO, file_path, "cannot open as HDF5");
    hsize_t dims[2] = {P, T};
    double *col = malloc((P * T + 1) * sizeof *col);
    int st = col ? GPMC_OK : gpmc_error(GPMC_ENOMEM, file_path, "out of memory");
    st = st ? st : read_dset(file, "trials/done", H5T_NATIVE_UINT8, 2, dims, res->done);
    st = st ? st : read_dset(file, "timing/trial_seconds", H5T_NATIVE_DOUBLE, 2, dims, res->seconds);
    st = st ? st : read_dset(file, "timing/rank", H5T_NATIVE_INT32, 2, dims, res->rank);
    for (size_t f = 0; f < exp->nfields && !st; f++) {
        const gpmc_field_def *fd = &exp->fields[f];
        char name[256];
        if (!fd->shape) {
            snprintf(name, sizeof name, "%s/%s", (fd->flags & GPMC_FIELD_TIMING) ? "timing" : "trials",
                     fd->name);
            st = read_dset(file, name, H5T_NATIVE_DOUBLE, 2, dims, col);
            for (size_t p = 0; p < P && !st; p++)
                for (size_t t = 0; t < T; t++)
                    gpmc_results_record(res, p, t)[gpmc_plan_layout(plan, p)->offset[f]] = col[p * T + t];
            continue;
        }
        for (size_t p = 0; p < P && !st; p++) {
            const gpmc_layout *lay = gpmc_plan_layout(plan, p);
            if (lay->len[f] == 0)
                continue;
            double *buf = malloc((T * lay->len[f] + 1) * sizeof *buf);
            hsize_t d[GPMC_MAX_RANK + 1] = {T};
            for (int r = 0; r < lay->rank[f]; r++)
                d[r + 1] = lay->dims[f][r];
            snprintf(name, sizeof name, "points/%zu/%s", p, fd->name);
            st = buf ? read_dset(file, name, H5T_NATIVE_DOUBLE, lay->rank[f] + 1, d, buf)
                     : gpmc_error(GPMC_ENOMEM, file_path, "out of memory");
            for (size_t t = 0; t < T && !st; t++)
                memcpy(gpmc_results_record(res, p, t) + lay->offset[f], buf + t * lay->len[f],
                       lay->len[f] * sizeof *buf);
            free(buf);
        }
    }
    res->ndone = 0;
    for (size_t i = 0; i < P * T; i++)
        res->ndone += res->done[i] != 0;
    free(col);
    H5Fclose(file);
    return st;
}
