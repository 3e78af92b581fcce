/* Date values for CleverTap: ISO 8601 text or epoch numbers turned into
 * CleverTap's "$D_<epoch seconds>" form. Pure; never consults the local
 * time zone or locale. */
#ifndef TCB_TRANSFORMS_DATES_H
#define TCB_TRANSFORMS_DATES_H

#include <jansson.h>
#include <stdint.h>

#define TCB_TS_MS_THRESHOLD 100000000000LL /* epoch values at or above are milliseconds */

/* Parses ISO 8601 / RFC 3339 text: YYYY-MM-DD, optionally followed by
 * 'T' or ' ' and hh:mm[:ss[.fraction]], optionally Z or +hh:mm / +hhmm / +hh.
 * No offset means UTC. Returns 0 and the epoch seconds in *out, or -1. */
int tcb_date_parse_iso8601(const char *text, int64_t *out);

/* The epoch seconds of a date value (borrowed): ISO 8601 text, an integer
 * or real epoch (milliseconds when at or above TCB_TS_MS_THRESHOLD), or
 * "$D_<epoch>". Returns 0 with *out set, or -1 when v is no date. */
int tcb_date_epoch(const json_t *v, int64_t *out);

/* The "$D_<epoch>" form of v (borrowed): an ISO 8601 string, an integer or
 * real epoch (milliseconds converted), or a string already in $D_ form.
 * Returns 0 with *out a new reference, or with *out NULL when v is not a
 * recognisable date (the caller keeps the value as it is); -1 on allocation
 * failure. */
int tcb_date_value(const json_t *v, json_t **out);

#endif
