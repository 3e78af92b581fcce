/* libFuzzer target for the configuration loader: any bytes in, a config or a
 * list of diagnostics out, never a crash, leak or unbounded allocation. */
#include "config/config.h"

#include <stddef.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct tcb_config_diag diag = {0};
    struct tcb_config *cfg = tcb_config_load_buffer("fuzz.yaml", (const char *)data, size, &diag);
    tcb_config_destroy(cfg);
    tcb_config_diag_free(&diag);
    return 0;
}
