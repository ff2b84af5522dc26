/* bin/flurmnd/follow.c — which controller flurmnd dials (see nd.h). */
#include "nd.h"

#include <stdlib.h>
#include <string.h>

int nd_follow_init(nd_follow_t *f, const flurm_conf_controller_t *hosts, size_t count)
{
    memset(f, 0, sizeof *f);
    f->lost_at = calloc(count ? count : 1, sizeof *f->lost_at);
    if (!f->lost_at)
        return FLURM_ENOMEM;
    f->hosts = hosts;
    f->count = count ? count : 1;
    return FLURM_OK;
}

void nd_follow_free(nd_follow_t *f)
{
    free(f->lost_at);
    f->lost_at = NULL;
}

static bool held(const nd_follow_t *f, size_t i, double now)
{
    return f->lost_at[i] > 0 && now - f->lost_at[i] < ND_FOLLOW_LOST_HOLD_S;
}

/* The next controller after CUR that was not lost recently; CUR + 1 when all were. */
static size_t next_of(const nd_follow_t *f, double now)
{
    for (size_t k = 1; k < f->count; k++) {
        size_t i = (f->cur + k) % f->count;
        if (!held(f, i, now))
            return i;
    }
    return (f->cur + 1) % f->count;
}

static ssize_t index_of(const nd_follow_t *f, const char *name)
{
    if (!name || !name[0] || !f->hosts)
        return -1;
    for (size_t i = 0; i < f->count; i++)
        if (f->hosts[i].name && strcmp(f->hosts[i].name, name) == 0)
            return (ssize_t)i;
    return -1;
}

static void move_to(nd_follow_t *f, size_t i, nd_follow_step_t *st)
{
    st->moved = i != f->cur;
    f->cur = i;
    f->stays = 0;
}

nd_follow_step_t nd_follow_event(nd_follow_t *f, nd_follow_event_t ev, const char *leader, double now)
{
    nd_follow_step_t st = { 0 };
    switch (ev) {
    case ND_FOLLOW_LOST:
    case ND_FOLLOW_REFUSED:
        if (ev == ND_FOLLOW_LOST)
            f->lost_at[f->cur] = now;
        f->losses++;
        if (f->count > 1)
            move_to(f, next_of(f, now), &st);
        if (ev == ND_FOLLOW_REFUSED)
            st.delay_s = ND_FOLLOW_REFUSED_S;
        else if (f->count == 1 || f->losses >= f->count)
            st.delay_s = ND_FOLLOW_BACKOFF_S;
        return st;
    case ND_FOLLOW_NOT_LEADER: {
        ssize_t k = index_of(f, leader);
        if (k >= 0 && (size_t)k != f->cur && !held(f, (size_t)k, now)) {
            f->redirects++;
            move_to(f, (size_t)k, &st);
            st.redirected = true;
            if (f->redirects > 2 * f->count)   /* controllers naming each other: stale views */
                st.delay_s = ND_FOLLOW_RETRY_S;
            return st;
        }
        st.delay_s = ND_FOLLOW_RETRY_S;
        if (++f->stays >= ND_FOLLOW_STAY_MAX && f->count > 1)
            move_to(f, next_of(f, now), &st);
        return st;
    }
    }
    return st;
}

void nd_follow_registered(nd_follow_t *f)
{
    f->stays = 0;
    f->redirects = 0;
    f->losses = 0;
}
