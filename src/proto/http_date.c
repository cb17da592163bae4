/* HTTP-date (RFC 9110 5.6.7): IMF-fixdate out; IMF-fixdate, RFC 850 and
 * asctime in. Civil-date arithmetic is done here (days from/to the epoch)
 * so it needs neither the time zone nor gmtime_r's locks. */
#include "ipcbox/http_fields.h"

#include <errno.h>
#include <string.h>

static const char wdays[7][4] = {"Sun", "Mon", "Tue", "Wed", "Thu", "Fri", "Sat"};
static const char months[12][4] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                   "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

/* Days since 1970-01-01 of y-m-d (proleptic Gregorian; H. Hinnant). */
static int64_t days_from_civil(int64_t y, unsigned m, unsigned d)
{
    y -= m <= 2;
    int64_t era = (y >= 0 ? y : y - 399) / 400;
    unsigned yoe = (unsigned)(y - era * 400);
    unsigned doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    unsigned doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + (int64_t)doe - 719468;
}

static void civil_from_days(int64_t z, int64_t *y, unsigned *m, unsigned *d)
{
    z += 719468;
    int64_t era = (z >= 0 ? z : z - 146096) / 146097;
    unsigned doe = (unsigned)(z - era * 146097);
    unsigned yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
    unsigned doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
    unsigned mp = (5 * doy + 2) / 153;
    *d = doy - (153 * mp + 2) / 5 + 1;
    *m = mp < 10 ? mp + 3 : mp - 9;
    *y = (int64_t)yoe + era * 400 + (*m <= 2);
}

static void put2(char *p, unsigned v)
{
    p[0] = (char)('0' + v / 10 % 10);
    p[1] = (char)('0' + v % 10);
}

size_t ibx_http_date_format(int64_t t, char *buf)
{
    int64_t days = t >= 0 ? t / 86400 : -((-t + 86399) / 86400);
    int64_t secs = t - days * 86400;
    int64_t y;
    unsigned m, d;
    civil_from_days(days, &y, &m, &d);
    if (y < 0)
        y = 0;
    if (y > 9999)
        y = 9999;
    unsigned wd = (unsigned)(((days % 7) + 7 + 4) % 7);   /* 1970-01-01: Thu */
    memcpy(buf, wdays[wd], 3);
    buf[3] = ',';
    buf[4] = ' ';
    put2(buf + 5, d);
    buf[7] = ' ';
    memcpy(buf + 8, months[m - 1], 3);
    buf[11] = ' ';
    put2(buf + 12, (unsigned)(y / 100));
    put2(buf + 14, (unsigned)(y % 100));
    buf[16] = ' ';
    put2(buf + 17, (unsigned)(secs / 3600));
    buf[19] = ':';
    put2(buf + 20, (unsigned)(secs / 60 % 60));
    buf[22] = ':';
    put2(buf + 23, (unsigned)(secs % 60));
    memcpy(buf + 25, " GMT", 5);   /* with the NUL */
    return IBX_HTTP_DATE_LEN;
}

/* A cursor over the input. */
struct cur {
    const char *p, *e;
};

static bool lit(struct cur *c, const char *s)
{
    size_t n = strlen(s);
    if ((size_t)(c->e - c->p) < n || memcmp(c->p, s, n) != 0)
        return false;
    c->p += n;
    return true;
}

/* Exactly min..max digits. */
static bool num(struct cur *c, int min, int max, unsigned *out)
{
    unsigned v = 0;
    int k = 0;
    while (c->p < c->e && k < max && *c->p >= '0' && *c->p <= '9') {
        v = v * 10 + (unsigned)(*c->p - '0');
        c->p++;
        k++;
    }
    *out = v;
    return k >= min;
}

static bool month(struct cur *c, unsigned *m)
{
    for (unsigned i = 0; i < 12; i++)
        if (lit(c, months[i])) {
            *m = i + 1;
            return true;
        }
    return false;
}

static bool hms(struct cur *c, unsigned *h, unsigned *mi, unsigned *s)
{
    return num(c, 2, 2, h) && lit(c, ":") && num(c, 2, 2, mi) && lit(c, ":") &&
           num(c, 2, 2, s) && *h < 24 && *mi < 60 && *s < 61;
}

static bool day_name(struct cur *c, bool long_form)
{
    static const char *const longs[7] = {"Sunday", "Monday", "Tuesday",
        "Wednesday", "Thursday", "Friday", "Saturday"};
    for (int i = 0; i < 7; i++)
        if (lit(c, long_form ? longs[i] : wdays[i]))
            return true;
    return false;
}

int ibx_http_date_parse(const char *s, size_t n, int64_t *out)
{
    struct cur c = {s, s + n};
    unsigned d, m, y, h, mi, sec;
    struct cur save = c;
    if (day_name(&c, false) && lit(&c, ", ")) {
        /* IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT */
        if (!(num(&c, 2, 2, &d) && lit(&c, " ") && month(&c, &m) &&
              lit(&c, " ") && num(&c, 4, 4, &y) && lit(&c, " ") &&
              hms(&c, &h, &mi, &sec) && lit(&c, " GMT")))
            return -EINVAL;
    } else if ((c = save, day_name(&c, true)) && lit(&c, ", ")) {
        /* RFC 850: Sunday, 06-Nov-94 08:49:37 GMT */
        if (!(num(&c, 2, 2, &d) && lit(&c, "-") && month(&c, &m) &&
              lit(&c, "-") && num(&c, 2, 2, &y) && lit(&c, " ") &&
              hms(&c, &h, &mi, &sec) && lit(&c, " GMT")))
            return -EINVAL;
        y += y < 70 ? 2000 : 1900;   /* RFC 9110: 50-year window, roughly */
    } else if ((c = save, day_name(&c, false)) && lit(&c, " ")) {
        /* asctime: Sun Nov  6 08:49:37 1994 */
        if (!(month(&c, &m) && lit(&c, " ")))
            return -EINVAL;
        if (c.p < c.e && *c.p == ' ')
            c.p++;
        if (!(num(&c, 1, 2, &d) && lit(&c, " ") && hms(&c, &h, &mi, &sec) &&
              lit(&c, " ") && num(&c, 4, 4, &y)))
            return -EINVAL;
    } else {
        return -EINVAL;
    }
    if (c.p != c.e || d < 1 || d > 31)
        return -EINVAL;
    *out = days_from_civil((int64_t)y, m, d) * 86400 + h * 3600 + mi * 60 + sec;
    return 0;
}
