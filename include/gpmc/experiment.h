/* The experiment interface. Every condition and recovery problem is one static
 * descriptor: a parameter table (parsed, validated and documented by the driver),
 * an output field table (the HDF5 layout follows from it), and a trial() that fills
 * one record from one random stream and a workspace created once per grid point. */
#ifndef GPMC_EXPERIMENT_H
#define GPMC_EXPERIMENT_H

#include "gpmc/error.h"

#include <gsl/gsl_rng.h>
#include <stddef.h>
#include <stdint.h>

typedef enum {
    GPMC_PARAM_INT,       /* integer; can be a grid axis */
    GPMC_PARAM_REAL,      /* real; can be a grid axis */
    GPMC_PARAM_BOOL,      /* true/false/1/0/yes/no */
    GPMC_PARAM_CHOICE,    /* one word of `choices` ("gaussian|truncated"); value = its index */
    GPMC_PARAM_REAL_LIST, /* comma-separated reals, fixed (never a grid axis) */
    GPMC_PARAM_INT_LIST   /* comma-separated integers, fixed (e.g. layer widths) */
} gpmc_param_type;

enum {
    /* A search or solver budget: left out of the stream key, so changing it keeps the
     * sampled matrices of every trial and shows what the extra effort buys. */
    GPMC_PARAM_NOHASH = 1u << 0,
    /* A trial's duration grows with this REAL without bound (e.g. a sleep): smoke tests
     * such as the edge sweep keep it at most twice its default (1 if the default is 0). */
    GPMC_PARAM_COSTLY = 1u << 1
};

typedef struct {
    const char *name;
    gpmc_param_type type;
    const char *def;     /* default, in spec syntax; NULL means required */
    double min, max;     /* inclusive range of numbers and of every list element */
    const char *choices; /* GPMC_PARAM_CHOICE only: words separated by '|' */
    unsigned flags;
    const char *doc;
} gpmc_param_def;

#define GPMC_LIST_MAX 64

typedef struct {
    double num;                   /* INT, REAL, BOOL (0/1), CHOICE (index) */
    size_t len;                   /* lists: number of elements */
    double list[GPMC_LIST_MAX];   /* lists: the elements */
} gpmc_value;

enum {
    GPMC_FIELD_TIMING = 1u << 0,  /* wall-clock: stored under /timing, not reproducible */
    GPMC_FIELD_SUCCESS = 1u << 1  /* 0/1 success flag: /summary/success gets rate and CI */
};

typedef struct {
    const char *name;
    /* NULL: one number per trial, stored in /trials/<name> (P, T).
     * Otherwise the per-trial array shape as comma-separated integer parameter names,
     * literals, or "#list" for the number of elements of a list parameter ("k", "n,k",
     * "2,k", "#widths,k"): stored as /points/<p>/<name> (T, dims...). */
    const char *shape;
    const char *when;      /* array fields: name of a BOOL parameter that enables it, or NULL */
    const char *threshold; /* scalar fields: a REAL_LIST parameter t; the summary reports
                              P(field <= t_j) with Clopper-Pearson intervals */
    unsigned flags;
    const char *units;
    const char *doc;
} gpmc_field_def;

#define GPMC_MAX_RANK 4

/* Where each field of one grid point lives in a flat record buffer of doubles. */
typedef struct {
    size_t nfields;
    size_t *offset;     /* [nfields] */
    size_t *len;        /* [nfields]: 1 for scalars, prod(dims) for arrays, 0 if disabled */
    int *rank;          /* [nfields]: 0 for scalars */
    size_t (*dims)[GPMC_MAX_RANK];
    size_t total;
} gpmc_layout;

typedef struct {
    const gpmc_layout *layout;
    double *data;       /* layout->total doubles; the driver fills it with NaN first */
} gpmc_record;

static inline double *gpmc_record_field(gpmc_record *rec, size_t field)
{
    return rec->data + rec->layout->offset[field];
}

static inline void gpmc_record_set(gpmc_record *rec, size_t field, double v)
{
    rec->data[rec->layout->offset[field]] = v;
}

struct gpmc_experiment;

/* One grid point: a value for every parameter of the experiment, in table order. */
typedef struct {
    const struct gpmc_experiment *exp;
    size_t index;        /* p, the point's row in the output */
    const gpmc_value *values;
    uint64_t key;        /* hash of the hashed parameters' canonical values */
} gpmc_point;

/* Parameter access by table index (fast) or by name (aborts on a name the table lacks:
 * that is a programming error in the experiment, not a user error). */
static inline long gpmc_point_int_at(const gpmc_point *pt, size_t i) { return (long)pt->values[i].num; }
static inline double gpmc_point_real_at(const gpmc_point *pt, size_t i) { return pt->values[i].num; }
size_t gpmc_param_index(const struct gpmc_experiment *exp, const char *name); /* nparams if absent */
const gpmc_value *gpmc_point_value(const gpmc_point *pt, const char *name);
long gpmc_point_int(const gpmc_point *pt, const char *name);
double gpmc_point_real(const gpmc_point *pt, const char *name);

/* A trial's random numbers: `r` is positioned at substream 0 of the trial's stream;
 * gpmc_stream_substream() moves to another independent substream of the same trial. */
typedef struct {
    gsl_rng *r;
    uint64_t seed, point_key, trial;
    /* Long trials poll this between batches (search rounds, solver iterations): non-zero
     * means a stop was requested, and the trial returns GPMC_ESTOPPED at once; the driver
     * discards it and checkpoints. Numerics stays free of MPI and signals: the driver
     * passes the function. NULL: never stop. */
    int (*stop_requested)(void);
} gpmc_stream;

void gpmc_stream_substream(gpmc_stream *s, uint32_t sub);

/* GPMC_ESTOPPED if the trial should end now (a stop was requested), else GPMC_OK. */
static inline int gpmc_stream_poll(const gpmc_stream *s)
{
    return s && s->stop_requested && s->stop_requested() ? GPMC_ESTOPPED : GPMC_OK;
}

typedef struct gpmc_experiment {
    const char *name;
    const char *summary;
    /* 1: a tool for testing gpmc itself (e.g. the scheduler), listed apart from the science
     * under "diagnostics" by `gpmc list`. */
    int diagnostic;
    const gpmc_param_def *params;
    size_t nparams;
    const gpmc_field_def *fields;
    size_t nfields;
    /* Cross-parameter constraints (e.g. k <= n). Return 0, or non-zero after writing a
     * message naming the parameters into msg. NULL: none. */
    int (*check)(const gpmc_point *pt, char *msg, size_t msglen);
    /* Everything a trial needs, sized once per point; NULL on allocation failure. */
    void *(*workspace_alloc)(const gpmc_point *pt);
    /* Bytes workspace_alloc(pt) will take (SIZE_MAX if it overflows): the driver's memory
     * estimate refuses a spec that cannot fit before any compute. NULL: negligible. */
    size_t (*workspace_bytes)(const gpmc_point *pt);
    /* Relative cost of one trial at pt (any unit: only ratios between points matter),
     * for the ETA and the dispatch order before a point's own trials are measured.
     * NULL: learned from finished trials alone. */
    double (*trial_cost)(const gpmc_point *pt);
    void (*workspace_free)(void *ws);
    /* Fill `rec` from `s` alone (plus the point's parameters). Must not read state left in
     * `ws` by an earlier trial. Return GPMC_OK or a status after gpmc_error(). */
    int (*trial)(const gpmc_point *pt, gpmc_stream *s, void *ws, gpmc_record *rec);
} gpmc_experiment;

/* The registry (src/experiments/registry.c). */
extern const gpmc_experiment *const gpmc_experiments[];
const gpmc_experiment *gpmc_experiment_find(const char *name);

/* Build the record layout of a point from the field table. GPMC_OK or error. */
int gpmc_layout_init(gpmc_layout *lay, const gpmc_experiment *exp, const gpmc_value *values);
void gpmc_layout_free(gpmc_layout *lay);

#endif
