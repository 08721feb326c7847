/* Experiment specs: an INI file read with inih, command-line overrides, then validation
 * of every value and every grid point against the experiment's parameter table.
 *
 * The parse runs in three stages so that every message can name the file, the line and
 * the key: (1) inih collects every (section, key, value, line) entry, a reader of our own
 * counting lines (Debian's inih has no INI_HANDLER_LINENO); (2) the overrides replace or
 * add entries, remembering the command-line text in place of a line; (3) the entries are
 * interpreted: [run], then [params] and [grid] against the parameter table, then every
 * grid point is built and given to the experiment's check(). */
#include "gpmc/spec.h"
#include "gpmc/error.h"
#include "gpmc/rng.h"

#include <ini.h>

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define AXIS_MAX 100000           /* values in one grid axis */
#define POINTS_MAX 1000000        /* grid points in one spec */
#define SPEC_MAX_BYTES (16L << 20)
#define INT_EXACT 9007199254740992.0 /* 2^53: INT values beyond it are not exact doubles */

static const char *const run_keys[] = {"experiment", "trials", "seed", NULL};

/* ---------------------------------------------------------------- collected entries */

typedef struct {
    char *section, *key, *value;
    int line;        /* line in the file; 0 for a command-line override */
    const char *ovr; /* the override's text (owned by the spec) when line == 0 */
} entry;

typedef struct {
    char *name;
    int line;
} header;

typedef struct {
    const char *path;
    entry *e;
    size_t n, cap;
    header *h;
    size_t nh, hcap;
    int oom;
    /* the reader's position */
    const char *text;
    size_t pos;
    int line;
    int at_line_start;
} parser;

static void parser_free(parser *ps)
{
    for (size_t i = 0; i < ps->n; i++) {
        free(ps->e[i].section);
        free(ps->e[i].key);
        free(ps->e[i].value);
    }
    free(ps->e);
    for (size_t i = 0; i < ps->nh; i++)
        free(ps->h[i].name);
    free(ps->h);
    memset(ps, 0, sizeof *ps);
}

static int push_entry(parser *ps, const char *section, const char *key, const char *value,
                      int line, const char *ovr)
{
    if (ps->n == ps->cap) {
        size_t cap = ps->cap ? 2 * ps->cap : 16;
        entry *e = realloc(ps->e, cap * sizeof *e);
        if (!e)
            return -1;
        ps->e = e;
        ps->cap = cap;
    }
    entry *e = &ps->e[ps->n];
    e->section = strdup(section);
    e->key = strdup(key);
    e->value = strdup(value);
    e->line = line;
    e->ovr = ovr;
    if (!e->section || !e->key || !e->value) {
        free(e->section);
        free(e->key);
        free(e->value);
        return -1;
    }
    ps->n++;
    return 0;
}

static int is_space(char c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\n' || c == '\f' || c == '\v';
}

/* Section headers are seen here rather than in the handler, because inih reports
 * a section only through its keys: an empty misspelled section would go unnoticed. */
static void note_header(parser *ps, const char *line, size_t len)
{
    size_t i = 0;
    if (ps->line == 1 && len >= 3 && !memcmp(line, "\xEF\xBB\xBF", 3))
        i = 3;
    while (i < len && is_space(line[i]))
        i++;
    if (i >= len || line[i] != '[')
        return;
    size_t start = ++i;
    while (i < len && line[i] != ']')
        i++;
    if (i >= len)
        return; /* inih reports the syntax error */
    if (ps->nh == ps->hcap) {
        size_t cap = ps->hcap ? 2 * ps->hcap : 8;
        header *h = realloc(ps->h, cap * sizeof *h);
        if (!h) {
            ps->oom = 1;
            return;
        }
        ps->h = h;
        ps->hcap = cap;
    }
    char *name = malloc(i - start + 1);
    if (!name) {
        ps->oom = 1;
        return;
    }
    memcpy(name, line + start, i - start);
    name[i - start] = '\0';
    ps->h[ps->nh].name = name;
    ps->h[ps->nh].line = ps->line;
    ps->nh++;
}

/* fgets() over the text, counting lines: every handler call knows its line. */
static char *reader(char *str, int num, void *stream)
{
    parser *ps = stream;
    if (num < 2 || ps->text[ps->pos] == '\0')
        return NULL;
    if (ps->at_line_start)
        ps->line++;
    size_t i = 0;
    while (i + 1 < (size_t)num && ps->text[ps->pos] != '\0') {
        char c = ps->text[ps->pos++];
        str[i++] = c;
        if (c == '\n')
            break;
    }
    str[i] = '\0';
    ps->at_line_start = i > 0 && str[i - 1] == '\n';
    note_header(ps, str, i);
    return str;
}

static int handler(void *user, const char *section, const char *name, const char *value)
{
    parser *ps = user;
    if (push_entry(ps, section, name, value ? value : "", ps->line, NULL)) {
        ps->oom = 1;
        return 0;
    }
    return 1;
}

/* inih's behaviour is set through globals in Debian's build: set what we need for the
 * duration of one parse and restore it afterwards. */
static char inline_prefixes[] = ";#";

static int run_inih(parser *ps, const char *text)
{
    size_t longest = 0, cur = 0;
    for (const char *p = text; *p; p++) {
        cur++;
        if (*p == '\n') {
            longest = cur > longest ? cur : longest;
            cur = 0;
        }
    }
    longest = cur > longest ? cur : longest;
    int buf = longest + 3 > 200 ? (int)(longest + 3) : 200;

    bool s_stack = ini_use_stack, s_realloc = ini_allow_realloc, s_multi = ini_allow_multiline,
         s_inline = ini_allow_inline_comments, s_novalue = ini_allow_no_value,
         s_bom = ini_allow_bom;
    int s_max = ini_max_line, s_init = ini_initial_alloc;
    char *s_prefixes = ini_inline_comment_prefixes;

    /* A heap buffer as long as the longest line (inih's realloc mode is unreliable), no
     * multi-line values (an indented key is a key), ';' and '#' inline comments. */
    ini_use_stack = false;
    ini_allow_realloc = false;
    ini_max_line = buf;
    ini_initial_alloc = buf;
    ini_allow_multiline = false;
    ini_allow_inline_comments = true;
    ini_inline_comment_prefixes = inline_prefixes;
    ini_allow_no_value = false;
    ini_allow_bom = true;

    ps->text = text;
    ps->pos = 0;
    ps->line = 0;
    ps->at_line_start = 1;
    int r = ini_parse_stream(reader, ps, handler, ps);

    ini_use_stack = s_stack;
    ini_allow_realloc = s_realloc;
    ini_max_line = s_max;
    ini_initial_alloc = s_init;
    ini_allow_multiline = s_multi;
    ini_allow_inline_comments = s_inline;
    ini_inline_comment_prefixes = s_prefixes;
    ini_allow_no_value = s_novalue;
    ini_allow_bom = s_bom;
    return r;
}

/* ---------------------------------------------------------------- messages */

static void where_of(const parser *ps, const entry *e, char *buf, size_t len)
{
    if (!e)
        snprintf(buf, len, "%s", ps->path);
    else if (e->line > 0)
        snprintf(buf, len, "%s:%d", ps->path, e->line);
    else
        snprintf(buf, len, "command line (--set %s)", e->ovr);
}

/* GPMC_EINVAL with "where: key 'key': what" (where = the entry's line, or the file). */
__attribute__((format(printf, 4, 5)))
static int fail(const parser *ps, const entry *e, const char *key, const char *fmt, ...)
{
    char where[1024], what[1536];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(what, sizeof what, fmt, ap);
    va_end(ap);
    where_of(ps, e, where, sizeof where);
    if (key)
        return gpmc_error(GPMC_EINVAL, where, "key '%s': %s", key, what);
    return gpmc_error(GPMC_EINVAL, where, "%s", what);
}

static int fail_oom(const parser *ps)
{
    return gpmc_error(GPMC_ENOMEM, ps->path, "out of memory while reading the spec");
}

/* Edit distance of short names, for "did you mean". */
static size_t edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > 63 || lb > 63)
        return SIZE_MAX;
    size_t row[64];
    for (size_t j = 0; j <= lb; j++)
        row[j] = j;
    for (size_t i = 1; i <= la; i++) {
        size_t diag = row[0];
        row[0] = i;
        for (size_t j = 1; j <= lb; j++) {
            size_t up = row[j];
            char ca = a[i - 1], cb = b[j - 1];
            if (ca >= 'A' && ca <= 'Z')
                ca = (char)(ca - 'A' + 'a');
            if (cb >= 'A' && cb <= 'Z')
                cb = (char)(cb - 'A' + 'a');
            size_t best = diag + (ca != cb);
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

/* "; did you mean 'x'?" for the closest of names (NULL-terminated or n of them). */
static void suggest(const char *name, const char *const *names, size_t n, char *buf, size_t len)
{
    const char *best = NULL;
    size_t bestd = SIZE_MAX;
    for (size_t i = 0; i < n && names[i]; i++) {
        size_t d = edit_distance(name, names[i]);
        if (d < bestd) {
            bestd = d;
            best = names[i];
        }
    }
    size_t ln = strlen(name);
    if (best && bestd <= 2 && bestd < ln)
        snprintf(buf, len, "; did you mean '%s'?", best);
    else
        buf[0] = '\0';
}

static void join_param_names(const gpmc_experiment *exp, char *buf, size_t len)
{
    size_t pos = 0;
    buf[0] = '\0';
    for (size_t i = 0; i < exp->nparams && pos < len; i++) {
        int w = snprintf(buf + pos, len - pos, "%s%s", i ? ", " : "", exp->params[i].name);
        if (w < 0)
            break;
        pos += (size_t)w;
    }
}

/* ---------------------------------------------------------------- values */

static const char *type_name(gpmc_param_type t)
{
    switch (t) {
    case GPMC_PARAM_INT: return "an integer";
    case GPMC_PARAM_REAL: return "a real";
    case GPMC_PARAM_BOOL: return "a boolean";
    case GPMC_PARAM_CHOICE: return "a choice";
    case GPMC_PARAM_REAL_LIST: return "a list of reals";
    case GPMC_PARAM_INT_LIST: return "a list of integers";
    }
    return "a value";
}

/* 0, or 1 "not an integer", or 2 "out of range". */
static int parse_long(const char *s, long *out)
{
    char *end;
    if (!*s || is_space(*s))
        return 1;
    errno = 0;
    long v = strtol(s, &end, 10);
    if (*end != '\0' || end == s)
        return 1;
    if (errno == ERANGE)
        return 2;
    *out = v;
    return 0;
}

/* 0, or 1 "not a number", or 2 "not finite". */
static int parse_real(const char *s, double *out)
{
    char *end;
    if (!*s || is_space(*s))
        return 1;
    errno = 0;
    double v = strtod(s, &end);
    if (*end != '\0' || end == s)
        return 1;
    if (!isfinite(v))
        return 2;
    if (errno == ERANGE && fabs(v) > 1) /* overflow; underflow to tiny values is fine */
        return 2;
    *out = v == 0 ? 0.0 : v; /* no negative zero: it would print as "-0" in keys */
    return 0;
}

/* Number text for a message. */
static void num_text(double v, char *buf, size_t len) { snprintf(buf, len, "%.15g", v); }

/* Range check of one number (INT/REAL or a list element). */
static int check_range(const gpmc_param_def *d, int is_int, double v, char *why, size_t wl)
{
    char a[40], b[40];
    num_text(v, a, sizeof a);
    if (is_int && fabs(v) > INT_EXACT) {
        snprintf(why, wl, "%s is too large for an integer parameter", a);
        return 1;
    }
    if (v < d->min) {
        num_text(d->min, b, sizeof b);
        snprintf(why, wl, "%s is below the minimum %s", a, b);
        return 1;
    }
    if (v > d->max) {
        num_text(d->max, b, sizeof b);
        snprintf(why, wl, "%s is above the maximum %s", a, b);
        return 1;
    }
    return 0;
}

/* Index of `word` among the '|'-separated choices, or -1. */
static long choice_index(const char *choices, const char *word)
{
    size_t wl = strlen(word);
    long idx = 0;
    const char *s = choices ? choices : "";
    for (;;) {
        const char *bar = strchr(s, '|');
        size_t len = bar ? (size_t)(bar - s) : strlen(s);
        if (len == wl && !strncmp(s, word, wl))
            return idx;
        if (!bar)
            return -1;
        s = bar + 1;
        idx++;
    }
}

static int parse_bool(const char *s, double *out)
{
    static const char *const yes[] = {"true", "yes", "on", "1"};
    static const char *const no[] = {"false", "no", "off", "0"};
    for (size_t i = 0; i < 4; i++) {
        if (!strcasecmp(s, yes[i])) {
            *out = 1;
            return 0;
        }
        if (!strcasecmp(s, no[i])) {
            *out = 0;
            return 0;
        }
    }
    return 1;
}

/* One scalar of type `t` (INT, REAL, BOOL, CHOICE) with its range check.
 * On failure: 1 and a reason in `why`. */
static int scalar_from_text(const gpmc_param_def *d, gpmc_param_type t, const char *s,
                            double *out, char *why, size_t wl)
{
    long l;
    double v;
    int st;
    switch (t) {
    case GPMC_PARAM_INT:
    case GPMC_PARAM_INT_LIST:
        st = parse_long(s, &l);
        if (st == 1) {
            snprintf(why, wl, "'%s' is not an integer", s);
            return 1;
        }
        if (st == 2) {
            snprintf(why, wl, "'%s' is out of range for an integer", s);
            return 1;
        }
        *out = (double)l;
        return check_range(d, 1, *out, why, wl);
    case GPMC_PARAM_REAL:
    case GPMC_PARAM_REAL_LIST:
        st = parse_real(s, &v);
        if (st == 1) {
            snprintf(why, wl, "'%s' is not a number", s);
            return 1;
        }
        if (st == 2) {
            snprintf(why, wl, "'%s' is not a finite number", s);
            return 1;
        }
        *out = v;
        return check_range(d, 0, v, why, wl);
    case GPMC_PARAM_BOOL:
        if (parse_bool(s, out)) {
            snprintf(why, wl, "'%s' is not a boolean (use true/false, yes/no, on/off or 1/0)",
                     s);
            return 1;
        }
        return 0;
    case GPMC_PARAM_CHOICE: {
        long idx = choice_index(d->choices, s);
        if (idx < 0) {
            snprintf(why, wl, "'%s' is not one of %s", s, d->choices ? d->choices : "(none)");
            return 1;
        }
        *out = (double)idx;
        return 0;
    }
    }
    snprintf(why, wl, "unsupported parameter type");
    return 1;
}

/* Split `buf` in place at commas, trimming each piece. Returns the number of pieces and
 * stores at most `max` of them. */
static size_t split_commas(char *buf, char **tok, size_t max)
{
    size_t n = 0;
    char *s = buf;
    for (;;) {
        char *comma = strchr(s, ',');
        if (comma)
            *comma = '\0';
        while (is_space(*s))
            s++;
        char *e = s + strlen(s);
        while (e > s && is_space(e[-1]))
            *--e = '\0';
        if (n < max)
            tok[n] = s;
        n++;
        if (!comma)
            return n;
        s = comma + 1;
    }
}

static int is_list_type(gpmc_param_type t)
{
    return t == GPMC_PARAM_REAL_LIST || t == GPMC_PARAM_INT_LIST;
}

/* A fixed value of any type from spec text. 0, or 1 with `why`, or -1 out of memory. */
static int value_from_text(const gpmc_param_def *d, const char *s, gpmc_value *out, char *why,
                           size_t wl)
{
    memset(out, 0, sizeof *out);
    if (!*s) {
        snprintf(why, wl, "empty value (expected %s)", type_name(d->type));
        return 1;
    }
    if (!is_list_type(d->type))
        return scalar_from_text(d, d->type, s, &out->num, why, wl);
    char *copy = strdup(s);
    if (!copy)
        return -1;
    char *tok[GPMC_LIST_MAX];
    size_t n = split_commas(copy, tok, GPMC_LIST_MAX);
    int st = 0;
    if (n > GPMC_LIST_MAX) {
        snprintf(why, wl, "list has %zu elements, more than the limit %d", n, GPMC_LIST_MAX);
        st = 1;
    }
    for (size_t i = 0; !st && i < n; i++) {
        if (!*tok[i]) {
            snprintf(why, wl, "empty element %zu in list '%s'", i + 1, s);
            st = 1;
        } else {
            char inner[512];
            if (scalar_from_text(d, d->type, tok[i], &out->list[i], inner, sizeof inner)) {
                snprintf(why, wl, "element %zu: %s", i + 1, inner);
                st = 1;
            }
        }
    }
    if (!st)
        out->len = n;
    free(copy);
    return st;
}

/* ---------------------------------------------------------------- canonical text */

static void append(char *buf, size_t len, size_t *pos, const char *s)
{
    size_t l = strlen(s);
    if (*pos + 1 >= len)
        return;
    size_t room = len - 1 - *pos;
    if (l > room)
        l = room;
    memcpy(buf + *pos, s, l);
    *pos += l;
    buf[*pos] = '\0';
}

static void format_number(int is_int, double v, char *buf, size_t len)
{
    if (is_int && v >= -9.2e18 && v <= 9.2e18)
        snprintf(buf, len, "%ld", (long)v);
    else
        snprintf(buf, len, "%.17g", v);
}

void gpmc_value_format(const gpmc_param_def *def, const gpmc_value *v, char *buf, size_t len)
{
    if (!buf || len == 0)
        return;
    buf[0] = '\0';
    size_t pos = 0;
    char num[48];
    switch (def->type) {
    case GPMC_PARAM_INT:
    case GPMC_PARAM_REAL:
        format_number(def->type == GPMC_PARAM_INT, v->num, num, sizeof num);
        append(buf, len, &pos, num);
        return;
    case GPMC_PARAM_BOOL:
        append(buf, len, &pos, v->num != 0 ? "true" : "false");
        return;
    case GPMC_PARAM_CHOICE: {
        const char *s = def->choices ? def->choices : "";
        double idx = v->num;
        if (!(idx >= 0 && idx < 4096))
            idx = -1;
        for (long i = 0; idx >= 0 && i < (long)idx && s; i++) {
            s = strchr(s, '|');
            if (s)
                s++;
        }
        if (!s || idx < 0) {
            append(buf, len, &pos, "?");
            return;
        }
        const char *bar = strchr(s, '|');
        size_t l = bar ? (size_t)(bar - s) : strlen(s);
        if (l >= len)
            l = len - 1;
        memcpy(buf, s, l);
        buf[l] = '\0';
        return;
    }
    case GPMC_PARAM_REAL_LIST:
    case GPMC_PARAM_INT_LIST:
        for (size_t i = 0; i < v->len && i < GPMC_LIST_MAX; i++) {
            if (i)
                append(buf, len, &pos, ",");
            format_number(def->type == GPMC_PARAM_INT_LIST, v->list[i], num, sizeof num);
            append(buf, len, &pos, num);
        }
        return;
    }
}

uint64_t gpmc_spec_point_key(const gpmc_experiment *exp, const gpmc_value *values)
{
    uint64_t h = gpmc_hash_str(GPMC_HASH_INIT, exp->name);
    char kv[GPMC_LIST_MAX * 26 + 256];
    for (size_t i = 0; i < exp->nparams; i++) {
        const gpmc_param_def *d = &exp->params[i];
        if (d->flags & GPMC_PARAM_NOHASH)
            continue;
        size_t pos = 0;
        kv[0] = '\0';
        append(kv, sizeof kv, &pos, d->name);
        append(kv, sizeof kv, &pos, "=");
        gpmc_value_format(d, &values[i], kv + pos, sizeof kv - pos);
        h = gpmc_hash_str(h, kv);
    }
    return h;
}

/* ---------------------------------------------------------------- grid axes */

/* Interior values of computed ranges are rounded to 15 significant digits, so that
 * 0.1:0.5:0.1 gives 0.3 and log:1:100:3 gives 10, not their neighbours. */
static double snap(double v)
{
    char b[40];
    snprintf(b, sizeof b, "%.15g", v);
    double s = strtod(b, NULL);
    return s == 0 ? 0.0 : s;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

typedef struct {
    const parser *ps;
    const entry *e;
    const gpmc_param_def *d;
    int is_int;   /* values are integers (INT param, not a ratio) */
    int ratio;    /* the values are ratios: any finite real, range checked later */
} axis_ctx;

/* One number of a range ("100" of "100:1000:100"). */
static int range_number(const axis_ctx *c, const char *s, double *out, const char *what)
{
    char why[512];
    if (c->is_int) {
        long l;
        int st = parse_long(s, &l);
        if (st)
            return fail(c->ps, c->e, c->e->key, "bad range '%s': %s '%s' is %s", c->e->value,
                        what, s, st == 1 ? "not an integer" : "out of range for an integer");
        *out = (double)l;
    } else {
        int st = parse_real(s, out);
        if (st)
            return fail(c->ps, c->e, c->e->key, "bad range '%s': %s '%s' is %s", c->e->value,
                        what, s, st == 1 ? "not a number" : "not a finite number");
    }
    if (!c->ratio && check_range(c->d, c->is_int, *out, why, sizeof why))
        return fail(c->ps, c->e, c->e->key, "range '%s': %s %s", c->e->value, what, why);
    return GPMC_OK;
}

static int range_syntax(const axis_ctx *c)
{
    return fail(c->ps, c->e, c->e->key,
                "bad range '%s': expected start:stop:step (inclusive) or log:start:stop:count",
                c->e->value);
}

/* "start:stop:step" or "log:start:stop:count" into vals (AXIS_MAX doubles). */
static int parse_range(const axis_ctx *c, double *vals, size_t *n)
{
    const char *s = c->e->value;
    char part[4][128];
    size_t np = 0;
    for (const char *p = s;;) {
        const char *colon = strchr(p, ':');
        size_t len = colon ? (size_t)(colon - p) : strlen(p);
        if (np == 4 || len >= sizeof part[0])
            return range_syntax(c);
        while (len && is_space(*p)) {
            p++;
            len--;
        }
        while (len && is_space(p[len - 1]))
            len--;
        memcpy(part[np], p, len);
        part[np][len] = '\0';
        np++;
        if (!colon)
            break;
        p = colon + 1;
    }
    for (size_t i = 0; i < np; i++)
        if (!part[i][0])
            return range_syntax(c);
    int st;
    if (!strcmp(part[0], "log")) {
        if (np != 4)
            return range_syntax(c);
        double a, b;
        long cnt;
        if ((st = range_number(c, part[1], &a, "start")) ||
            (st = range_number(c, part[2], &b, "stop")))
            return st;
        int cs = parse_long(part[3], &cnt);
        if (cs)
            return fail(c->ps, c->e, c->e->key, "bad range '%s': count '%s' is not an integer",
                        s, part[3]);
        if (!(a > 0) || !(b > 0))
            return fail(c->ps, c->e, c->e->key,
                        "bad range '%s': a log range needs start and stop > 0", s);
        if (cnt < 1 || (cnt == 1 && a != b))
            return fail(c->ps, c->e, c->e->key,
                        "bad range '%s': count must be >= 2 (or 1 when start = stop)", s);
        if (cnt > AXIS_MAX)
            return fail(c->ps, c->e, c->e->key,
                        "range '%s' gives %ld values, more than the limit of %d", s, cnt,
                        AXIS_MAX);
        size_t k = 0;
        for (long i = 0; i < cnt; i++) {
            double v;
            if (i == 0)
                v = a;
            else if (i == cnt - 1)
                v = b;
            else
                v = a * pow(b / a, (double)i / (double)(cnt - 1));
            if (c->is_int) {
                v = round(v);
                if (k > 0 && vals[k - 1] == v)
                    continue; /* rounding made a duplicate */
            } else if (i > 0 && i < cnt - 1) {
                v = snap(v);
            }
            vals[k++] = v;
        }
        *n = k;
        return GPMC_OK;
    }
    if (np != 3)
        return range_syntax(c);
    double a, b, step;
    if ((st = range_number(c, part[0], &a, "start")) ||
        (st = range_number(c, part[1], &b, "stop")))
        return st;
    /* the step is a difference, not a value: no range check */
    if (c->is_int) {
        long l;
        if (parse_long(part[2], &l))
            return fail(c->ps, c->e, c->e->key, "bad range '%s': step '%s' is not an integer", s,
                        part[2]);
        step = (double)l;
    } else if (parse_real(part[2], &step)) {
        return fail(c->ps, c->e, c->e->key, "bad range '%s': step '%s' is not a finite number",
                    s, part[2]);
    }
    if (!(step > 0))
        return fail(c->ps, c->e, c->e->key, "bad range '%s': step must be > 0", s);
    if (a > b)
        return fail(c->ps, c->e, c->e->key, "bad range '%s': start is greater than stop", s);
    double q = (b - a) / step;
    if (!(q < AXIS_MAX))
        return fail(c->ps, c->e, c->e->key, "range '%s' gives more than the limit of %d values",
                    s, AXIS_MAX);
    size_t cnt = (size_t)floor(q + 1e-9) + 1;
    if (cnt > AXIS_MAX)
        return fail(c->ps, c->e, c->e->key, "range '%s' gives more than the limit of %d values",
                    s, AXIS_MAX);
    for (size_t i = 0; i < cnt; i++) {
        double v = a + (double)i * step;
        if (i > 0 && !c->is_int)
            v = snap(v);
        if (v > b) /* a last value pushed past stop by rounding */
            v = b;
        vals[i] = v;
    }
    *n = cnt;
    return GPMC_OK;
}

/* The values of one grid axis: a list or a range. */
static int parse_axis(const axis_ctx *c, double **out, size_t *nout)
{
    const char *s = c->e->value;
    *out = NULL;
    *nout = 0;
    if (!*s)
        return fail(c->ps, c->e, c->e->key, "empty value (a grid axis needs a list or a range)");
    double *vals = NULL;
    size_t n = 0;
    int st = GPMC_OK;
    if (strchr(s, ':')) {
        if (!c->ratio && c->d->type != GPMC_PARAM_INT && c->d->type != GPMC_PARAM_REAL)
            return fail(c->ps, c->e, c->e->key,
                        "'%s': ranges are for numeric parameters; list the values instead", s);
        vals = malloc(AXIS_MAX * sizeof *vals);
        if (!vals)
            return fail_oom(c->ps);
        st = parse_range(c, vals, &n);
    } else {
        char *copy = strdup(s);
        size_t ncomma = 0;
        for (const char *p = s; *p; p++)
            ncomma += *p == ',';
        char **tok = malloc((ncomma + 1) * sizeof *tok);
        vals = malloc((ncomma + 1) * sizeof *vals);
        if (!copy || !tok || !vals) {
            free(copy);
            free(tok);
            free(vals);
            return fail_oom(c->ps);
        }
        n = split_commas(copy, tok, ncomma + 1);
        if (n > AXIS_MAX)
            st = fail(c->ps, c->e, c->e->key, "%zu values, more than the limit %d", n, AXIS_MAX);
        for (size_t i = 0; !st && i < n; i++) {
            char why[512];
            if (!*tok[i]) {
                st = fail(c->ps, c->e, c->e->key, "empty element %zu in list '%s'", i + 1, s);
            } else if (c->ratio) {
                int pr = parse_real(tok[i], &vals[i]);
                if (pr)
                    st = fail(c->ps, c->e, c->e->key, "ratio '%s' is %s", tok[i],
                              pr == 1 ? "not a number" : "not a finite number");
            } else if (scalar_from_text(c->d, c->d->type, tok[i], &vals[i], why, sizeof why)) {
                st = n > 1 ? fail(c->ps, c->e, c->e->key, "element %zu: %s", i + 1, why)
                           : fail(c->ps, c->e, c->e->key, "%s", why);
            }
        }
        free(tok);
        free(copy);
    }
    if (!st) {
        double *sorted = malloc((n ? n : 1) * sizeof *sorted);
        if (!sorted) {
            st = fail_oom(c->ps);
        } else {
            memcpy(sorted, vals, n * sizeof *sorted);
            qsort(sorted, n, sizeof *sorted, cmp_double);
            for (size_t i = 1; i < n && !st; i++)
                if (sorted[i] == sorted[i - 1]) {
                    gpmc_value v = {.num = sorted[i]};
                    char txt[64];
                    gpmc_param_def rd = {.type = GPMC_PARAM_REAL};
                    gpmc_value_format(c->ratio ? &rd : c->d, &v, txt, sizeof txt);
                    st = fail(c->ps, c->e, c->e->key, "value %s appears twice in the axis", txt);
                }
            free(sorted);
        }
    }
    if (st) {
        free(vals);
        return st;
    }
    double *shrunk = realloc(vals, (n ? n : 1) * sizeof *vals);
    *out = shrunk ? shrunk : vals;
    *nout = n;
    return GPMC_OK;
}

/* ---------------------------------------------------------------- the spec */

void gpmc_spec_free(gpmc_spec *spec)
{
    if (!spec)
        return;
    free(spec->path);
    free(spec->text);
    for (size_t i = 0; i < spec->noverrides; i++)
        free(spec->overrides[i]);
    free(spec->overrides);
    free(spec->fixed);
    for (size_t i = 0; i < spec->naxes; i++)
        free(spec->axes[i].values);
    free(spec->axes);
    memset(spec, 0, sizeof *spec);
}

size_t gpmc_spec_npoints(const gpmc_spec *spec)
{
    size_t n = 1;
    for (size_t a = 0; a < spec->naxes; a++)
        n *= spec->axes[a].n;
    return n;
}

static double resolve_ratio(const gpmc_param_def *d, double ratio, double of)
{
    double v = ratio * of;
    if (d->type == GPMC_PARAM_INT)
        v = round(v);
    return v == 0 ? 0.0 : v;
}

size_t gpmc_spec_axis_index(const gpmc_spec *spec, size_t axis, size_t p)
{
    for (size_t b = spec->naxes; --b > axis;)
        p /= spec->axes[b].n;
    return p % spec->axes[axis].n;
}

void gpmc_spec_point_values(const gpmc_spec *spec, size_t p, gpmc_value *out)
{
    const gpmc_experiment *exp = spec->exp;
    memcpy(out, spec->fixed, exp->nparams * sizeof *out);
    for (size_t a = spec->naxes; a-- > 0;) {
        const gpmc_axis *ax = &spec->axes[a];
        out[ax->param].num = ax->values[p % ax->n];
        p /= ax->n;
    }
    for (size_t a = 0; a < spec->naxes; a++) {
        const gpmc_axis *ax = &spec->axes[a];
        if (ax->ratio_of != GPMC_NO_PARAM)
            out[ax->param].num = resolve_ratio(&exp->params[ax->param], out[ax->param].num,
                                               out[ax->ratio_of].num);
    }
}

static size_t param_lookup(const gpmc_experiment *exp, const char *name)
{
    size_t i = gpmc_param_index(exp, name);
    return i < exp->nparams ? i : GPMC_NO_PARAM;
}

static int is_run_key(const char *k)
{
    for (size_t i = 0; run_keys[i]; i++)
        if (!strcmp(k, run_keys[i]))
            return 1;
    return 0;
}

static int known_section(const char *s)
{
    return !strcmp(s, "run") || !strcmp(s, "grid") || !strcmp(s, "params");
}

/* Length of the parameter part of a key ("n" of "n/k"). */
static size_t base_len(const char *key)
{
    const char *slash = strchr(key, '/');
    return slash ? (size_t)(slash - key) : strlen(key);
}

static int same_base(const char *a, const char *b)
{
    size_t la = base_len(a), lb = base_len(b);
    return la == lb && !strncmp(a, b, la);
}

static char *trimmed_copy(const char *s, size_t len)
{
    while (len && is_space(*s)) {
        s++;
        len--;
    }
    while (len && is_space(s[len - 1]))
        len--;
    char *r = malloc(len + 1);
    if (r) {
        memcpy(r, s, len);
        r[len] = '\0';
    }
    return r;
}

static void remove_entry(parser *ps, size_t i)
{
    free(ps->e[i].section);
    free(ps->e[i].key);
    free(ps->e[i].value);
    memmove(&ps->e[i], &ps->e[i + 1], (ps->n - i - 1) * sizeof *ps->e);
    ps->n--;
}

/* One "key=value" or "section.key=value": replaces the entry that sets the same thing
 * (keeping its place, so a grid axis keeps its order) or adds one. */
static int apply_override(parser *ps, const char *ov)
{
    entry here = {.line = 0, .ovr = ov};
    const char *eq = strchr(ov, '=');
    if (!eq)
        return fail(ps, &here, NULL, "expected key=value");
    char *key = trimmed_copy(ov, (size_t)(eq - ov));
    char *value = trimmed_copy(eq + 1, strlen(eq + 1));
    char *section = NULL;
    int st = GPMC_OK;
    if (!key || !value) {
        st = fail_oom(ps);
        goto out;
    }
    char *k = key;
    char *dot = strchr(key, '.');
    if (dot) {
        *dot = '\0';
        section = strdup(key);
        k = dot + 1;
        if (!section) {
            st = fail_oom(ps);
            goto out;
        }
        if (!known_section(section)) {
            st = fail(ps, &here, k, "unknown section '%s' (use run., grid. or params.)", section);
            goto out;
        }
    }
    if (!*k) {
        st = fail(ps, &here, NULL, "expected key=value (empty key)");
        goto out;
    }
    if (!section) {
        for (size_t i = 0; i < ps->n && !section; i++) {
            const entry *e = &ps->e[i];
            if (!known_section(e->section))
                continue;
            if (!strcmp(e->section, "run") ? !strcmp(e->key, k) : same_base(e->key, k))
                section = strdup(e->section);
        }
        if (!section)
            section = strdup(strchr(k, '/') ? "grid" : is_run_key(k) ? "run" : "params");
        if (!section) {
            st = fail_oom(ps);
            goto out;
        }
    }
    int to_run = !strcmp(section, "run");
    size_t keep = SIZE_MAX;
    for (size_t i = 0; i < ps->n;) {
        entry *e = &ps->e[i];
        int match = to_run ? !strcmp(e->section, "run") && !strcmp(e->key, k)
                           : (!strcmp(e->section, "grid") || !strcmp(e->section, "params")) &&
                                 same_base(e->key, k);
        if (match && keep == SIZE_MAX && !strcmp(e->section, section)) {
            keep = i++;
        } else if (match) {
            remove_entry(ps, i);
        } else {
            i++;
        }
    }
    if (keep != SIZE_MAX) {
        entry *e = &ps->e[keep];
        char *nk = strdup(k);
        if (!nk) {
            st = fail_oom(ps);
            goto out;
        }
        free(e->key);
        free(e->value);
        e->key = nk;
        e->value = value;
        value = NULL;
        e->line = 0;
        e->ovr = ov;
    } else if (push_entry(ps, section, k, value, 0, ov)) {
        st = fail_oom(ps);
    }
out:
    free(key);
    free(value);
    free(section);
    return st;
}

/* The first line of `text` numbered `line`, for a syntax error. */
static void line_text(const char *text, int line, char *buf, size_t len)
{
    const char *s = text;
    for (int i = 1; i < line && s; i++) {
        s = strchr(s, '\n');
        if (s)
            s++;
    }
    if (!s) {
        buf[0] = '\0';
        return;
    }
    size_t l = strcspn(s, "\r\n");
    if (l >= len)
        l = len - 1;
    memcpy(buf, s, l);
    buf[l] = '\0';
}

/* Which parameters a check() message names, by first position in it. */
static size_t params_named(const gpmc_experiment *exp, const char *msg, size_t *which)
{
    size_t n = 0, pos[256];
    for (size_t i = 0; i < exp->nparams && n < 256; i++) {
        const char *name = exp->params[i].name;
        size_t l = strlen(name);
        for (const char *s = strstr(msg, name); s && l; s = strstr(s + 1, name)) {
            char before = s > msg ? s[-1] : ' ', after = s[l];
            int wb = !(before == '_' || (before >= '0' && before <= '9') ||
                       ((before | 32) >= 'a' && (before | 32) <= 'z'));
            int wa = !(after == '_' || (after >= '0' && after <= '9') ||
                       ((after | 32) >= 'a' && (after | 32) <= 'z'));
            if (wb && wa) {
                size_t at = (size_t)(s - msg), j = n++;
                while (j > 0 && pos[j - 1] > at) {
                    pos[j] = pos[j - 1];
                    which[j] = which[j - 1];
                    j--;
                }
                pos[j] = at;
                which[j] = i;
                break;
            }
        }
    }
    return n;
}

typedef struct {
    parser ps;
    gpmc_spec *spec;
    const entry **setby;   /* [nparams]: the entry that sets each parameter, or NULL */
    const entry **axis_e;  /* [naxes] */
    int *is_axis;          /* [nparams]: axis index + 1, or 0 */
} interp;

typedef struct {
    double value; /* the resolved value, e.g. n = round(ratio * k) */
    double ratio;
} resolved_ratio;

static int cmp_resolved(const void *a, const void *b)
{
    const resolved_ratio *x = a, *y = b;
    if (x->value != y->value)
        return (x->value > y->value) - (x->value < y->value);
    return (x->ratio > y->ratio) - (x->ratio < y->ratio);
}

/* Two ratios of one axis that resolve to the same value at the same denominator (n =
 * round(ratio * k) rounds 1 and 1.2 at k = 1 both to n = 1) would make two grid points
 * with the same parameters, hence the same stream key and identical trials: refused, as a
 * value written twice is. Names the ratios of the first collision (smallest denominator
 * value first, in axis order) and the other denominator values with one. */
static int check_ratio_collisions(interp *in)
{
    gpmc_spec *spec = in->spec;
    const gpmc_experiment *exp = spec->exp;
    for (size_t x = 0; x < spec->naxes; x++) {
        const gpmc_axis *ax = &spec->axes[x];
        if (ax->ratio_of == GPMC_NO_PARAM || ax->n < 2)
            continue;
        const gpmc_param_def *d = &exp->params[ax->param];
        const char *den = exp->params[ax->ratio_of].name;
        int oa = in->is_axis[ax->ratio_of];
        const double *of = oa ? spec->axes[oa - 1].values : &spec->fixed[ax->ratio_of].num;
        size_t nof = oa ? spec->axes[oa - 1].n : 1;
        resolved_ratio *r = malloc(ax->n * sizeof *r);
        if (!r)
            return fail_oom(&in->ps);
        char first[1024] = "", also[512] = "";
        size_t fp = 0, ap = 0, nalso = 0;
        for (size_t j = 0; j < nof; j++) {
            for (size_t i = 0; i < ax->n; i++)
                r[i] = (resolved_ratio){resolve_ratio(d, ax->values[i], of[j]), ax->values[i]};
            qsort(r, ax->n, sizeof *r, cmp_resolved);
            size_t i = 0;
            while (i + 1 < ax->n && r[i].value != r[i + 1].value)
                i++;
            if (i + 1 >= ax->n)
                continue;
            char t[48];
            if (fp) {
                if (nalso++ < 4) {
                    num_text(of[j], t, sizeof t);
                    append(also, sizeof also, &ap, nalso > 1 ? ", " : "; also at ");
                    append(also, sizeof also, &ap, den);
                    append(also, sizeof also, &ap, " = ");
                    append(also, sizeof also, &ap, t);
                } else if (nalso == 5) {
                    append(also, sizeof also, &ap, ", ...");
                }
                continue;
            }
            size_t e = i + 1;
            while (e + 1 < ax->n && r[e + 1].value == r[i].value)
                e++;
            append(first, sizeof first, &fp, "ratios ");
            for (size_t m = i; m <= e; m++) {
                if (m - i == 8 && e > m) { /* a long run: its first ratios, the last */
                    append(first, sizeof first, &fp, ", ...");
                    m = e;
                }
                num_text(r[m].ratio, t, sizeof t);
                append(first, sizeof first, &fp, m == i ? "" : m == e ? " and " : ", ");
                append(first, sizeof first, &fp, t);
            }
            char ofs[48], v[48];
            num_text(of[j], ofs, sizeof ofs);
            num_text(r[i].value, v, sizeof v);
            append(first, sizeof first, &fp, " at ");
            append(first, sizeof first, &fp, den);
            append(first, sizeof first, &fp, " = ");
            append(first, sizeof first, &fp, ofs);
            append(first, sizeof first, &fp, e == i + 1 ? " both give " : " all give ");
            append(first, sizeof first, &fp, d->name);
            append(first, sizeof first, &fp, " = ");
            append(first, sizeof first, &fp, v);
        }
        free(r);
        if (fp)
            return fail(&in->ps, in->axis_e[x], in->axis_e[x]->key,
                        "%s%s: duplicate grid points with identical trials (space the ratios "
                        "so that every %s differs)",
                        first, also, d->name);
    }
    return GPMC_OK;
}

/* Build every grid point; check resolved ratio values and the experiment's constraints,
 * then that no two ratios collide. */
static int check_points(interp *in)
{
    gpmc_spec *spec = in->spec;
    const gpmc_experiment *exp = spec->exp;
    size_t np = gpmc_spec_npoints(spec);
    gpmc_value *vals = malloc((exp->nparams ? exp->nparams : 1) * sizeof *vals);
    if (!vals)
        return fail_oom(&in->ps);
    int st = GPMC_OK;
    char why[512], a[48], b[48], c[48];
    for (size_t p = 0; p < np && !st; p++) {
        gpmc_spec_point_values(spec, p, vals);
        for (size_t x = 0; x < spec->naxes && !st; x++) {
            const gpmc_axis *ax = &spec->axes[x];
            if (ax->ratio_of == GPMC_NO_PARAM)
                continue;
            const gpmc_param_def *d = &exp->params[ax->param];
            if (check_range(d, d->type == GPMC_PARAM_INT, vals[ax->param].num, why, sizeof why)) {
                size_t r = p;
                for (size_t y = spec->naxes; y-- > x + 1;)
                    r /= spec->axes[y].n;
                num_text(ax->values[r % ax->n], a, sizeof a);
                num_text(vals[ax->ratio_of].num, b, sizeof b);
                num_text(vals[ax->param].num, c, sizeof c);
                st = fail(&in->ps, in->axis_e[x], in->axis_e[x]->key,
                          "ratio %s at %s = %s gives %s = %s: %s", a,
                          exp->params[ax->ratio_of].name, b, d->name, c, why);
            }
        }
        if (st || !exp->check)
            continue;
        gpmc_point pt = {.exp = exp, .index = p, .values = vals,
                         .key = gpmc_spec_point_key(exp, vals)};
        char msg[512] = "";
        if (!exp->check(&pt, msg, sizeof msg))
            continue;
        msg[sizeof msg - 1] = '\0';
        if (!msg[0])
            snprintf(msg, sizeof msg, "constraint of experiment '%s' not met", exp->name);
        /* The parameters involved: those the message names, else every one set. */
        size_t which[256], nw = params_named(exp, msg, which), ni = 0;
        size_t involved[256];
        for (size_t i = 0; i < nw; i++)
            if (in->setby[which[i]])
                involved[ni++] = which[i];
        if (ni == 0)
            for (size_t i = 0; i < exp->nparams && ni < 256; i++)
                if (in->setby[i])
                    involved[ni++] = i;
        /* The point's values: its axes and the parameters involved. */
        char desc[1024] = "", also[1024] = "";
        size_t dp = 0, ap = 0;
        for (size_t i = 0; i < exp->nparams; i++) {
            int named = 0;
            for (size_t j = 0; j < nw; j++)
                named |= which[j] == i;
            for (size_t j = 0; j < ni; j++)
                named |= involved[j] == i;
            if (!in->is_axis[i] && !named)
                continue;
            char v[256];
            gpmc_value_format(&exp->params[i], &vals[i], v, sizeof v);
            append(desc, sizeof desc, &dp, dp ? ", " : "");
            append(desc, sizeof desc, &dp, exp->params[i].name);
            append(desc, sizeof desc, &dp, "=");
            append(desc, sizeof desc, &dp, v);
        }
        for (size_t j = 1; j < ni; j++) {
            const entry *e = in->setby[involved[j]];
            char w[1024];
            where_of(&in->ps, e, w, sizeof w);
            append(also, sizeof also, &ap, j > 1 ? ", " : " (see also ");
            append(also, sizeof also, &ap, e->key);
            append(also, sizeof also, &ap, " at ");
            append(also, sizeof also, &ap, w);
        }
        if (ap)
            append(also, sizeof also, &ap, ")");
        const entry *first = ni ? in->setby[involved[0]] : NULL;
        if (spec->naxes)
            st = fail(&in->ps, first, first ? first->key : NULL, "%s at grid point %zu (%s)%s",
                      msg, p, desc, also);
        else
            st = fail(&in->ps, first, first ? first->key : NULL, "%s (%s)%s", msg, desc, also);
    }
    free(vals);
    return st ? st : check_ratio_collisions(in);
}

static int interpret(interp *in, const gpmc_experiment *const *registry)
{
    parser *ps = &in->ps;
    gpmc_spec *spec = in->spec;
    char why[1024], hint[128];

    for (size_t i = 0; i < ps->nh; i++)
        if (!known_section(ps->h[i].name)) {
            entry at = {.line = ps->h[i].line};
            return fail(ps, &at, NULL,
                        "section '%s': unknown section (known sections: [run], [grid], [params])",
                        ps->h[i].name);
        }
    for (size_t i = 0; i < ps->n; i++)
        if (!known_section(ps->e[i].section))
            return fail(ps, &ps->e[i], ps->e[i].key,
                        "outside any section (put it under [run], [grid] or [params])");

    /* [run] */
    const entry *run[3] = {NULL, NULL, NULL};
    for (size_t i = 0; i < ps->n; i++) {
        const entry *e = &ps->e[i];
        if (strcmp(e->section, "run"))
            continue;
        size_t k = 0;
        while (run_keys[k] && strcmp(run_keys[k], e->key))
            k++;
        if (!run_keys[k]) {
            suggest(e->key, run_keys, 3, hint, sizeof hint);
            return fail(ps, e, e->key,
                        "unknown key in [run] (known: experiment, trials, seed; parameters go in "
                        "[params] or [grid])%s",
                        hint);
        }
        if (run[k]) {
            where_of(ps, run[k], why, sizeof why);
            return fail(ps, e, e->key, "set twice (also at %s)", why);
        }
        run[k] = e;
    }
    char known[512] = "";
    size_t kp = 0;
    for (size_t i = 0; registry[i]; i++) {
        append(known, sizeof known, &kp, i ? ", " : "");
        append(known, sizeof known, &kp, registry[i]->name);
    }
    if (!run[0])
        return fail(ps, NULL, "experiment",
                    "missing: [run] must name the experiment (known experiments: %s)", known);
    if (!run[0]->value[0])
        return fail(ps, run[0], "experiment", "empty value (known experiments: %s)", known);
    for (size_t i = 0; registry[i] && !spec->exp; i++)
        if (!strcmp(registry[i]->name, run[0]->value))
            spec->exp = registry[i];
    if (!spec->exp)
        return fail(ps, run[0], "experiment", "unknown experiment '%s' (known experiments: %s)",
                    run[0]->value, known);
    const gpmc_experiment *exp = spec->exp;

    spec->trials = 10;
    if (run[1]) {
        long t;
        int st = parse_long(run[1]->value, &t);
        if (st)
            return fail(ps, run[1], "trials", "'%s' is not an integer", run[1]->value);
        if (t < 1)
            return fail(ps, run[1], "trials", "must be >= 1, got %ld", t);
        if (t > INT32_MAX)
            return fail(ps, run[1], "trials", "%ld is more than the limit %ld", t,
                        (long)INT32_MAX);
        spec->trials = t;
    }
    spec->seed = 1;
    if (run[2]) {
        const char *s = run[2]->value;
        char *end;
        int ok = *s >= '0' && *s <= '9';
        errno = 0;
        unsigned long long v = ok ? strtoull(s, &end, 10) : 0;
        if (!ok || *end != '\0' || errno == ERANGE)
            return fail(ps, run[2], "seed", "'%s' is not an unsigned 64-bit integer", s);
        spec->seed = (uint64_t)v;
    }

    /* Defaults, then [params] and [grid] in file order. */
    size_t np = exp->nparams;
    spec->fixed = calloc(np ? np : 1, sizeof *spec->fixed);
    in->setby = calloc(np ? np : 1, sizeof *in->setby);
    in->is_axis = calloc(np ? np : 1, sizeof *in->is_axis);
    size_t ngrid = 0;
    for (size_t i = 0; i < ps->n; i++)
        ngrid += !strcmp(ps->e[i].section, "grid");
    spec->axes = calloc(ngrid ? ngrid : 1, sizeof *spec->axes);
    in->axis_e = calloc(ngrid ? ngrid : 1, sizeof *in->axis_e);
    if (!spec->fixed || !in->setby || !in->is_axis || !spec->axes || !in->axis_e)
        return fail_oom(ps);
    for (size_t i = 0; i < np; i++) {
        const gpmc_param_def *d = &exp->params[i];
        if (!d->def)
            continue;
        int st = value_from_text(d, d->def, &spec->fixed[i], why, sizeof why);
        if (st < 0)
            return fail_oom(ps);
        if (st)
            return gpmc_error(GPMC_EINVAL, exp->name,
                              "internal error: default of parameter '%s' is invalid: %s",
                              d->name, why);
    }
    const char *names[256];
    size_t nnames = 0;
    for (size_t i = 0; i < np && nnames < 256; i++)
        names[nnames++] = exp->params[i].name;

    for (size_t i = 0; i < ps->n; i++) {
        const entry *e = &ps->e[i];
        int grid = !strcmp(e->section, "grid");
        if (!grid && strcmp(e->section, "params"))
            continue;
        char base[128];
        size_t bl = base_len(e->key);
        const char *den = e->key[bl] == '/' ? e->key + bl + 1 : NULL;
        if (bl >= sizeof base)
            bl = sizeof base - 1;
        memcpy(base, e->key, bl);
        base[bl] = '\0';
        if (den && !grid)
            return fail(ps, e, e->key, "a ratio axis (n/k = ...) belongs in [grid]");
        size_t idx = param_lookup(exp, base);
        if (idx == GPMC_NO_PARAM) {
            char list[512];
            join_param_names(exp, list, sizeof list);
            if (is_run_key(base))
                return fail(ps, e, e->key, "'%s' belongs in [run], not [%s]", base, e->section);
            suggest(base, names, nnames, hint, sizeof hint);
            return fail(ps, e, base, "unknown parameter of experiment '%s'%s (parameters: %s)",
                        exp->name, hint, list);
        }
        const gpmc_param_def *d = &exp->params[idx];
        if (in->setby[idx]) {
            where_of(ps, in->setby[idx], why, sizeof why);
            return fail(ps, e, e->key,
                        "parameter '%s' is already set at %s (set each parameter once, in "
                        "[grid] or [params])",
                        d->name, why);
        }
        in->setby[idx] = e;
        if (!grid) {
            int st = value_from_text(d, e->value, &spec->fixed[idx], why, sizeof why);
            if (st < 0)
                return fail_oom(ps);
            if (st)
                return fail(ps, e, e->key, "%s", why);
            continue;
        }
        if (is_list_type(d->type))
            return fail(ps, e, e->key,
                        "'%s' is a list parameter (%s) and cannot be a grid axis; set it in "
                        "[params]",
                        d->name, type_name(d->type));
        size_t of = GPMC_NO_PARAM;
        if (den) {
            of = param_lookup(exp, den);
            if (of == GPMC_NO_PARAM) {
                suggest(den, names, nnames, hint, sizeof hint);
                return fail(ps, e, e->key, "unknown parameter '%s' in the ratio%s", den, hint);
            }
            if (of == idx)
                return fail(ps, e, e->key, "a ratio of a parameter to itself");
            if (d->type != GPMC_PARAM_INT && d->type != GPMC_PARAM_REAL)
                return fail(ps, e, e->key, "'%s' is %s; a ratio axis needs an integer or real",
                            d->name, type_name(d->type));
            gpmc_param_type t = exp->params[of].type;
            if (t != GPMC_PARAM_INT && t != GPMC_PARAM_REAL)
                return fail(ps, e, e->key, "'%s' is %s; a ratio needs an integer or real", den,
                            type_name(t));
        }
        axis_ctx c = {.ps = ps, .e = e, .d = d, .is_int = !den && d->type == GPMC_PARAM_INT,
                      .ratio = den != NULL};
        gpmc_axis *ax = &spec->axes[spec->naxes];
        int st = parse_axis(&c, &ax->values, &ax->n);
        if (st)
            return st;
        ax->param = idx;
        ax->ratio_of = of;
        ax->line = e->line;
        in->axis_e[spec->naxes] = e;
        in->is_axis[idx] = (int)++spec->naxes;
    }
    for (size_t a = 0; a < spec->naxes; a++) {
        const gpmc_axis *ax = &spec->axes[a];
        if (ax->ratio_of != GPMC_NO_PARAM && in->is_axis[ax->ratio_of] &&
            spec->axes[in->is_axis[ax->ratio_of] - 1].ratio_of != GPMC_NO_PARAM)
            return fail(ps, in->axis_e[a], in->axis_e[a]->key,
                        "'%s' is itself a ratio axis; a ratio must refer to a fixed value or a "
                        "plain axis",
                        exp->params[ax->ratio_of].name);
    }
    for (size_t i = 0; i < np; i++)
        if (!in->setby[i] && !exp->params[i].def)
            return fail(ps, NULL, exp->params[i].name,
                        "required parameter of experiment '%s' is not set (give it in [params] "
                        "or [grid])",
                        exp->name);
    size_t npts = 1;
    for (size_t a = 0; a < spec->naxes; a++) {
        if (npts > POINTS_MAX / spec->axes[a].n)
            return fail(ps, in->axis_e[a], in->axis_e[a]->key,
                        "the grid has more than %d points", POINTS_MAX);
        npts *= spec->axes[a].n;
    }
    return check_points(in);
}

int gpmc_spec_parse_with(gpmc_spec *spec, const gpmc_experiment *const *registry,
                         const char *path, const char *text, char *const *overrides,
                         size_t noverrides)
{
    if (!spec)
        return gpmc_error(GPMC_EINVAL, "spec", "no spec to fill");
    memset(spec, 0, sizeof *spec);
    if (!path)
        path = "(spec)";
    if (!text || !registry || (noverrides && !overrides))
        return gpmc_error(GPMC_EINVAL, path, "no spec text");
    interp in;
    memset(&in, 0, sizeof in);
    in.spec = spec;
    in.ps.path = path;
    int st = GPMC_OK;

    spec->path = strdup(path);
    spec->text = strdup(text);
    spec->overrides = calloc(noverrides ? noverrides : 1, sizeof *spec->overrides);
    if (!spec->path || !spec->text || !spec->overrides) {
        st = fail_oom(&in.ps);
        goto out;
    }
    for (size_t i = 0; i < noverrides; i++) {
        spec->overrides[i] = strdup(overrides[i] ? overrides[i] : "");
        if (!spec->overrides[i]) {
            st = fail_oom(&in.ps);
            goto out;
        }
        spec->noverrides = i + 1;
    }
    in.ps.path = spec->path;

    int r = run_inih(&in.ps, text);
    if (in.ps.oom || r == -2) {
        st = fail_oom(&in.ps);
        goto out;
    }
    if (r != 0) {
        char lt[128];
        entry at = {.line = r};
        line_text(text, r, lt, sizeof lt);
        st = fail(&in.ps, &at, NULL,
                  "syntax error in '%s': expected '[section]', 'key = value' or a comment", lt);
        goto out;
    }
    for (size_t i = 0; i < spec->noverrides && !st; i++)
        st = apply_override(&in.ps, spec->overrides[i]);
    if (!st)
        st = interpret(&in, registry);
out:
    free(in.setby);
    free(in.axis_e);
    free(in.is_axis);
    parser_free(&in.ps);
    if (st)
        gpmc_spec_free(spec);
    return st;
}

int gpmc_spec_parse(gpmc_spec *spec, const char *path, const char *text,
                    char *const *overrides, size_t noverrides)
{
    return gpmc_spec_parse_with(spec, gpmc_experiments, path, text, overrides, noverrides);
}

int gpmc_spec_load(gpmc_spec *spec, const char *path, char *const *overrides,
                   size_t noverrides)
{
    if (spec)
        memset(spec, 0, sizeof *spec);
    if (!path)
        return gpmc_error(GPMC_EINVAL, "spec", "no spec file given");
    FILE *f = fopen(path, "rb");
    if (!f)
        return gpmc_error(GPMC_EINVAL, path, "cannot open the spec: %s", strerror(errno));
    size_t cap = 4096, n = 0;
    char *buf = malloc(cap);
    int st = buf ? GPMC_OK : gpmc_error(GPMC_ENOMEM, path, "out of memory reading the spec");
    while (!st) {
        if (n + 1 == cap) {
            if (cap >= (size_t)SPEC_MAX_BYTES) {
                st = gpmc_error(GPMC_EINVAL, path, "the spec is larger than %ld bytes",
                                SPEC_MAX_BYTES);
                break;
            }
            char *nb = realloc(buf, 2 * cap);
            if (!nb) {
                st = gpmc_error(GPMC_ENOMEM, path, "out of memory reading the spec");
                break;
            }
            buf = nb;
            cap *= 2;
        }
        size_t got = fread(buf + n, 1, cap - 1 - n, f);
        n += got;
        if (got == 0) {
            if (ferror(f))
                st = gpmc_error(GPMC_EINVAL, path, "cannot read the spec: %s", strerror(errno));
            break;
        }
    }
    fclose(f);
    if (!st) {
        buf[n] = '\0';
        if (memchr(buf, '\0', n))
            st = gpmc_error(GPMC_EINVAL, path, "the spec contains a NUL byte (not a text file)");
    }
    if (!st)
        st = gpmc_spec_parse(spec, path, buf, overrides, noverrides);
    free(buf);
    return st;
}
