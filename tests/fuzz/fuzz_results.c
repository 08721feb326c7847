/* libFuzzer harness for the result-file readers, run by `make fuzz`:
 * gpmc_h5_read_origin() and gpmc_stored_run_open(&run, path, 1) (origin, spec rebuilt from
 * the stored text, plan, every stored trial), then the per-point statistics `gpmc info`
 * prints from them.
 *
 * Raw-byte corruption inside libhdf5 is out of scope. The input is a "recipe": bytes read
 * as a sequence of mutation choices, applied through the HDF5 API to a well-formed gpmc file
 * that LLVMFuzzerInitialize writes once with the gpmc library itself (gpmc_spec_parse,
 * gpmc_plan_init, gpmc_results_init, gpmc_h5_write; a tiny wdc spec with two points,
 * three trials, array fields and stored matrices). Each input opens that file's image in
 * memory (core driver, no backing store), mutates it, takes the image back
 * (H5Fget_file_image), writes it to one file in /dev/shm and runs the readers on it. They
 * must return GPMC_OK or an error status: never crash, trip a sanitizer or leak.
 *
 * Recipe: up to MAX_OPS operations, each an op byte followed by its argument bytes (missing
 * bytes read as 0). The lists of datasets and groups the readers open (under /trials,
 * /timing, /points) and of root attributes are taken from the base file at start-up
 * (H5Ovisit), so an index picks "the i-th dataset" whatever the layout is:
 *   RESHAPE   recreate a dataset with rank 1..32, dims 0..4 and one of the types below
 *   RETYPE    same shape, another type (float/int widths, strings, enum, compound, array)
 *   RESIZE    same rank and type, one dimension changed
 *   FILL      overwrite a dataset's values (0, 1, 255, -1, NaN, inf, huge, input bytes)
 *   DELETE    unlink a dataset or group            ATTRDEL   delete a root attribute
 *   ATTRSET   replace a root attribute: string (dictionary or input bytes), fixed-length
 *             string, int64/uint64/int8/double/float scalars (dictionary or raw), arrays of
 *             n strings or numbers, a null dataspace, an enum
 *   SPECEDIT  edit the stored spec text: overwrite/insert/delete bytes, truncate, insert a
 *             dictionary line ("trials = 2147483647", "k = 1:100000:1", "[grid]", ...)
 *   OVERRIDES replace the stored overrides ("n=400\n", "grid.k=5,10\n", input bytes)
 *   CONSIST   set "trials" or "seed" in both the attribute and the spec text, so the
 *             reader gets past its consistency check to the datasets
 *   SWAP      a dataset becomes a group, or a group a dataset
 *   LINK      a dataset or group becomes a soft link (dangling, to itself, to another
 *             object) or an external link
 *   CHUNKED   recreate a dataset chunked, deflated and extendible (same shape and type)
 *
 * Guard: grids and trial counts are only limited by the spec parser (10^6 points, 2^31
 * trials), so a mutated spec can make the reader allocate terabytes, which is an honest
 * ENOMEM in production but an out-of-memory report here. The harness parses the stored
 * spec itself first and skips gpmc_stored_run_open when P*T*record exceeds MAX_CELLS.
 *
 * libhdf5 is not instrumented, so ASan cannot see it write past a caller's buffer (an
 * extent of rank 6 into an hsize_t[5], an attribute of 3 strings into one char *). This
 * file therefore interposes the three HDF5 calls that write into caller memory sized by
 * what is in the file: H5Sget_simple_extent_dims, H5Aread and H5Dread (H5S_ALL) call the
 * real function into a buffer of the size the file needs, then memcpy it to the caller's
 * buffer, so an overflow is an ASan report in the gpmc frame that passed the buffer.
 *
 * FUZZ_RESULTS_KEEP=1 keeps the last mutated file (path printed at start) for h5dump;
 * FUZZ_RESULTS_LIST=1 prints the dataset, group and attribute indices at start;
 * FUZZ_RESULTS_VERBOSE=1 prints what each reader returned. */
#define _GNU_SOURCE /* RTLD_NEXT */
#include "gpmc/error.h"
#include "gpmc/h5io.h"
#include "gpmc/plan.h"
#include "gpmc/results.h"
#include "gpmc/spec.h"
#include "gpmc/stored_run.h"
#include "gpmc/summary.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <gsl/gsl_errno.h>
#include <hdf5.h>
#include <math.h>
#include <sanitizer/common_interface_defs.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_OPS 12
#define MAX_ELEMS 4096          /* elements of a recreated dataset */
#define MAX_CELLS 2000000.0     /* doubles the reader may allocate for one file */
#define MAX_NAMES 256

int LLVMFuzzerInitialize(int *argc, char ***argv);
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const char base_spec[] =
    "# fuzz_results base file: 2 points x 3 trials, array fields and stored matrices.\n"
    "[run]\n"
    "experiment = wdc\n"
    "trials = 3\n"
    "seed = 7\n"
    "\n"
    "[grid]\n"
    "k = 2, 3\n"
    "n/k = 2\n"
    "\n"
    "[params]\n"
    "pairs = 10\n"
    "search = 10\n"
    "eps = 0.25, 0.5\n"
    "store_matrices = true\n";

static unsigned char *base_img;
static size_t base_len;
static char file_path[256];
static char *dsets[MAX_NAMES], *groups[MAX_NAMES], *attrs[MAX_NAMES];
static size_t ndsets, ngroups, nattrs;
static unsigned long image_counter;

/* ---- HDF5 calls made visible to ASan (see the top comment) ---- */

static void *real_fn(const char *name)
{
    void *f = dlsym(RTLD_NEXT, name);
    if (!f) {
        fprintf(stderr, "fuzz_results: dlsym(%s) failed\n", name);
        abort();
    }
    return f;
}

int H5Sget_simple_extent_dims(hid_t space_id, hsize_t dims[], hsize_t maxdims[])
{
    static int (*real)(hid_t, hsize_t *, hsize_t *);
    if (!real)
        *(void **)&real = real_fn("H5Sget_simple_extent_dims");
    hsize_t d[H5S_MAX_RANK + 1], m[H5S_MAX_RANK + 1];
    int rank = real(space_id, dims ? d : NULL, maxdims ? m : NULL);
    if (rank > 0 && rank <= H5S_MAX_RANK) {
        if (dims)
            memcpy(dims, d, (size_t)rank * sizeof *d);
        if (maxdims)
            memcpy(maxdims, m, (size_t)rank * sizeof *m);
    }
    return rank;
}

/* Bytes that reading n elements of mem_type writes, or 0 when unknown. */
static size_t read_bytes(hssize_t n, hid_t mem_type)
{
    size_t sz = H5Tget_size(mem_type);
    return n >= 0 && sz ? (size_t)n * sz : 0;
}

herr_t H5Aread(hid_t attr_id, hid_t type_id, void *buf)
{
    static herr_t (*real)(hid_t, hid_t, void *);
    if (!real)
        *(void **)&real = real_fn("H5Aread");
    hid_t s = H5Aget_space(attr_id);
    hssize_t n = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    if (s >= 0)
        H5Sclose(s);
    size_t bytes = read_bytes(n, type_id);
    void *tmp = bytes && buf ? calloc(1, bytes) : NULL;
    if (!tmp)
        return real(attr_id, type_id, buf);
    herr_t r = real(attr_id, type_id, tmp);
    if (r >= 0)
        memcpy(buf, tmp, bytes);
    free(tmp);
    return r;
}

herr_t H5Dread(hid_t dset_id, hid_t mem_type_id, hid_t mem_space_id, hid_t file_space_id,
               hid_t plist_id, void *buf)
{
    static herr_t (*real)(hid_t, hid_t, hid_t, hid_t, hid_t, void *);
    if (!real)
        *(void **)&real = real_fn("H5Dread");
    if (mem_space_id != H5S_ALL || file_space_id != H5S_ALL || !buf)
        return real(dset_id, mem_type_id, mem_space_id, file_space_id, plist_id, buf);
    hid_t s = H5Dget_space(dset_id);
    hssize_t n = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    if (s >= 0)
        H5Sclose(s);
    size_t bytes = read_bytes(n, mem_type_id);
    void *tmp = bytes ? calloc(1, bytes) : NULL;
    if (!tmp)
        return real(dset_id, mem_type_id, mem_space_id, file_space_id, plist_id, buf);
    herr_t r = real(dset_id, mem_type_id, H5S_ALL, H5S_ALL, plist_id, tmp);
    if (r >= 0)
        memcpy(buf, tmp, bytes);
    free(tmp);
    return r;
}

/* ---- the recipe reader ---- */

typedef struct {
    const uint8_t *p;
    size_t n;
} recipe;

static unsigned u8(recipe *r)
{
    if (!r->n)
        return 0;
    r->n--;
    return *r->p++;
}

static unsigned u16(recipe *r)
{
    unsigned a = u8(r);
    return a | u8(r) << 8;
}

static uint64_t u64(recipe *r)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v |= (uint64_t)u8(r) << (8 * i);
    return v;
}

/* n input bytes as a NUL-terminated string (no NUL inside). */
static void bytes_str(recipe *r, char *out, size_t n)
{
    size_t i = 0;
    for (; i < n && r->n; i++) {
        unsigned c = u8(r);
        out[i] = c ? (char)c : ' ';
    }
    out[i] = '\0';
}

/* ---- start-up: write the base file through the gpmc library ---- */

static void die(const char *what)
{
    fprintf(stderr, "fuzz_results: init: %s: %s\n", what, gpmc_error_message());
    abort();
}

static herr_t visit(hid_t obj, const char *name, const H5O_info_t *info, void *op)
{
    (void)obj;
    (void)op;
    /* Only what the readers open: the trials, timing and per-point arrays (grid, params,
     * code and summary are written for h5py users and never read back). */
    if (strncmp(name, "trials", 6) && strncmp(name, "timing", 6) && strncmp(name, "points", 6))
        return 0;
    if (info->type == H5O_TYPE_DATASET && ndsets < MAX_NAMES)
        dsets[ndsets++] = strdup(name);
    else if (info->type == H5O_TYPE_GROUP && ngroups < MAX_NAMES)
        groups[ngroups++] = strdup(name);
    return 0;
}

static herr_t visit_attr(hid_t loc, const char *name, const H5A_info_t *info, void *op)
{
    (void)loc;
    (void)info;
    (void)op;
    if (nattrs < MAX_NAMES)
        attrs[nattrs++] = strdup(name);
    return 0;
}

static void write_base(const char *path)
{
    char *ov[] = {"angles=16"};
    gpmc_spec spec;
    gpmc_plan plan;
    gpmc_results res;
    if (gpmc_spec_parse(&spec, "fuzz_base.ini", base_spec, ov, 1))
        die("base spec");
    if (gpmc_plan_init(&plan, &spec, 0, 1))
        die("plan");
    if (gpmc_results_init(&res, &plan))
        die("results");
    double *rec = malloc(plan.max_record * sizeof *rec);
    if (!rec)
        die("out of memory");
    for (size_t p = 0; p < plan.P; p++)
        for (size_t t = 0; t + 1 < plan.T; t++) { /* the last trial of each point stays to do */
            for (size_t i = 0; i < plan.max_record; i++)
                rec[i] = 0.01 * (double)(i + 1) + (double)(p + t);
            gpmc_results_put(&res, p, t, rec, 0.5, (int)t);
        }
    gpmc_h5_meta meta = {"gpmc run fuzz_base.ini --set angles=16", "2026-01-01T00:00:00Z", 1, 0};
    if (gpmc_h5_write(path, &res, &meta, NULL))
        die("gpmc_h5_write");
    free(rec);
    gpmc_results_free(&res);
    gpmc_plan_free(&plan);
    gpmc_spec_free(&spec);
}

/* A sanitizer report ends the process before the input's file is removed. */
static void remove_file(void)
{
    if (!getenv("FUZZ_RESULTS_KEEP"))
        unlink(file_path);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    (void)argc;
    (void)argv;
    __sanitizer_set_death_callback(remove_file);
    gsl_set_error_handler_off();
    H5Eset_auto2(H5E_DEFAULT, NULL, NULL);

    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    snprintf(file_path, sizeof file_path, "%s/gpmc-fuzz-results-%ld.h5", dir, (long)getpid());
    write_base(file_path);

    FILE *f = fopen(file_path, "rb");
    if (!f)
        die("cannot reopen the base file");
    fseek(f, 0, SEEK_END);
    base_len = (size_t)ftell(f);
    fseek(f, 0, SEEK_SET);
    base_img = malloc(base_len);
    if (!base_img || fread(base_img, 1, base_len, f) != base_len)
        die("cannot read the base file");
    fclose(f);

    /* The base file must read back cleanly, or the harness tests nothing. */
    gpmc_stored_run run;
    if (gpmc_stored_run_open(&run, file_path, 1))
        die("the base file does not read back");
    gpmc_stored_run_close(&run);

    hid_t file = H5Fopen(file_path, H5F_ACC_RDONLY, H5P_DEFAULT);
    if (file < 0)
        die("H5Fopen base");
    H5Ovisit(file, H5_INDEX_NAME, H5_ITER_INC, visit, NULL);
    H5Aiterate2(file, H5_INDEX_NAME, H5_ITER_INC, NULL, visit_attr, NULL);
    H5Fclose(file);
    if (!getenv("FUZZ_RESULTS_KEEP"))
        remove(file_path);
    fprintf(stderr, "fuzz_results: base file %zu bytes, %zu datasets, %zu groups, %zu root "
                    "attributes; mutated files go to %s\n",
            base_len, ndsets, ngroups, nattrs, file_path);
    if (getenv("FUZZ_RESULTS_LIST")) /* the indices recipes pick from */
        for (size_t i = 0; i < MAX_NAMES; i++)
            if (i < ndsets || i < ngroups || i < nattrs)
                fprintf(stderr, "  %3zu  dataset %-36s group %-20s attribute %s\n", i,
                        i < ndsets ? dsets[i] : "", i < ngroups ? groups[i] : "",
                        i < nattrs ? attrs[i] : "");
    return 0;
}

/* ---- types and values ---- */

enum { NTYPES = 14 };

/* Type number k (mod NTYPES); the caller closes it. */
static hid_t make_type(unsigned k)
{
    hid_t t;
    switch (k % NTYPES) {
    case 0: return H5Tcopy(H5T_NATIVE_UINT8);
    case 1: return H5Tcopy(H5T_NATIVE_INT8);
    case 2: return H5Tcopy(H5T_NATIVE_INT32);
    case 3: return H5Tcopy(H5T_NATIVE_UINT32);
    case 4: return H5Tcopy(H5T_NATIVE_LLONG);
    case 5: return H5Tcopy(H5T_NATIVE_ULLONG);
    case 6: return H5Tcopy(H5T_NATIVE_FLOAT);
    case 7: return H5Tcopy(H5T_NATIVE_DOUBLE);
    case 8: return H5Tcopy(H5T_IEEE_F64BE);
    case 9:
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        return t;
    case 10:
        t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, 8);
        return t;
    case 11: {
        t = H5Tenum_create(H5T_NATIVE_UINT8);
        unsigned char a = 0, b = 1;
        H5Tenum_insert(t, "FALSE", &a);
        H5Tenum_insert(t, "TRUE", &b);
        return t;
    }
    case 12:
        t = H5Tcreate(H5T_COMPOUND, 16);
        H5Tinsert(t, "a", 0, H5T_NATIVE_DOUBLE);
        H5Tinsert(t, "b", 8, H5T_NATIVE_LLONG);
        return t;
    default: {
        hsize_t d[1] = {2};
        return H5Tarray_create2(H5T_NATIVE_DOUBLE, 1, d);
    }
    }
}

/* A buffer of n elements of type t: zeros, vlen strings pointing at "1". */
static void *zero_buffer(hid_t t, size_t n)
{
    size_t sz = H5Tget_size(t);
    if (!sz)
        return NULL;
    void *buf = calloc(n + 1, sz);
    if (buf && H5Tis_variable_str(t) > 0)
        for (size_t i = 0; i < n; i++)
            ((const char **)buf)[i] = "1";
    return buf;
}

/* Replace dataset `name` by one of the given rank, dims and type (data zeros). */
static void recreate(hid_t file, const char *name, int rank, const hsize_t *dims, hid_t type,
                     int chunked)
{
    size_t n = 1;
    for (int i = 0; i < rank; i++)
        n *= (size_t)dims[i];
    if (n > MAX_ELEMS)
        return;
    H5Ldelete(file, name, H5P_DEFAULT);
    hid_t space = H5Screate_simple(rank, dims, NULL);
    hid_t dcpl = H5Pcreate(H5P_DATASET_CREATE);
    if (chunked && space >= 0) {
        hsize_t chunk[H5S_MAX_RANK], maxd[H5S_MAX_RANK];
        for (int i = 0; i < rank; i++) {
            chunk[i] = dims[i] ? dims[i] : 1;
            maxd[i] = H5S_UNLIMITED;
        }
        H5Sclose(space);
        space = H5Screate_simple(rank, dims, maxd);
        H5Pset_chunk(dcpl, rank, chunk);
        H5Pset_deflate(dcpl, 1);
    }
    hid_t d = space < 0 ? -1 : H5Dcreate2(file, name, type, space, H5P_DEFAULT, dcpl, H5P_DEFAULT);
    void *buf = zero_buffer(type, n);
    if (d >= 0 && buf && n)
        H5Dwrite(d, type, H5S_ALL, H5S_ALL, H5P_DEFAULT, buf);
    free(buf);
    if (d >= 0)
        H5Dclose(d);
    H5Pclose(dcpl);
    if (space >= 0)
        H5Sclose(space);
}

/* Current rank, dims and type of a dataset (type -1 on failure). */
static int describe(hid_t file, const char *name, hsize_t *dims, hid_t *type)
{
    *type = -1;
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0)
        return -1;
    hid_t s = H5Dget_space(d);
    int rank = s < 0 ? -1 : H5Sget_simple_extent_ndims(s);
    if (rank >= 0 && rank <= H5S_MAX_RANK)
        H5Sget_simple_extent_dims(s, dims, NULL);
    else
        rank = -1;
    *type = H5Dget_type(d);
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
    return rank;
}

/* ---- attributes ---- */

static int attr_put(hid_t loc, const char *name, hid_t type, int rank, const hsize_t *dims,
                    const void *data)
{
    if (H5Aexists(loc, name) > 0)
        H5Adelete(loc, name);
    hid_t space = rank < 0 ? H5Screate(H5S_NULL)
                : rank == 0 ? H5Screate(H5S_SCALAR) : H5Screate_simple(rank, dims, NULL);
    hid_t a = space < 0 ? -1 : H5Acreate2(loc, name, type, space, H5P_DEFAULT, H5P_DEFAULT);
    herr_t w = (a < 0 || rank < 0) ? 0 : H5Awrite(a, type, data);
    if (a >= 0)
        H5Aclose(a);
    if (space >= 0)
        H5Sclose(space);
    return a < 0 || w < 0 ? -1 : 0;
}

static int attr_put_str(hid_t loc, const char *name, const char *v)
{
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    H5Tset_cset(t, H5T_CSET_UTF8);
    int st = attr_put(loc, name, t, 0, NULL, &v);
    H5Tclose(t);
    return st;
}

static char *attr_get_str(hid_t loc, const char *name)
{
    hid_t a = H5Aopen(loc, name, H5P_DEFAULT);
    if (a < 0)
        return NULL;
    hid_t s = H5Aget_space(a);
    char *copy = NULL;
    hid_t t = H5Tcopy(H5T_C_S1);
    H5Tset_size(t, H5T_VARIABLE);
    /* Only a scalar string of our own making is read back (mutated ones are left alone). */
    if (s >= 0 && H5Sget_simple_extent_type(s) == H5S_SCALAR) {
        hid_t at = H5Aget_type(a);
        char *v = NULL;
        if (at >= 0 && H5Tis_variable_str(at) > 0 && H5Aread(a, t, &v) >= 0 && v) {
            copy = strdup(v);
            H5free_memory(v);
        }
        if (at >= 0)
            H5Tclose(at);
    }
    H5Tclose(t);
    if (s >= 0)
        H5Sclose(s);
    H5Aclose(a);
    return copy;
}

static const char *const str_dict[] = {
    "", "gpmc", "GPMC", "gpmc\n", "1", "0", "2", "-1", "5/2", "0/0", "1/-3", "0/1", "1/2",
    "4294967295/4294967296", "99999999999999999999/1", "1/", "/", "a/b", " 0 / 1 ", "wdc",
    "nope", "0.1.0", "\xff\xfe", "[run]\nexperiment = wdc\n", "n=400\n", "grid.k=5,10\n",
    "\n\n\n", "trials=1\n", "k=2\n", "%s%s%n", "x=\n", "=\n", "run.seed=3\n",
};
#define NSTR (sizeof str_dict / sizeof *str_dict)

static const long long int_dict[] = {
    0, 1, -1, 2, 3, 5, 7, 10, 255, 256, 65535, 2147483647LL, 2147483648LL, -2147483648LL,
    4294967295LL, 4294967296LL, 1000000000000LL, INT64_MAX, INT64_MIN,
};
#define NINT (sizeof int_dict / sizeof *int_dict)

static const double dbl_dict[] = {0.0, 1.0, -1.0, 3.0, 7.0, 0.5, 1e300, -1e300, 1e-310,
                                  2147483648.0, 9.3e18, 1.8446744073709552e19};

static double dbl_value(recipe *r)
{
    unsigned k = u8(r) % 16;
    if (k < 12)
        return dbl_dict[k];
    if (k == 12)
        return NAN;
    if (k == 13)
        return INFINITY;
    if (k == 14)
        return -INFINITY;
    uint64_t bits = u64(r);
    double d;
    memcpy(&d, &bits, sizeof d);
    return d;
}

static void op_attrset(hid_t file, recipe *r)
{
    static const char *const extra[] = {"format", "format_version", "spec", "spec_path",
                                        "overrides", "shard", "seed", "trials", "experiment"};
    unsigned pick = u8(r);
    const char *name = pick < 2 * (unsigned)(sizeof extra / sizeof *extra)
                           ? extra[pick % (sizeof extra / sizeof *extra)]
                           : (nattrs ? attrs[pick % nattrs] : "format");
    unsigned kind = u8(r) % 14;
    char sbuf[80];
    hsize_t dims[2] = {1 + u8(r) % 8, 1 + u8(r) % 3};
    switch (kind) {
    case 0: /* string from the dictionary */
        attr_put_str(file, name, str_dict[u8(r) % NSTR]);
        break;
    case 1: /* string from input bytes */
        bytes_str(r, sbuf, u8(r) % 64);
        attr_put_str(file, name, sbuf);
        break;
    case 2: { /* fixed-length string */
        const char *s = str_dict[u8(r) % NSTR];
        hid_t t = H5Tcopy(H5T_C_S1);
        size_t len = 1 + u8(r) % 32;
        H5Tset_size(t, len);
        char fixed[40] = {0};
        strncpy(fixed, s, sizeof fixed - 1);
        attr_put(file, name, t, 0, NULL, fixed);
        H5Tclose(t);
        break;
    }
    case 3: { /* int64 scalar, dictionary */
        long long v = int_dict[u8(r) % NINT];
        attr_put(file, name, H5T_NATIVE_LLONG, 0, NULL, &v);
        break;
    }
    case 4: { /* int64 scalar, raw */
        long long v = (long long)u64(r);
        attr_put(file, name, H5T_NATIVE_LLONG, 0, NULL, &v);
        break;
    }
    case 5: { /* uint64 scalar */
        unsigned long long v = (unsigned long long)int_dict[u8(r) % NINT];
        attr_put(file, name, H5T_NATIVE_ULLONG, 0, NULL, &v);
        break;
    }
    case 6: { /* int8 scalar */
        signed char v = (signed char)u8(r);
        attr_put(file, name, H5T_NATIVE_SCHAR, 0, NULL, &v);
        break;
    }
    case 7: { /* double scalar */
        double v = dbl_value(r);
        attr_put(file, name, H5T_NATIVE_DOUBLE, 0, NULL, &v);
        break;
    }
    case 8: { /* float scalar */
        float v = (float)dbl_value(r);
        attr_put(file, name, H5T_NATIVE_FLOAT, 0, NULL, &v);
        break;
    }
    case 9: { /* array of n vlen strings */
        const char *v[8];
        for (size_t i = 0; i < 8; i++)
            v[i] = str_dict[u8(r) % NSTR];
        hid_t t = H5Tcopy(H5T_C_S1);
        H5Tset_size(t, H5T_VARIABLE);
        attr_put(file, name, t, 1, dims, v);
        H5Tclose(t);
        break;
    }
    case 10: { /* array of n int64, rank 1 or 2 */
        long long v[24];
        for (size_t i = 0; i < 24; i++)
            v[i] = int_dict[u8(r) % NINT];
        attr_put(file, name, H5T_NATIVE_LLONG, 1 + (int)(u8(r) % 2), dims, v);
        break;
    }
    case 11: { /* null dataspace, string or number type */
        hid_t t = H5Tcopy(u8(r) % 2 ? H5T_NATIVE_LLONG : H5T_C_S1);
        if (H5Tget_class(t) == H5T_STRING)
            H5Tset_size(t, H5T_VARIABLE);
        attr_put(file, name, t, -1, NULL, NULL);
        H5Tclose(t);
        break;
    }
    case 12: { /* array of n doubles */
        double v[8];
        for (size_t i = 0; i < 8; i++)
            v[i] = dbl_value(r);
        attr_put(file, name, H5T_NATIVE_DOUBLE, 1, dims, v);
        break;
    }
    default: { /* another type altogether (enum, compound, array, opaque-ish) */
        hid_t t = make_type(11 + u8(r) % 3);
        void *buf = zero_buffer(t, 1);
        if (buf)
            attr_put(file, name, t, 0, NULL, buf);
        free(buf);
        H5Tclose(t);
        break;
    }
    }
}

/* ---- the spec text ---- */

static const char *const line_dict[] = {
    "trials = 2147483647\n", "trials = 1\n", "trials = 0\n", "trials = -1\n", "trials = 4\n",
    "seed = 18446744073709551615\n", "seed = 7\n", "seed = -1\n", "k = 1:100000:1\n",
    "k = 2\n", "k = 5, 10, 20\n", "n = log:10:1000:8\n", "n/k = log:2:100:6\n", "[grid]\n",
    "[run]\n", "[params]\n", "[other]\n", "experiment = wdc\n", "experiment = nope\n",
    "store_matrices = false\n", "eps = 0.1, 0.2\n", "ensemble = truncated\n", "n = 6\n",
    "k = 0\n", "n/k = 0.5\n", "search = 0\n", "pairs = 1\n", "#\n", "\n", "x\n",
};
#define NLINES (sizeof line_dict / sizeof *line_dict)

static char *spec_edit(const char *text, recipe *r)
{
    size_t len = strlen(text);
    char *out = malloc(len + 128);
    if (!out)
        return NULL;
    size_t pos = len ? u16(r) % (len + 1) : 0;
    switch (u8(r) % 5) {
    case 0: /* overwrite one byte */
        memcpy(out, text, len + 1);
        if (pos < len) {
            unsigned c = u8(r);
            out[pos] = c ? (char)c : '\n';
        }
        break;
    case 1: { /* insert one byte */
        unsigned c = u8(r);
        memcpy(out, text, pos);
        out[pos] = c ? (char)c : '\n';
        memcpy(out + pos + 1, text + pos, len - pos + 1);
        break;
    }
    case 2: { /* delete up to 16 bytes */
        size_t k = 1 + u8(r) % 16;
        if (pos + k > len)
            k = len - pos;
        memcpy(out, text, pos);
        memcpy(out + pos, text + pos + k, len - pos - k + 1);
        break;
    }
    case 3: /* truncate */
        memcpy(out, text, pos);
        out[pos] = '\0';
        break;
    default: { /* insert a dictionary line at the start of the line holding pos */
        while (pos > 0 && text[pos - 1] != '\n')
            pos--;
        const char *line = line_dict[u8(r) % NLINES];
        size_t ll = strlen(line);
        memcpy(out, text, pos);
        memcpy(out + pos, line, ll);
        memcpy(out + pos + ll, text + pos, len - pos + 1);
        break;
    }
    }
    return out;
}

static void op_specedit(hid_t file, recipe *r)
{
    char *text = attr_get_str(file, "spec");
    if (!text)
        return;
    char *edited = spec_edit(text, r);
    if (edited)
        attr_put_str(file, "spec", edited);
    free(edited);
    free(text);
}

static void op_overrides(hid_t file, recipe *r)
{
    char buf[256] = "";
    unsigned n = u8(r) % 4;
    if (u8(r) % 4 == 0) {
        bytes_str(r, buf, u8(r) % 64);
    } else {
        for (unsigned i = 0; i < n; i++) {
            const char *s = str_dict[u8(r) % NSTR];
            if (strlen(buf) + strlen(s) + 1 < sizeof buf)
                strcat(buf, s);
        }
    }
    attr_put_str(file, "overrides", buf);
}

/* Set trials or seed in both the attribute and the spec text's [run] line. */
static void op_consist(hid_t file, recipe *r)
{
    static const long long trials[] = {1, 2, 3, 4, 5, 16, 1000, 1000000, 2147483647};
    int seed = u8(r) % 2;
    long long v = seed ? (long long)(u8(r) % 8) : trials[u8(r) % 9];
    char *text = attr_get_str(file, "spec");
    if (!text)
        return;
    const char *key = seed ? "seed" : "trials";
    char *out = malloc(strlen(text) + 64);
    if (out) {
        /* Replace the value on the first line starting with the key. */
        size_t kl = strlen(key);
        char *o = out;
        int done = 0;
        for (const char *line = text; *line;) {
            const char *nl = strchr(line, '\n');
            size_t ll = nl ? (size_t)(nl - line + 1) : strlen(line);
            if (!done && !strncmp(line, key, kl) && (line[kl] == ' ' || line[kl] == '=')) {
                o += sprintf(o, "%s = %lld\n", key, v);
                done = 1;
            } else {
                memcpy(o, line, ll);
                o += ll;
            }
            line += ll;
        }
        *o = '\0';
        attr_put_str(file, "spec", out);
        free(out);
    }
    free(text);
    if (seed) {
        unsigned long long u = (unsigned long long)v;
        attr_put(file, "seed", H5T_NATIVE_ULLONG, 0, NULL, &u);
    } else {
        attr_put(file, "trials", H5T_NATIVE_LLONG, 0, NULL, &v);
    }
}

/* ---- datasets ---- */

static void op_fill(hid_t file, const char *name, recipe *r)
{
    hid_t d = H5Dopen2(file, name, H5P_DEFAULT);
    if (d < 0)
        return;
    hid_t s = H5Dget_space(d);
    hssize_t n = s < 0 ? -1 : H5Sget_simple_extent_npoints(s);
    unsigned kind = u8(r) % 9;
    if (n > 0 && n <= MAX_ELEMS) {
        double *v = malloc((size_t)n * sizeof *v);
        if (v) {
            for (hssize_t i = 0; i < n; i++) {
                static const double vals[] = {0, 1, 255, -1, NAN, INFINITY, 1e300, 2};
                v[i] = kind < 8 ? vals[kind] : (double)(int8_t)u8(r);
            }
            H5Dwrite(d, H5T_NATIVE_DOUBLE, H5S_ALL, H5S_ALL, H5P_DEFAULT, v);
            free(v);
        }
    }
    if (s >= 0)
        H5Sclose(s);
    H5Dclose(d);
}

static void op_link(hid_t file, const char *name, recipe *r)
{
    char target[512];
    unsigned kind = u8(r) % 4;
    if (kind == 0)
        snprintf(target, sizeof target, "/no/such/object");
    else if (kind == 1)
        snprintf(target, sizeof target, "/%s", name); /* a loop */
    else
        snprintf(target, sizeof target, "/%s",
                 ndsets ? dsets[u8(r) % ndsets] : "trials/done");
    H5Ldelete(file, name, H5P_DEFAULT);
    if (kind == 3 && u8(r) % 2)
        H5Lcreate_external("/nonexistent/gpmc-fuzz.h5", "/x", file, name, H5P_DEFAULT,
                           H5P_DEFAULT);
    else
        H5Lcreate_soft(target, file, name, H5P_DEFAULT, H5P_DEFAULT);
}

static void op_swap(hid_t file, recipe *r)
{
    if (u8(r) % 2 && ndsets) { /* dataset -> group */
        const char *name = dsets[u8(r) % ndsets];
        H5Ldelete(file, name, H5P_DEFAULT);
        hid_t g = H5Gcreate2(file, name, H5P_DEFAULT, H5P_DEFAULT, H5P_DEFAULT);
        if (g >= 0)
            H5Gclose(g);
    } else if (ngroups) { /* group -> dataset */
        const char *name = groups[u8(r) % ngroups];
        hsize_t dims[1] = {3};
        recreate(file, name, 1, dims, H5T_NATIVE_DOUBLE, 0);
    }
}

enum { OP_RESHAPE, OP_RETYPE, OP_RESIZE, OP_FILL, OP_DELETE, OP_ATTRDEL, OP_ATTRSET,
       OP_SPECEDIT, OP_OVERRIDES, OP_CONSIST, OP_SWAP, OP_LINK, OP_CHUNKED, NOPS };

static void apply(hid_t file, recipe *r)
{
    unsigned op = u8(r) % NOPS;
    const char *ds = ndsets ? dsets[u8(r) % ndsets] : "trials/done";
    hsize_t dims[H5S_MAX_RANK];
    hid_t type;
    int rank;
    switch (op) {
    case OP_RESHAPE: {
        rank = 1 + (int)(u8(r) % H5S_MAX_RANK);
        for (int i = 0; i < rank; i++)
            dims[i] = u8(r) % 5;
        type = make_type(u8(r));
        recreate(file, ds, rank, dims, type, 0);
        H5Tclose(type);
        break;
    }
    case OP_RETYPE:
        rank = describe(file, ds, dims, &type);
        if (type >= 0)
            H5Tclose(type);
        if (rank >= 0) {
            type = make_type(u8(r));
            recreate(file, ds, rank, dims, type, 0);
            H5Tclose(type);
        }
        break;
    case OP_RESIZE:
        rank = describe(file, ds, dims, &type);
        if (rank > 0) {
            unsigned i = u8(r) % (unsigned)rank;
            unsigned how = u8(r) % 4;
            dims[i] = how == 0 ? 0 : how == 1 ? dims[i] + 1 : how == 2 ? (dims[i] ? dims[i] - 1 : 0)
                                                                      : u8(r) % 8;
            recreate(file, ds, rank, dims, type, 0);
        }
        if (type >= 0)
            H5Tclose(type);
        break;
    case OP_FILL:
        op_fill(file, ds, r);
        break;
    case OP_DELETE: {
        unsigned k = u8(r);
        const char *name = (k & 1) && ngroups ? groups[(k >> 1) % ngroups] : ds;
        H5Ldelete(file, name, H5P_DEFAULT);
        break;
    }
    case OP_ATTRDEL:
        if (nattrs)
            H5Adelete(file, attrs[u8(r) % nattrs]);
        break;
    case OP_ATTRSET:
        op_attrset(file, r);
        break;
    case OP_SPECEDIT:
        op_specedit(file, r);
        break;
    case OP_OVERRIDES:
        op_overrides(file, r);
        break;
    case OP_CONSIST:
        op_consist(file, r);
        break;
    case OP_SWAP:
        op_swap(file, r);
        break;
    case OP_LINK: {
        unsigned k = u8(r);
        op_link(file, (k & 1) && ngroups ? groups[(k >> 1) % ngroups] : ds, r);
        break;
    }
    default:
        rank = describe(file, ds, dims, &type);
        if (rank > 0)
            recreate(file, ds, rank, dims, type, 1);
        if (type >= 0)
            H5Tclose(type);
        break;
    }
}

/* ---- one input ---- */

/* Mutate the base image by the recipe; the new image (malloc'd) or NULL. */
static unsigned char *mutate(recipe *r, size_t *len)
{
    hid_t fapl = H5Pcreate(H5P_FILE_ACCESS);
    H5Pset_fapl_core(fapl, 1 << 16, 0);
    H5Pset_fclose_degree(fapl, H5F_CLOSE_STRONG);
    H5Pset_file_image(fapl, base_img, base_len);
    char name[64];
    snprintf(name, sizeof name, "fuzz-image-%lu.h5", image_counter++);
    hid_t file = H5Fopen(name, H5F_ACC_RDWR, fapl);
    H5Pclose(fapl);
    if (file < 0) {
        fprintf(stderr, "fuzz_results: cannot open the base image in memory\n");
        abort();
    }
    for (int i = 0; i < MAX_OPS && r->n; i++)
        apply(file, r);
    unsigned char *img = NULL;
    if (H5Fflush(file, H5F_SCOPE_GLOBAL) >= 0) {
        ssize_t n = H5Fget_file_image(file, NULL, 0);
        img = n > 0 ? malloc((size_t)n) : NULL;
        if (img && H5Fget_file_image(file, img, (size_t)n) != n) {
            free(img);
            img = NULL;
        }
        *len = n > 0 ? (size_t)n : 0;
    }
    H5Fclose(file);
    return img;
}

/* Would gpmc_stored_run_open allocate more than MAX_CELLS doubles for this file? */
static int too_big(const gpmc_h5_origin *o)
{
    gpmc_spec spec;
    if (gpmc_spec_parse(&spec, o->spec_path, o->spec_text, o->overrides, o->noverrides))
        return 0; /* the reader fails at the same place */
    double P = (double)gpmc_spec_npoints(&spec), T = (double)spec.trials;
    int big = P * T * 3 > MAX_CELLS;
    if (!big) {
        gpmc_plan plan;
        if (gpmc_plan_init(&plan, &spec, 0, 1) == GPMC_OK) {
            big = P * T * (double)plan.max_record > MAX_CELLS;
            gpmc_plan_free(&plan);
        }
    }
    gpmc_spec_free(&spec);
    return big;
}

static void summarise(const gpmc_stored_run *run)
{
    const gpmc_plan *plan = &run->plan;
    const gpmc_experiment *exp = plan->exp;
    double *scratch = malloc((plan->T + 1) * sizeof *scratch);
    if (!scratch)
        return;
    for (size_t p = 0; p < plan->P; p++)
        for (size_t f = 0; f < exp->nfields; f++) {
            if (exp->fields[f].shape)
                continue;
            gpmc_field_stats s;
            gpmc_summary_field(&run->res, p, f, scratch, &s);
            size_t k, n;
            if (gpmc_summary_is_success(exp, f))
                gpmc_summary_count_success(&run->res, p, f, &k, &n);
            if (exp->fields[f].threshold) {
                const gpmc_value *thr = &run->spec.fixed[gpmc_param_index(exp, exp->fields[f].threshold)];
                for (size_t e = 0; e < thr->len; e++)
                    gpmc_summary_count_le(&run->res, p, f, thr->list[e], &k, &n);
            }
        }
    free(scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    recipe r = {data, size};
    size_t len = 0;
    unsigned char *img = mutate(&r, &len);
    if (!img)
        return 0;
    int fd = open(file_path, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    if (fd < 0) {
        free(img);
        return 0;
    }
    ssize_t w = write(fd, img, len);
    close(fd);
    free(img);
    if (w != (ssize_t)len)
        return 0;

    gpmc_h5_origin o;
    int st = gpmc_h5_read_origin(file_path, &o);
    int skip = 0;
    if (st == GPMC_OK) {
        skip = too_big(&o);
        gpmc_h5_origin_free(&o);
    }
    if (getenv("FUZZ_RESULTS_VERBOSE"))
        fprintf(stderr, "fuzz_results: read_origin: %d %s%s\n", st,
                st ? gpmc_error_message() : "", skip ? " (too big: skipped)" : "");
    if (!skip) {
        gpmc_stored_run run;
        st = gpmc_stored_run_open(&run, file_path, 1);
        if (st == GPMC_OK)
            summarise(&run);
        if (getenv("FUZZ_RESULTS_VERBOSE"))
            fprintf(stderr, "fuzz_results: stored_run_open: %d %s\n", st,
                    st ? gpmc_error_message() : "");
        gpmc_stored_run_close(&run);
    }
    gpmc_error_clear();
    if (!getenv("FUZZ_RESULTS_KEEP"))
        unlink(file_path);
    return 0;
}
