/* tests/unit/munged_fixture.h — a private munged (tests/lib/munged.sh) for a whole cmocka group:
 * munged_start() in the group setup, munged_stop() in its teardown; g_sock is its socket, g_dir
 * its directory. */
#ifndef FLURM_TEST_MUNGED_FIXTURE_H
#define FLURM_TEST_MUNGED_FIXTURE_H

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MUNGED_SH SOURCE_ROOT "/tests/lib/munged.sh"

static char g_dir[64];
static char g_sock[PATH_MAX];

/* Starts munged in a new /tmp/PREFIX-XXXXXX; 0 on success (a cmocka setup's result). */
static int munged_start(const char *prefix)
{
    snprintf(g_dir, sizeof g_dir, "/tmp/%s-XXXXXX", prefix);
    if (!mkdtemp(g_dir))
        return -1;
    char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof cmd, "'%s' start '%s'", MUNGED_SH, g_dir);
    FILE *p = popen(cmd, "r");
    if (!p)
        return -1;
    char *line = fgets(g_sock, sizeof g_sock, p);
    int status = pclose(p);
    if (!line || status != 0)
        return -1;
    g_sock[strcspn(g_sock, "\n")] = '\0';
    return 0;
}

static int munged_stop(void)
{
    char cmd[PATH_MAX + 256];
    snprintf(cmd, sizeof cmd, "'%s' stop '%s' && rm -rf '%s'", MUNGED_SH, g_dir, g_dir);
    return system(cmd) == 0 ? 0 : -1;
}

#endif
