/* Defect reproducer: in 0.15.0 the leader only advances commit_index when a
 * majority has matched its *own last_stored* index (replicationQuorum(r,
 * r->last_stored), fixed upstream in v0.17.1 by 1996d32 "commit peer
 * match_index instead of leader last_stored").  Under a steady stream of
 * proposals that arrive faster than one replication round trip, nothing
 * commits until the stream stops. */
#include "common.h"

static struct apply_req reqs[20000];
static unsigned nreq, ncommitted_during;
static raft_time next_at, interval, stream_end;
static struct raft *L;

static void hook(struct raft_fixture *f, struct raft_fixture_event *e)
{
    (void)e;
    raft_time now = raft_fixture_time(f);
    while (now >= next_at && now < stream_end && nreq < 20000) {
        if (propose(L, &reqs[nreq], nreq + 1) == 0) nreq++;
        next_at += interval;
    }
}

static bool all_fired(struct raft_fixture *f, void *arg)
{
    (void)f;
    (void)arg;
    for (unsigned i = 0; i < nreq; i++)
        if (!reqs[i].fired) return false;
    return true;
}

int main(void)
{
    unsigned ivs[] = {100, 60, 40, 30, 20, 10, 5, 10};
    unsigned durs[] = {3000, 3000, 3000, 3000, 3000, 3000, 3000, 30000};
    printf("3 servers, fixture defaults: network latency 15 ms, disk latency 10 ms; 3 s proposal stream\n");
    for (unsigned k = 0; k < sizeof ivs / sizeof ivs[0]; k++) {
        struct raft_fixture f;
        cluster_setup(&f, 3, 3);
        cluster_start(&f);
        raft_fixture_elect(&f, 0);
        L = raft_fixture_get(&f, 0);
        raft_fixture_step_until_elapsed(&f, 200);
        nreq = 0;
        interval = ivs[k];
        raft_time t0 = raft_fixture_time(&f);
        next_at = t0;
        stream_end = t0 + durs[k];
        /* per-request submit time = t0 + i*interval */
        raft_fixture_hook(&f, hook);
        raft_fixture_step_until_elapsed(&f, durs[k]);
        raft_index commit_at_end = L->commit_index;
        ncommitted_during = 0;
        for (unsigned i = 0; i < nreq; i++)
            if (reqs[i].fired) ncommitted_during++;
        raft_fixture_hook(&f, NULL);
        raft_fixture_step_until(&f, all_fired, NULL, 10000);
        raft_time drain = raft_fixture_time(&f) - stream_end;
        printf("  one proposal every %3u ms for %2u s: %5u proposed, %5u committed during the stream "
               "(commit_index %llu of last %llu); the rest committed %llu ms after the stream stopped\n",
               ivs[k], durs[k] / 1000, nreq, ncommitted_during, commit_at_end, raft_last_index(L), drain);
        if (ivs[k] >= 60)
            CHECK(ncommitted_during >= nreq - 2, "slow stream (%u ms): commits keep up", ivs[k]);
        else
            CHECK(ncommitted_during >= nreq / 2,
                  "fast stream (%u ms): at least half the proposals commit while the stream runs (%u/%u)", ivs[k],
                  ncommitted_during, nreq);
        raft_fixture_close(&f);
    }
    SUMMARY();
}
