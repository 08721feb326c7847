/* The edge sweep's case generator: walks every registered experiment's parameter table
 * (gpmc_experiments[]) and writes tiny specs at each parameter's edges, so a new
 * experiment gets the sweep by being registered. Nothing here knows any experiment.
 *
 *   edge_specs OUTDIR
 *
 * writes OUTDIR/<id>.ini (one spec per case) and
 *   OUTDIR/cases.tsv   id, experiment, case name, tags, expect ("run" | "refuse")
 *   OUTDIR/params.tsv  experiment, name, type, default, min, max, flags, choices
 *   OUTDIR/fields.tsv  experiment, name, shape, when, threshold, flags, units, doc
 * Tags: "mpi" (run under mpirun -np 3 instead of one rank), "subset" (one of the ~10
 * cases of the sanitizer subset). "expect" is the verdict of the library's own spec
 * parser (gpmc_spec_parse: types, ranges, list lengths, the experiment's check()).
 *
 * Values (everything small, so every case runs in well under a second):
 *   base  every parameter's value when it is not the subject of a case: INT its default
 *         capped at 16 (4 if required), REAL its default (1 if required), lists, BOOL and
 *         CHOICE their default;
 *   lo    the minimum (REAL: at least -1e6);
 *   hi    the maximum that fits a small budget: INT min(max, max(2 x default, 16)),
 *         REAL the maximum up to 1e6 (GPMC_PARAM_COSTLY: twice the default, or 1);
 * and lists of 1, 2, GPMC_LIST_MAX and GPMC_LIST_MAX + 1 elements. When a case breaks a
 * cross-constraint (e.g. k <= n), the generator repairs it by moving one parameter that
 * is not the case's subject (doubling it up to hi, or hi, or lo), found by asking
 * gpmc_spec_parse; the unrepaired spec is kept too (expected: exit 2 with a message). */
#include "gpmc/error.h"
#include "gpmc/experiment.h"
#include "gpmc/spec.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define MAXP 64
#define TXT 4096
#define TRIALS 3

enum { OMIT = 0, FIXED = 1, AXIS = 2 };

typedef struct {
    int mode;
    char key[160];
    char text[TXT];
} pval;

typedef struct {
    const gpmc_experiment *exp;
    char name[512];
    char tags[64];
    long trials;
    char seed[32];
    pval v[MAXP];
    int pinned[MAXP];
} kase;

static const char *outdir;
static FILE *cases_tsv;
static int next_id;
static size_t nemitted, nvalid;

/* ------------------------------------------------------------------ numbers */

static int is_int_type(gpmc_param_type t) { return t == GPMC_PARAM_INT || t == GPMC_PARAM_INT_LIST; }
static int is_list(gpmc_param_type t)
{
    return t == GPMC_PARAM_REAL_LIST || t == GPMC_PARAM_INT_LIST;
}
static int is_num(gpmc_param_type t) { return t == GPMC_PARAM_INT || t == GPMC_PARAM_REAL; }

static void fmt_num(double v, int is_int, char *buf, size_t len)
{
    if (is_int) {
        snprintf(buf, len, "%.0f", v);
        return;
    }
    snprintf(buf, len, "%.15g", v);
    if (strtod(buf, NULL) != v)
        snprintf(buf, len, "%.17g", v);
}

static double clampd(const gpmc_param_def *d, double v)
{
    if (v > d->max)
        v = d->max;
    if (v < d->min)
        v = d->min;
    return v;
}

/* The default as a number (scalars) or the largest default element (lists); NAN if none. */
static double def_num(const gpmc_param_def *d)
{
    if (!d->def)
        return NAN;
    if (!is_list(d->type))
        return strtod(d->def, NULL);
    double m = NAN;
    const char *s = d->def;
    while (*s) {
        char *end;
        double v = strtod(s, &end);
        if (end == s)
            break;
        m = isnan(m) || v > m ? v : m;
        s = end;
        while (*s == ',' || *s == ' ')
            s++;
    }
    return m;
}

/* base / lo / hi of a number or of one list element (see the top comment). */
static double v_base(const gpmc_param_def *d)
{
    double dv = def_num(d);
    if (is_int_type(d->type))
        return clampd(d, isnan(dv) ? 4 : fmin(dv, 16));
    return clampd(d, isnan(dv) ? 1 : dv);
}

static double v_lo(const gpmc_param_def *d)
{
    return is_int_type(d->type) ? d->min : clampd(d, fmax(d->min, -1e6));
}

static double v_hi(const gpmc_param_def *d)
{
    double dv = def_num(d);
    if (is_int_type(d->type))
        return clampd(d, isnan(dv) ? 16 : fmax(2 * dv, 16));
    if (d->flags & GPMC_PARAM_COSTLY)
        return clampd(d, isnan(dv) || dv <= 0 ? 1 : 2 * dv);
    if (d->max <= 1e6)
        return d->max;
    return clampd(d, isnan(dv) ? 1 : fmax(2 * fabs(dv), 1));
}

/* ------------------------------------------------------------------ cases */

static void set_text(kase *c, size_t i, int mode, const char *key, const char *text)
{
    c->v[i].mode = mode;
    snprintf(c->v[i].key, sizeof c->v[i].key, "%s", key ? key : c->exp->params[i].name);
    snprintf(c->v[i].text, sizeof c->v[i].text, "%s", text);
}

static void set_num(kase *c, size_t i, double v)
{
    char b[64];
    fmt_num(v, is_int_type(c->exp->params[i].type), b, sizeof b);
    set_text(c, i, FIXED, NULL, b);
}

static void set_list(kase *c, size_t i, int mode, const char *key, const double *v, size_t n)
{
    char b[TXT] = "";
    size_t pos = 0;
    for (size_t j = 0; j < n; j++) {
        char num[64];
        fmt_num(v[j], is_int_type(c->exp->params[i].type), num, sizeof num);
        pos += (size_t)snprintf(b + pos, sizeof b - pos, "%s%s", j ? ", " : "", num);
        if (pos >= sizeof b)
            break;
    }
    set_text(c, i, mode, key, b);
}

/* The i-th word of a CHOICE ("gaussian|truncated"), into buf; 0 if there is none. */
static int choice_word(const gpmc_param_def *d, size_t i, char *buf, size_t len)
{
    const char *s = d->choices ? d->choices : "";
    for (size_t j = 0; j < i; j++) {
        s = strchr(s, '|');
        if (!s)
            return 0;
        s++;
    }
    size_t l = strcspn(s, "|");
    if (l == 0 || l >= len)
        return 0;
    memcpy(buf, s, l);
    buf[l] = '\0';
    return 1;
}

static size_t nchoices(const gpmc_param_def *d)
{
    char b[256];
    size_t n = 0;
    while (choice_word(d, n, b, sizeof b))
        n++;
    return n;
}

/* Every parameter at its base value, nothing pinned. */
static void base_case(kase *c, const gpmc_experiment *exp, const char *name)
{
    memset(c, 0, sizeof *c);
    c->exp = exp;
    snprintf(c->name, sizeof c->name, "%s", name);
    c->trials = TRIALS;
    snprintf(c->seed, sizeof c->seed, "%d", 1000 + next_id);
    for (size_t i = 0; i < exp->nparams; i++) {
        const gpmc_param_def *d = &exp->params[i];
        switch (d->type) {
        case GPMC_PARAM_INT:
        case GPMC_PARAM_REAL:
            set_num(c, i, v_base(d));
            break;
        case GPMC_PARAM_BOOL:
            set_text(c, i, FIXED, NULL, d->def ? d->def : "false");
            break;
        case GPMC_PARAM_CHOICE: {
            char w[256] = "";
            if (d->def)
                snprintf(w, sizeof w, "%s", d->def);
            else
                choice_word(d, 0, w, sizeof w);
            set_text(c, i, FIXED, NULL, w);
            break;
        }
        case GPMC_PARAM_REAL_LIST:
        case GPMC_PARAM_INT_LIST:
            if (d->def) {
                set_text(c, i, FIXED, NULL, d->def);
            } else {
                double v = v_base(d);
                set_list(c, i, FIXED, NULL, &v, 1);
            }
            break;
        }
    }
}

static void spec_text(const kase *c, char *buf, size_t len)
{
    size_t pos = 0;
    pos += (size_t)snprintf(buf + pos, len - pos,
                            "# edge case: %s\n[run]\nexperiment = %s\ntrials = %ld\nseed = %s\n",
                            c->name, c->exp->name, c->trials, c->seed);
    int grid = 0;
    for (size_t i = 0; i < c->exp->nparams && pos < len; i++)
        if (c->v[i].mode == AXIS) {
            if (!grid++)
                pos += (size_t)snprintf(buf + pos, len - pos, "[grid]\n");
            pos += (size_t)snprintf(buf + pos, len - pos, "%s = %s\n", c->v[i].key, c->v[i].text);
        }
    if (pos < len)
        pos += (size_t)snprintf(buf + pos, len - pos, "[params]\n");
    for (size_t i = 0; i < c->exp->nparams && pos < len; i++)
        if (c->v[i].mode == FIXED)
            pos += (size_t)snprintf(buf + pos, len - pos, "%s = %s\n", c->v[i].key, c->v[i].text);
}

/* The library's verdict on the case's spec. */
static int valid(const kase *c)
{
    static char text[MAXP * (TXT + 200) + 512];
    spec_text(c, text, sizeof text);
    gpmc_spec spec;
    memset(&spec, 0, sizeof spec);
    int st = gpmc_spec_parse(&spec, "edge.ini", text, NULL, 0);
    gpmc_spec_free(&spec);
    gpmc_error_clear();
    return st == GPMC_OK;
}

static void write_case(const kase *c, int ok)
{
    static char text[MAXP * (TXT + 200) + 512];
    char path[4096];
    int id = next_id++;
    snprintf(path, sizeof path, "%s/%03d.ini", outdir, id);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "edge_specs: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    spec_text(c, text, sizeof text);
    fputs(text, f);
    fclose(f);
    fprintf(cases_tsv, "%03d\t%s\t%s\t%s\t%s\n", id, c->exp->name, c->name,
            c->tags[0] ? c->tags : "-", ok ? "run" : "refuse");
    nemitted++;
    nvalid += ok;
}

/* Move one parameter the case does not pin until the library accepts the spec; then all
 * unpinned INT parameters to hi, then to lo. Appends what moved to the name. */
static int repair(kase *c)
{
    const gpmc_experiment *exp = c->exp;
    for (size_t i = 0; i < exp->nparams; i++) {
        const gpmc_param_def *d = &exp->params[i];
        if (c->pinned[i] || c->v[i].mode != FIXED || d->type != GPMC_PARAM_INT)
            continue;
        pval saved = c->v[i];
        double cur = strtod(saved.text, NULL), lo = v_lo(d), hi = v_hi(d);
        double cand[40];
        size_t nc = 0;
        /* nearest first: cur x 2, cur / 2, cur x 4, cur / 4, ... (the smallest move that
         * satisfies the constraint), then hi and lo */
        for (double up = cur > 0 ? cur * 2 : 1, dn = floor(cur / 2); nc < 30 && (up < hi || dn > lo);
             up *= 2, dn = floor(dn / 2)) {
            if (up < hi)
                cand[nc++] = up;
            if (dn > lo)
                cand[nc++] = dn;
        }
        cand[nc++] = hi;
        cand[nc++] = lo;
        cand[nc++] = lo + 1;
        for (size_t j = 0; j < nc; j++) {
            if (cand[j] == cur || cand[j] < d->min || cand[j] > d->max)
                continue;
            set_num(c, i, cand[j]);
            if (valid(c)) {
                size_t l = strlen(c->name);
                snprintf(c->name + l, sizeof c->name - l, " [repaired: %s=%s]", d->name,
                         c->v[i].text);
                return 1;
            }
        }
        c->v[i] = saved;
    }
    for (int pass = 0; pass < 2; pass++) {
        kase t = *c;
        for (size_t i = 0; i < exp->nparams; i++)
            if (!c->pinned[i] && c->v[i].mode == FIXED && exp->params[i].type == GPMC_PARAM_INT)
                set_num(&t, i, pass ? v_lo(&exp->params[i]) : v_hi(&exp->params[i]));
        if (valid(&t)) {
            size_t l = strlen(t.name);
            snprintf(t.name + l, sizeof t.name - l, " [repaired: free integers at %s]",
                     pass ? "min" : "max");
            *c = t;
            return 1;
        }
    }
    return 0;
}

/* Write the case; if the library refuses it, write the repaired case (if a repair exists)
 * and the refused one too. */
static void emit(kase *c)
{
    if (valid(c)) {
        write_case(c, 1);
        return;
    }
    kase r = *c;
    if (repair(&r))
        write_case(&r, 1);
    size_t l = strlen(c->name);
    snprintf(c->name + l, sizeof c->name - l, "%s", " [as is]");
    c->tags[0] = '\0'; /* a refusal costs nothing: never worth a sanitizer or MPI slot */
    write_case(c, 0);
}

static void tag(kase *c, const char *t)
{
    size_t l = strlen(c->tags);
    snprintf(c->tags + l, sizeof c->tags - l, "%s%s", l ? "," : "", t);
}

/* ------------------------------------------------------------------ the sweep */

static void fmt_case_num(const gpmc_param_def *d, double v, char *b, size_t len)
{
    fmt_num(v, is_int_type(d->type), b, len);
}

/* One parameter at a value, everything else at base. */
static void single(const gpmc_experiment *exp, size_t i, const char *what, double v,
                   const char *tags)
{
    const gpmc_param_def *d = &exp->params[i];
    kase c;
    char num[64], name[256];
    fmt_case_num(d, v, num, sizeof num);
    snprintf(name, sizeof name, "%s=%s(%s)", d->name, what, num);
    base_case(&c, exp, name);
    set_num(&c, i, v);
    c.pinned[i] = 1;
    if (tags)
        tag(&c, tags);
    emit(&c);
}

static void single_text(const gpmc_experiment *exp, size_t i, const char *label,
                        const char *text, const char *tags)
{
    kase c;
    char name[512];
    snprintf(name, sizeof name, "%s=%s", exp->params[i].name, label);
    base_case(&c, exp, name);
    set_text(&c, i, FIXED, NULL, text);
    c.pinned[i] = 1;
    if (tags)
        tag(&c, tags);
    emit(&c);
}

static void sweep_scalar(const gpmc_experiment *exp, size_t i, int *first_int)
{
    const gpmc_param_def *d = &exp->params[i];
    double lo = v_lo(d), hi = v_hi(d), dv = def_num(d);
    if (d->type == GPMC_PARAM_BOOL) {
        single_text(exp, i, "false", "false", NULL);
        single_text(exp, i, "true", "true", NULL);
        return;
    }
    if (d->type == GPMC_PARAM_CHOICE) {
        char w[256];
        for (size_t j = 0; choice_word(d, j, w, sizeof w); j++)
            single_text(exp, i, w, w, NULL);
        return;
    }
    single(exp, i, "min", lo, *first_int ? "subset" : NULL);
    if (d->type == GPMC_PARAM_INT && lo + 1 < hi)
        single(exp, i, "min+1", lo + 1, NULL);
    if (hi != lo)
        single(exp, i, "max", hi, NULL);
    if (!isnan(dv) && dv != lo && dv != hi && dv != lo + 1)
        single(exp, i, "default", dv, NULL);
    if (d->type == GPMC_PARAM_REAL && lo < hi)
        single(exp, i, "mid", lo + (hi - lo) / 2, NULL);
    *first_int = 0;
}

static void sweep_list(const gpmc_experiment *exp, size_t i, int *first_list)
{
    const gpmc_param_def *d = &exp->params[i];
    double lo = v_lo(d), hi = v_hi(d), base = v_base(d);
    double ref = is_int_type(d->type) ? base : clampd(d, isnan(def_num(d)) ? 1 : 2 * def_num(d));
    if (ref < lo)
        ref = lo;
    double v[GPMC_LIST_MAX + 1];
    kase c;
    char name[256];
    struct { const char *label; size_t n; } lens[] = {
        {"len 1 at min", 1}, {"len 1 at max", 1}, {"len 2 (min, max)", 2},
        {"len LIST_MAX", GPMC_LIST_MAX}, {"len LIST_MAX+1", GPMC_LIST_MAX + 1},
        {"unsorted with a duplicate", 3},
    };
    for (size_t L = 0; L < sizeof lens / sizeof lens[0]; L++) {
        size_t n = lens[L].n;
        if (L == 0)
            v[0] = lo;
        else if (L == 1)
            v[0] = hi;
        else if (L == 2) {
            v[0] = lo;
            v[1] = hi;
        } else if (L == 5) {
            v[0] = hi;
            v[1] = lo;
            v[2] = lo;
        } else {
            /* n - 1 values spread over [lo, ref] (the useful range), then hi */
            for (size_t j = 0; j + 1 < n; j++) {
                double x = lo + (ref - lo) * (double)j / (double)(n - 2);
                v[j] = is_int_type(d->type) ? round(x) : x;
            }
            v[n - 1] = hi;
        }
        snprintf(name, sizeof name, "%s=%s%s", d->name, lens[L].label,
                 n == GPMC_LIST_MAX ? " (64)" : n == GPMC_LIST_MAX + 1 ? " (65)" : "");
        base_case(&c, exp, name);
        set_list(&c, i, FIXED, NULL, v, n);
        c.pinned[i] = 1;
        if (*first_list && (n == 1 || n == GPMC_LIST_MAX) && L != 1)
            tag(&c, "subset");
        emit(&c);
    }
    /* a list parameter cannot be a grid axis: the spec must be refused */
    snprintf(name, sizeof name, "grid %s (a list parameter as an axis)", d->name);
    base_case(&c, exp, name);
    set_text(&c, i, AXIS, NULL, d->def ? d->def : c.v[i].text);
    c.pinned[i] = 1;
    emit(&c);
    *first_list = 0;
}

/* Grid axes of one parameter: one value; a log range whose rounding drops duplicates
 * (INT) or snaps values (REAL); a linear range whose step does not reach the stop. */
static void sweep_axis(const gpmc_experiment *exp, size_t i, int *first_axis)
{
    const gpmc_param_def *d = &exp->params[i];
    double lo = v_lo(d), hi = v_hi(d), base = v_base(d);
    int isint = d->type == GPMC_PARAM_INT;
    char a[64], b[64], s[64], text[256], name[1024];
    kase c;

    fmt_case_num(d, base, a, sizeof a);
    snprintf(name, sizeof name, "grid %s = %s (one value)", d->name, a);
    base_case(&c, exp, name);
    set_text(&c, i, AXIS, NULL, a);
    c.pinned[i] = 1;
    emit(&c);

    double l0 = lo > 0 ? lo : isint ? 1 : fmin(1e-3, hi);
    double h0 = isint ? fmin(hi, l0 + 6) : hi;
    if (l0 > 0 && h0 > l0) {
        fmt_case_num(d, l0, a, sizeof a);
        fmt_case_num(d, h0, b, sizeof b);
        snprintf(text, sizeof text, "log:%s:%s:%d", a, b, isint ? 12 : 5);
        snprintf(name, sizeof name, "grid %s = %s (%s)", d->name, text,
                 isint ? "rounded, duplicates dropped" : "snapped");
        base_case(&c, exp, name);
        set_text(&c, i, AXIS, NULL, text);
        c.pinned[i] = 1;
        if (*first_axis && isint)
            tag(&c, "subset");
        emit(&c);
    }
    if (hi > lo) {
        double step = isint ? fmax(1, floor((hi - lo) / 3)) : (hi - lo) / 3.5;
        fmt_case_num(d, lo, a, sizeof a);
        fmt_case_num(d, hi, b, sizeof b);
        fmt_num(step, isint, s, sizeof s);
        snprintf(text, sizeof text, "%s:%s:%s", a, b, s);
        snprintf(name, sizeof name, "grid %s = %s (range)", d->name, text);
        base_case(&c, exp, name);
        set_text(&c, i, AXIS, NULL, text);
        c.pinned[i] = 1;
        emit(&c);
    }
    *first_axis = 0;
}

/* Ratio axes a/b between size parameters (hashed INT): rounding repeats values, which the
 * spec refuses (duplicate grid points): that refusal as is, and the case repaired to run. */
static void sweep_ratio(const gpmc_experiment *exp, size_t a, size_t b, int first)
{
    static const char *sets[] = {"1, 1.1, 1.2, 1.3, 2", "0.5, 0.55, 0.6, 1"};
    const gpmc_param_def *da = &exp->params[a], *db = &exp->params[b];
    char key[160], name[512];
    snprintf(key, sizeof key, "%s/%s", da->name, db->name);
    kase c, first_c;
    int done = 0;
    for (size_t s = 0; s < 2 && !done; s++) {
        snprintf(name, sizeof name, "grid %s = %s (ratio, repeated values)", key, sets[s]);
        base_case(&c, exp, name);
        set_text(&c, a, AXIS, key, sets[s]);
        c.pinned[a] = 1;
        if (first)
            tag(&c, "mpi,subset");
        if (s == 0)
            first_c = c;
        kase r = c;
        if (valid(&r)) {
            write_case(&r, 1);
            done = 1;
        } else if (repair(&r)) {
            write_case(&r, 1);
            size_t l = strlen(c.name);
            snprintf(c.name + l, sizeof c.name - l, "%s", " [as is]");
            c.tags[0] = '\0'; /* a refusal: no sanitizer or MPI slot */
            write_case(&c, 0);
            done = 1;
        }
    }
    if (!done)
        emit(&first_c);
    if (!first)
        return;
    /* the ratio of an axis: b on an axis of two values */
    snprintf(name, sizeof name, "grid %s = 1, 1.5 with %s an axis", key, db->name);
    base_case(&c, exp, name);
    set_text(&c, a, AXIS, key, "1, 1.5");
    double vb = v_base(db);
    double bv[2] = {vb, clampd(db, vb + 1) == vb ? clampd(db, vb - 1) : clampd(db, vb + 1)};
    set_list(&c, b, AXIS, NULL, bv, bv[1] != bv[0] ? 2 : 1);
    c.pinned[a] = c.pinned[b] = 1;
    emit(&c);
}

/* Two numeric axes (first two hashed INT/REAL): the first valid of a few shapes. */
static void sweep_2d(const gpmc_experiment *exp, size_t a, size_t b)
{
    const gpmc_param_def *da = &exp->params[a], *db = &exp->params[b];
    double va[3][2], vb[3][2];
    const gpmc_param_def *ds[2] = {da, db};
    double (*vs[2])[2] = {va, vb};
    for (int k = 0; k < 2; k++) {
        const gpmc_param_def *d = ds[k];
        double lo = v_lo(d), hi = v_hi(d), base = v_base(d), st = d->type == GPMC_PARAM_INT ? 1 : (hi - lo) / 8;
        vs[k][0][0] = base;
        vs[k][0][1] = clampd(d, base + st);
        vs[k][1][0] = clampd(d, hi - st);
        vs[k][1][1] = hi;
        vs[k][2][0] = lo;
        vs[k][2][1] = clampd(d, lo + st);
    }
    static const int shape[3][2] = {{0, 0}, {1, 2}, {2, 1}};
    kase c, first_c;
    char name[512];
    for (int s = 0; s < 3; s++) {
        const double *xa = va[shape[s][0]], *xb = vb[shape[s][1]];
        char ta[160], tb[160], n1[64], n2[64];
        fmt_case_num(da, xa[0], n1, sizeof n1);
        fmt_case_num(da, xa[1], n2, sizeof n2);
        snprintf(ta, sizeof ta, "%s, %s", n1, n2);
        fmt_case_num(db, xb[0], n1, sizeof n1);
        fmt_case_num(db, xb[1], n2, sizeof n2);
        snprintf(tb, sizeof tb, "%s, %s", n1, n2);
        snprintf(name, sizeof name, "grid %s = %s x %s = %s", da->name, ta, db->name, tb);
        base_case(&c, exp, name);
        set_text(&c, a, AXIS, NULL, ta);
        set_text(&c, b, AXIS, NULL, tb);
        c.pinned[a] = c.pinned[b] = 1;
        tag(&c, "mpi");
        if (s == 0)
            first_c = c;
        kase r = c;
        if (valid(&r) || repair(&r)) {
            write_case(&r, 1);
            return;
        }
    }
    emit(&first_c);
}

/* Every word of a CHOICE (or both BOOL values) as one grid axis. */
static void sweep_word_axis(const gpmc_experiment *exp, size_t i)
{
    const gpmc_param_def *d = &exp->params[i];
    char text[1024] = "", w[256], name[1200];
    if (d->type == GPMC_PARAM_BOOL) {
        snprintf(text, sizeof text, "false, true");
    } else {
        size_t pos = 0;
        for (size_t j = 0; choice_word(d, j, w, sizeof w) && pos < sizeof text; j++)
            pos += (size_t)snprintf(text + pos, sizeof text - pos, "%s%s", j ? ", " : "", w);
    }
    snprintf(name, sizeof name, "grid %s = %s", d->name, text);
    kase c;
    base_case(&c, exp, name);
    set_text(&c, i, AXIS, NULL, text);
    c.pinned[i] = 1;
    emit(&c);
}

/* Every parameter at one end at once. */
static void sweep_all(const gpmc_experiment *exp, int hi_end)
{
    kase c;
    base_case(&c, exp, hi_end ? "all at max (lists of LIST_MAX, booleans true, last choice)"
                              : "all at min (lists of one element at min)");
    tag(&c, "subset");
    if (hi_end)
        tag(&c, "mpi");
    for (size_t i = 0; i < exp->nparams; i++) {
        const gpmc_param_def *d = &exp->params[i];
        double lo = v_lo(d), hi = v_hi(d);
        switch (d->type) {
        case GPMC_PARAM_INT:
        case GPMC_PARAM_REAL:
            set_num(&c, i, hi_end ? hi : lo);
            break;
        case GPMC_PARAM_BOOL:
            set_text(&c, i, FIXED, NULL, hi_end ? "true" : "false");
            break;
        case GPMC_PARAM_CHOICE: {
            char w[256];
            size_t n = nchoices(d);
            if (n && choice_word(d, hi_end ? n - 1 : 0, w, sizeof w))
                set_text(&c, i, FIXED, NULL, w);
            break;
        }
        case GPMC_PARAM_REAL_LIST:
        case GPMC_PARAM_INT_LIST: {
            double v[GPMC_LIST_MAX];
            size_t n = hi_end ? GPMC_LIST_MAX : 1;
            for (size_t j = 0; j < n; j++)
                v[j] = n == 1 ? lo : lo + (hi - lo) * (double)j / (double)(n - 1);
            if (is_int_type(d->type))
                for (size_t j = 0; j < n; j++)
                    v[j] = round(v[j]);
            set_list(&c, i, FIXED, NULL, v, n);
            break;
        }
        }
    }
    emit(&c);
}

/* Budgets that can be switched off (INT with min 0): all off, and one at 1, 2, 3 with
 * the others off, where "a quarter of the budget" and similar splits round to zero. */
static void sweep_zeros(const gpmc_experiment *exp)
{
    size_t z[MAXP], nz = 0;
    for (size_t i = 0; i < exp->nparams; i++)
        if (exp->params[i].type == GPMC_PARAM_INT && exp->params[i].min == 0 &&
            exp->params[i].max >= 3)
            z[nz++] = i;
    if (nz == 0)
        return;
    char name[512];
    size_t pos = 0;
    pos += (size_t)snprintf(name + pos, sizeof name - pos, "off:");
    for (size_t j = 0; j < nz; j++)
        pos += (size_t)snprintf(name + pos, sizeof name - pos, " %s=0", exp->params[z[j]].name);
    kase c;
    base_case(&c, exp, name);
    tag(&c, "subset");
    for (size_t j = 0; j < nz; j++) {
        set_num(&c, z[j], 0);
        c.pinned[z[j]] = 1;
    }
    emit(&c);
    if (nz < 2)
        return;
    for (size_t j = 0; j < nz; j++)
        for (int v = 1; v <= 3; v++) {
            pos = 0;
            pos += (size_t)snprintf(name + pos, sizeof name - pos, "tiny: %s=%d, others off",
                                    exp->params[z[j]].name, v);
            base_case(&c, exp, name);
            if (j == 0 && v == 1)
                tag(&c, "subset");
            for (size_t q = 0; q < nz; q++) {
                set_num(&c, z[q], q == j ? v : 0);
                c.pinned[z[q]] = 1;
            }
            emit(&c);
        }
}

/* The search/solver budgets (NOHASH INT) all at their minimum. */
static void sweep_budgets_min(const gpmc_experiment *exp)
{
    kase c;
    base_case(&c, exp, "every budget (not in the stream key) at min");
    int any = 0;
    for (size_t i = 0; i < exp->nparams; i++) {
        const gpmc_param_def *d = &exp->params[i];
        if (d->type == GPMC_PARAM_INT && (d->flags & GPMC_PARAM_NOHASH)) {
            set_num(&c, i, v_lo(d));
            c.pinned[i] = 1;
            any = 1;
        }
    }
    if (any)
        emit(&c);
}

static void sweep_run(const gpmc_experiment *exp)
{
    kase c;
    base_case(&c, exp, "all defaults (required parameters at base)");
    tag(&c, "subset");
    for (size_t i = 0; i < exp->nparams; i++)
        if (exp->params[i].def)
            c.v[i].mode = OMIT;
    emit(&c);

    base_case(&c, exp, "trials=1 on 3 ranks (fewer tasks than ranks)");
    c.trials = 1;
    tag(&c, "mpi,subset");
    emit(&c);
    base_case(&c, exp, "trials=1");
    c.trials = 1;
    emit(&c);
    base_case(&c, exp, "trials=7 on 3 ranks");
    c.trials = 7;
    tag(&c, "mpi");
    emit(&c);
    base_case(&c, exp, "trials=40");
    c.trials = 40;
    emit(&c);
    base_case(&c, exp, "trials=0");
    c.trials = 0;
    emit(&c);
    base_case(&c, exp, "seed=0");
    snprintf(c.seed, sizeof c.seed, "0");
    emit(&c);
    base_case(&c, exp, "seed=2^64-1");
    snprintf(c.seed, sizeof c.seed, "18446744073709551615");
    emit(&c);
}

static void sweep(const gpmc_experiment *exp)
{
    if (exp->nparams > MAXP) {
        fprintf(stderr, "edge_specs: %s has %zu parameters, more than %d\n", exp->name,
                exp->nparams, MAXP);
        exit(1);
    }
    sweep_run(exp);
    sweep_all(exp, 0);
    sweep_all(exp, 1);
    sweep_zeros(exp);
    sweep_budgets_min(exp);
    int first_int = 1, first_list = 1, first_axis = 1;
    for (size_t i = 0; i < exp->nparams; i++) {
        gpmc_param_type t = exp->params[i].type;
        if (is_list(t))
            sweep_list(exp, i, &first_list);
        else
            sweep_scalar(exp, i, &first_int);
    }
    for (size_t i = 0; i < exp->nparams; i++) {
        gpmc_param_type t = exp->params[i].type;
        if (is_num(t))
            sweep_axis(exp, i, &first_axis);
        else if (t == GPMC_PARAM_BOOL || t == GPMC_PARAM_CHOICE)
            sweep_word_axis(exp, i);
    }
    /* size parameters: hashed numbers (the sampled objects depend on them) */
    size_t sz[MAXP], ns = 0;
    for (size_t i = 0; i < exp->nparams; i++)
        if (exp->params[i].type == GPMC_PARAM_INT && !(exp->params[i].flags & GPMC_PARAM_NOHASH))
            sz[ns++] = i;
    int first = 1;
    for (size_t x = 0; x < ns && x < 3; x++)
        for (size_t y = 0; y < ns && y < 3; y++)
            if (x != y) {
                sweep_ratio(exp, sz[x], sz[y], first);
                first = 0;
            }
    size_t nn[MAXP], nnum = 0;
    for (size_t i = 0; i < exp->nparams; i++)
        if (is_num(exp->params[i].type) && !(exp->params[i].flags & GPMC_PARAM_NOHASH))
            nn[nnum++] = i;
    if (nnum >= 2)
        sweep_2d(exp, nn[0], nn[1]);
}

static const char *type_word(gpmc_param_type t)
{
    switch (t) {
    case GPMC_PARAM_INT: return "int";
    case GPMC_PARAM_REAL: return "real";
    case GPMC_PARAM_BOOL: return "bool";
    case GPMC_PARAM_CHOICE: return "choice";
    case GPMC_PARAM_REAL_LIST: return "real_list";
    case GPMC_PARAM_INT_LIST: return "int_list";
    }
    return "?";
}

/* A table cell: tabs and newlines become spaces, NULL becomes "". */
static void cell(FILE *f, const char *s, int last)
{
    for (; s && *s; s++)
        fputc(*s == '\t' || *s == '\n' ? ' ' : *s, f);
    fputc(last ? '\n' : '\t', f);
}

static FILE *open_out(const char *name)
{
    char path[4096];
    snprintf(path, sizeof path, "%s/%s", outdir, name);
    FILE *f = fopen(path, "w");
    if (!f) {
        fprintf(stderr, "edge_specs: cannot write %s: %s\n", path, strerror(errno));
        exit(1);
    }
    return f;
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: edge_specs OUTDIR\n");
        return 2;
    }
    outdir = argv[1];
    mkdir(outdir, 0777);
    cases_tsv = open_out("cases.tsv");
    FILE *pt = open_out("params.tsv"), *ft = open_out("fields.tsv");
    for (size_t e = 0; gpmc_experiments[e]; e++) {
        const gpmc_experiment *exp = gpmc_experiments[e];
        for (size_t i = 0; i < exp->nparams; i++) {
            const gpmc_param_def *d = &exp->params[i];
            char mn[64], mx[64], fl[16];
            fmt_num(d->min, 0, mn, sizeof mn);
            fmt_num(d->max, 0, mx, sizeof mx);
            snprintf(fl, sizeof fl, "%u", d->flags);
            cell(pt, exp->name, 0);
            cell(pt, d->name, 0);
            cell(pt, type_word(d->type), 0);
            cell(pt, d->def, 0);
            cell(pt, mn, 0);
            cell(pt, mx, 0);
            cell(pt, fl, 0);
            cell(pt, d->choices, 1);
        }
        for (size_t i = 0; i < exp->nfields; i++) {
            const gpmc_field_def *d = &exp->fields[i];
            char fl[16];
            snprintf(fl, sizeof fl, "%u", d->flags);
            cell(ft, exp->name, 0);
            cell(ft, d->name, 0);
            cell(ft, d->shape, 0);
            cell(ft, d->when, 0);
            cell(ft, d->threshold, 0);
            cell(ft, fl, 0);
            cell(ft, d->units, 0);
            cell(ft, d->doc, 1);
        }
        sweep(exp);
    }
    fclose(pt);
    fclose(ft);
    fclose(cases_tsv);
    fprintf(stderr, "edge_specs: %zu cases, %zu accepted by the spec parser\n", nemitted, nvalid);
    return 0;
}
