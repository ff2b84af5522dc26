/* libflurm/codec/msg_info_stub.c — default for flurm_msg_info_table(): no info-response
 * layouts. Weak, so the module defining those layouts overrides it when linked in. */
#include "codec/msg_registry.h"

__attribute__((weak)) const flurm_table_t *flurm_msg_info_table(uint16_t msg_type)
{
    (void)msg_type;
    return NULL;
}
