/* ISO 8601 parsing and the "$D_<epoch>" form (see dates.h). Calendar maths is
 * done here (days from civil), never with timegm/mktime, so no time zone,
 * locale or global state is involved. */
#include "transforms/dates.h"

#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Reads exactly n digits at *p; returns -1 when they are not all digits. */
static int digits(const char **p, int n)
{
    int v = 0;
    for (int i = 0; i < n; i++) {
        if (!isdigit((unsigned char)(*p)[i])) {
            return -1;
        }
        v = v * 10 + ((*p)[i] - '0');
    }
    *p += n;
    return v;
}

static int days_in_month(int y, int m)
{
    static const int days[] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
    int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
    return m == 2 && leap ? 29 : days[m - 1];
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

/* Parses Z / +hh:mm / +hhmm / +hh at p into seconds east of UTC. */
static int parse_offset(const char *p, int *offset_s)
{
    int sign, hh, mm = 0;
    if (*p == '\0') {
        *offset_s = 0;
        return 0;
    }
    if ((*p == 'Z' || *p == 'z') && p[1] == '\0') {
        *offset_s = 0;
        return 0;
    }
    if (*p != '+' && *p != '-') {
        return -1;
    }
    sign = *p == '-' ? -1 : 1;
    p++;
    if ((hh = digits(&p, 2)) < 0 || hh > 23) {
        return -1;
    }
    if (*p == ':') {
        p++;
    }
    if (*p != '\0' && ((mm = digits(&p, 2)) < 0 || mm > 59)) {
        return -1;
    }
    if (*p != '\0') {
        return -1;
    }
    *offset_s = sign * (hh * 3600 + mm * 60);
    return 0;
}

int tcb_date_parse_iso8601(const char *text, int64_t *out)
{
    const char *p = text;
    int y, mo, d, h = 0, mi = 0, s = 0, offset_s = 0;
    if ((y = digits(&p, 4)) < 0 || *p++ != '-' || (mo = digits(&p, 2)) < 1 || mo > 12 ||
        *p++ != '-' || (d = digits(&p, 2)) < 1 || d > days_in_month(y, mo)) {
        return -1;
    }
    if (*p == 'T' || *p == 't' || *p == ' ') {
        p++;
        if ((h = digits(&p, 2)) < 0 || h > 23 || *p++ != ':' || (mi = digits(&p, 2)) < 0 ||
            mi > 59) {
            return -1;
        }
        if (*p == ':') {
            p++;
            if ((s = digits(&p, 2)) < 0 || s > 60) {
                return -1;
            }
            if (*p == '.' || *p == ',') {
                p++;
                if (!isdigit((unsigned char)*p)) {
                    return -1;
                }
                while (isdigit((unsigned char)*p)) {
                    p++;
                }
            }
        }
    }
    if (parse_offset(p, &offset_s) != 0) {
        return -1;
    }
    *out = days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + s - offset_s;
    return 0;
}

/* A number is seconds, or milliseconds when at or above the threshold. */
static int64_t number_epoch(int64_t epoch)
{
    return epoch >= TCB_TS_MS_THRESHOLD || epoch <= -TCB_TS_MS_THRESHOLD ? epoch / 1000 : epoch;
}

static json_t *epoch_value(int64_t epoch)
{
    char buf[32];
    snprintf(buf, sizeof(buf), "$D_%" PRId64, epoch);
    return json_string(buf);
}

int tcb_date_epoch(const json_t *v, int64_t *out)
{
    const char *s = json_string_value(v);
    if (json_is_integer(v)) {
        *out = number_epoch(json_integer_value(v));
        return 0;
    }
    if (json_is_real(v)) {
        double r = json_real_value(v);
        if (r != r || r > 9.0e15 || r < -9.0e15) {
            return -1;
        }
        *out = number_epoch((int64_t)r);
        return 0;
    }
    if (s != NULL && strncmp(s, "$D_", 3) == 0) {
        char *end;
        long long n;
        errno = 0;
        n = strtoll(s + 3, &end, 10);
        if (errno != 0 || end == s + 3 || *end != '\0') {
            return -1;
        }
        *out = n;
        return 0;
    }
    return s != NULL ? tcb_date_parse_iso8601(s, out) : -1;
}

int tcb_date_value(const json_t *v, json_t **out)
{
    int64_t epoch;
    *out = NULL;
    if (json_is_string(v) && strncmp(json_string_value(v), "$D_", 3) == 0) {
        *out = json_incref((json_t *)v);
        return 0;
    }
    if (tcb_date_epoch(v, &epoch) != 0) {
        return 0;
    }
    *out = epoch_value(epoch);
    return *out != NULL ? 0 : -1;
}
