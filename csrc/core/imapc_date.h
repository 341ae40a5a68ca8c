/* imapc_date.h - flags and dates.
 *
 * Part of the pure-C core (conventions: csrc/core/README.md). */
#ifndef IMAPC_DATE_H
#define IMAPC_DATE_H

#include <stddef.h>
#include <stdint.h>

#include "imapc_resp.h" /* imapc_span */

/* ParseFlags: imaplib's `.*FLAGS \(([^)]*)\)` (greedy: the last "FLAGS ("
 * on the first line that is followed by a ')').  Returns 1 and the span of
 * the flag list, 0 when there is none. */
int imapc_flags_span(const unsigned char *p, size_t len, imapc_span *flags);

typedef struct {
    int day, mon, year, hour, min, sec;
    int zone_sign;       /* +1 or -1 */
    int zone_h, zone_m;
    size_t mon_off;      /* offset of the 3-letter month in the input   */
} imapc_idate;

/* Internaldate2tuple's pattern `.*INTERNALDATE "DD-Mon-YYYY HH:MM:SS +ZZZZ"`
 * (greedy: the last match on the first line).  `mon` is 1..12, or 0 when
 * the month name is not one of Jan..Dec (the caller reports it). */
int imapc_idate_parse(const unsigned char *p, size_t len, imapc_idate *out);

/* Seconds since the epoch of a UTC civil time (calendar.timegm). */
int64_t imapc_timegm(int64_t year, int mon, int day, int hour, int min, int sec);

/* English month abbreviation, 1..12 ("" otherwise): locale independent. */
const char *imapc_month_name(int mon);

#endif /* IMAPC_DATE_H */
