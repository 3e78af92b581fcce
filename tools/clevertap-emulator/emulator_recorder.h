/* The --record file: one NDJSON line per processed record,
 * {"account":"ID","record":{...}}, appended and flushed before the request is
 * answered, so a client that got its 200 can read its records. Bounded: past
 * max_bytes it stops writing (and says how many it skipped). Never logs. */
#ifndef TCB_EMULATOR_RECORDER_H
#define TCB_EMULATOR_RECORDER_H

#include <jansson.h>
#include <stddef.h>

struct tcb_emu_recorder;

/* Opens path for appending (created 0644). max_bytes caps the bytes this run
 * writes (0 = no cap). Returns a new recorder, or NULL with a message in err. */
struct tcb_emu_recorder *tcb_emu_recorder_open(const char *path, unsigned long long max_bytes,
                                               char *err, size_t err_len);
/* Appends one line per records[i] with accepted[i] set (all borrowed) for
 * account_id, in order, under the recorder's lock. Returns how many lines were
 * written (fewer when the cap is reached or a write fails). NULL recorder:
 * returns count of accepted records as if written (nothing to record). */
int tcb_emu_recorder_write(struct tcb_emu_recorder *recorder, const char *account_id,
                           const json_t *records, const unsigned char *accepted, size_t count);
/* Closes and frees; accepts NULL. */
void tcb_emu_recorder_close(struct tcb_emu_recorder *recorder);

#endif
