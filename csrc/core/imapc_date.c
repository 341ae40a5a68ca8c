/* imapc_date.c - FLAGS and INTERNALDATE scanning, calendar arithmetic. */
#include "imapc_date.h"
#include "imapc_resp.h"

#include <string.h>

static const char *const month_names[13] = {
    "", "Jan", "Feb", "Mar", "Apr", "May", "Jun",
    "Jul", "Aug", "Sep", "Oct", "Nov", "Dec",
};

const char *
imapc_month_name(int mon)
{
    return (mon >= 1 && mon <= 12) ? month_names[mon] : "";
}

/* How far a leading `.*` can reach: the index of the first LF, or len. */
static size_t
first_line_len(const unsigned char *p, size_t len)
{
    const unsigned char *lf = memchr(p, '\n', len);
    return lf ? (size_t)(lf - p) : len;
}

int
imapc_flags_span(const unsigned char *p, size_t len, imapc_span *flags)
{
    static const char key[] = "FLAGS (";
    const size_t klen = sizeof(key) - 1;
    size_t reach = first_line_len(p, len), last_paren, i;

    memset(flags, 0, sizeof(*flags));
    if (len < klen + 1)
        return 0;
    /* [^)]* may cross lines, so any ')' after the key closes the list. */
    last_paren = len;
    while (last_paren > 0 && p[last_paren - 1] != ')')
        last_paren--;
    if (last_paren == 0)
        return 0;
    last_paren--; /* index of the last ')' */
    i = reach < len - klen ? reach : len - klen;
    for (;;) {
        if (i + klen <= last_paren && memcmp(p + i, key, klen) == 0) {
            const unsigned char *close = memchr(p + i + klen, ')', len - (i + klen));
            flags->off = i + klen;
            flags->len = (size_t)(close - (p + i + klen));
            flags->present = 1;
            return 1;
        }
        if (i == 0)
            return 0;
        i--;
    }
}

static int
dig(unsigned char c)
{
    return c >= '0' && c <= '9';
}

static int
num2(const unsigned char *p)
{
    return (p[0] - '0') * 10 + (p[1] - '0');
}

/* `"DD-Mon-YYYY HH:MM:SS +ZZZZ"` after the key, 27 bytes. */
static int
idate_at(const unsigned char *q, imapc_idate *out)
{
    int m;
    if (!((q[0] == ' ' || (q[0] >= '0' && q[0] <= '3')) && dig(q[1]) && q[2] == '-'))
        return 0;
    if (!(q[3] >= 'A' && q[3] <= 'Z' && q[4] >= 'a' && q[4] <= 'z' && q[5] >= 'a'
          && q[5] <= 'z' && q[6] == '-'))
        return 0;
    if (!(dig(q[7]) && dig(q[8]) && dig(q[9]) && dig(q[10]) && q[11] == ' '))
        return 0;
    if (!(dig(q[12]) && dig(q[13]) && q[14] == ':' && dig(q[15]) && dig(q[16])
          && q[17] == ':' && dig(q[18]) && dig(q[19]) && q[20] == ' '))
        return 0;
    if (!((q[21] == '-' || q[21] == '+') && dig(q[22]) && dig(q[23]) && dig(q[24])
          && dig(q[25]) && q[26] == '"'))
        return 0;
    out->day = (q[0] == ' ' ? 0 : (q[0] - '0') * 10) + (q[1] - '0');
    out->mon = 0;
    for (m = 1; m <= 12; m++)
        if (memcmp(q + 3, month_names[m], 3) == 0)
            out->mon = m;
    out->year = num2(q + 7) * 100 + num2(q + 9);
    out->hour = num2(q + 12);
    out->min = num2(q + 15);
    out->sec = num2(q + 18);
    out->zone_sign = q[21] == '-' ? -1 : 1;
    out->zone_h = num2(q + 22);
    out->zone_m = num2(q + 24);
    return 1;
}

int
imapc_idate_parse(const unsigned char *p, size_t len, imapc_idate *out)
{
    static const char key[] = "INTERNALDATE \"";
    const size_t klen = sizeof(key) - 1, total = klen + 27;
    size_t reach = first_line_len(p, len), i;

    if (len < total)
        return 0;
    i = reach < len - total ? reach : len - total;
    for (;;) {
        if (memcmp(p + i, key, klen) == 0 && idate_at(p + i + klen, out)) {
            out->mon_off = i + klen + 3;
            return 1;
        }
        if (i == 0)
            return 0;
        i--;
    }
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil); valid for any year. */
static int64_t
days_from_civil(int64_t y, int m, int d)
{
    int64_t era, yoe, doy, doe;
    y -= m <= 2;
    era = (y >= 0 ? y : y - 399) / 400;
    yoe = y - era * 400;
    doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
    doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
    return era * 146097 + doe - 719468;
}

int64_t
imapc_timegm(int64_t year, int mon, int day, int hour, int min, int sec)
{
    /* calendar.timegm: the first of the month plus (day - 1) days, so
     * out-of-range days, hours and minutes simply carry. */
    int64_t days = days_from_civil(year, mon, 1) + day - 1;
    return days * 86400 + (int64_t)hour * 3600 + (int64_t)min * 60 + sec;
}
