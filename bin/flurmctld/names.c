/* bin/flurmctld/names.c — names the controller shows for ids: users, node lists. */
#include "ctl.h"

#include <pwd.h>
#include <stdio.h>

#include <flurm/hostlist.h>

char *ctl_node_names(const flurm_conf_t *c, const uint32_t *idx, size_t n)
{
    flurm_hostlist_t *hl = flurm_hostlist_new();
    for (size_t i = 0; hl && i < n; i++)
        if (idx[i] < c->node_count)
            flurm_hostlist_push_host(hl, c->nodes[idx[i]].name);
    char *expr = hl ? flurm_hostlist_compress(hl) : NULL;
    flurm_hostlist_free(hl);
    return expr;
}

const char *ctl_user_name(uint32_t uid)
{
    static struct { uint32_t uid; char name[64]; } cache[64];
    static unsigned used;
    for (unsigned i = 0; i < used; i++)
        if (cache[i].uid == uid)
            return cache[i].name;
    unsigned slot = used < 64 ? used++ : uid % 64;
    struct passwd pw, *res = NULL;
    char buf[1024];
    cache[slot].uid = uid;
    if (getpwuid_r(uid, &pw, buf, sizeof buf, &res) == 0 && res)
        snprintf(cache[slot].name, sizeof cache[slot].name, "%s", pw.pw_name);
    else
        snprintf(cache[slot].name, sizeof cache[slot].name, "%u", uid);
    return cache[slot].name;
}
