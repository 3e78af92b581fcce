/* `clevertap-sink --transform FILE|-`: runs only the transform and validation
 * stage over NDJSON input (one Kafka message value a line) and prints one
 * {"records":[...],"dead_letters":[...]} line per input line. No Kafka, no
 * network. A bad line never stops the run. */
#ifndef TCB_CONSUMER_TRANSFORM_CLI_H
#define TCB_CONSUMER_TRANSFORM_CLI_H

#include <stdio.h>

struct tcb_config;

/* Reads path ("-" = stdin), writes results to out. cfg is borrowed.
 * Returns an exit code: 0 when the input was read to the end (whatever the
 * verdicts), 1 when it could not be opened or read or the output could not be
 * written (full disk, closed pipe). */
int tcb_transform_cli_run(const struct tcb_config *cfg, const char *path, FILE *out);

#endif
