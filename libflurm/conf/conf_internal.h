/* libflurm/conf/conf_internal.h — shared between the slurm.conf parser's source files. */
#ifndef FLURM_CONF_INTERNAL_H
#define FLURM_CONF_INTERNAL_H

#include <stdbool.h>

typedef enum conf_record {
    CONF_REC_GLOBAL = 0,
    CONF_REC_NODE,
    CONF_REC_PARTITION,
    CONF_REC_OTHER   /* DownNodes=, NodeSet=, FrontendName= */
} conf_record_t;

/* True if SLURM 22.05 accepts KEY (case-insensitive) in a REC line. */
bool conf_key_known(conf_record_t rec, const char *key);

#endif
