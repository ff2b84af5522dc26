/* libflurm/state/depend.h — the one parser of SLURM's --dependency syntax (sbatch, scontrol
 * update Dependency=, and the stored form slurmctld shows). Pure text <-> list; what the items
 * mean against the jobs is libflurm/state/state.c's business.
 *
 * Syntax (slurmctld 22.05 update_job_dependency, src/slurmctld/job_scheduler.c):
 *   list  := "" | "0" | item { sep item }        sep := ',' (AND) | '?' (OR)
 *   item  := "singleton" [state]
 *          | kind ":" ref { ":" ref }           kind (case-insensitive): after afterany afterok
 *                                                afternotok aftercorr afterburstbuffer
 *          | jobid                               old form: afterany:jobid (only ',' may follow)
 *   ref   := jobid [ "_" ( task | "*" | "[" ranges "]" ) ] [ "+" minutes ] [ state ]
 *   state := "(" word ")"                       "(failed)" keeps an item failed; any other word
 *                                                reads as unfulfilled ("fulfilled" is not taken)
 * A "+minutes" also applies to the ids after it in the same item ("after:1+2:3" is after:1+2 and
 * after:3+2), as slurmctld parses it. One '?' anywhere makes the whole list OR (slurmctld sets its OR flag on every item). Repeated
 * (kind, job, task) items are kept once. "expand:" is FLURM_ENOTSUP (slurmctld answers
 * ESLURM_NOT_SUPPORTED unless job expansion is permitted; FLURM never permits it). Stricter
 * than slurmctld: trailing text after an item's "+minutes" or "(state)" is FLURM_EINVAL
 * (slurmctld silently ignores it). */
#ifndef FLURM_STATE_DEPEND_H
#define FLURM_STATE_DEPEND_H

#include <stdbool.h>
#include <stdint.h>

#include <flurm/common.h>

/* slurmctld.h's SLURM_DEPEND_* numbering. */
typedef enum flurm_dep_kind {
    FLURM_DEP_AFTER = 1,
    FLURM_DEP_AFTER_ANY = 2,
    FLURM_DEP_AFTER_NOT_OK = 3,
    FLURM_DEP_AFTER_OK = 4,
    FLURM_DEP_SINGLETON = 5,
    FLURM_DEP_AFTER_CORR = 7,
    FLURM_DEP_BURST_BUFFER = 8,
} flurm_dep_kind_t;

typedef enum flurm_dep_state {
    FLURM_DEP_UNFULFILLED = 0,
    FLURM_DEP_FULFILLED = 1,
    FLURM_DEP_FAILED = 2,
} flurm_dep_state_t;

#define FLURM_DEP_TASK_NONE 0xFFFFFFFEu   /* the job as a whole (SLURM's NO_VAL) */
#define FLURM_DEP_TASK_ALL 0xFFFFFFFFu    /* every task of an array: "123_*" (INFINITE) */

typedef struct flurm_dep_item {
    flurm_dep_kind_t kind;
    uint32_t job_id;              /* 0 for singleton */
    uint32_t task_id;             /* FLURM_DEP_TASK_NONE, FLURM_DEP_TASK_ALL or a task id */
    uint32_t minutes;             /* "+minutes" (meaningful for after only); 0 = none */
    flurm_dep_state_t state;
} flurm_dep_item_t;

typedef struct flurm_dep_list {
    flurm_dep_item_t *items;      /* owned */
    uint32_t n;
    bool any;                     /* '?': satisfied by any one item, else by all */
} flurm_dep_list_t;

/* Parses TEXT (NULL, "" and "0" give the empty list) into *OUT. FLURM_EINVAL for malformed text,
 * FLURM_ENOTSUP for "expand:", FLURM_ENOMEM; on failure *OUT is the empty list. */
int flurm_dep_parse(const char *text, flurm_dep_list_t *out);

/* Frees the items; L becomes the empty list. NULL is fine. */
void flurm_dep_list_free(flurm_dep_list_t *l);

/* The list as slurmctld shows and stores it (_depend_list2str): every item not yet fulfilled as
 * "kind:job[_task|_*][+minutes](unfulfilled|failed)" or "singleton(...)", joined by '?' for an
 * OR list, else ','. *OUT is NULL when nothing is left to show (malloc'd otherwise).
 * FLURM_ENOMEM leaves *OUT NULL. */
int flurm_dep_render(const flurm_dep_list_t *l, char **out);

/* Name of KIND as slurmctld prints it ("afterok"); "unknown" for other values. */
const char *flurm_dep_kind_name(flurm_dep_kind_t kind);

#endif
