/* bin/flurmnd/hw.c — what the machine reports, and slurm.conf's overrides. */
#include "nd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <unistd.h>

/* Value in kB of KEY ("MemTotal") from /proc/meminfo, 0 if unknown. */
static uint64_t meminfo_kb(const char *key)
{
    FILE *f = fopen("/proc/meminfo", "re");
    if (!f)
        return 0;
    char line[256];
    uint64_t v = 0;
    size_t kl = strlen(key);
    while (fgets(line, sizeof line, f)) {
        if (strncmp(line, key, kl) == 0 && line[kl] == ':') {
            v = strtoull(line + kl + 1, NULL, 10);
            break;
        }
    }
    fclose(f);
    return v;
}

void nd_hw_detect(nd_hw_t *hw, const char *tmpdir_path)
{
    memset(hw, 0, sizeof *hw);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    hw->cpus = n > 0 ? (uint32_t)n : 1;
    hw->boards = 1;
    hw->sockets = 1;
    hw->cores_per_socket = hw->cpus;
    hw->threads_per_core = 1;
    hw->real_memory_mb = meminfo_kb("MemTotal") / 1024;
    struct statvfs vfs;
    if (statvfs(tmpdir_path ? tmpdir_path : "/tmp", &vfs) == 0)
        hw->tmp_disk_mb = (uint32_t)((uint64_t)vfs.f_blocks * vfs.f_frsize / (1024 * 1024));
    FILE *f = fopen("/proc/stat", "re");
    if (f) {
        char line[512];
        while (fgets(line, sizeof line, f))
            if (strncmp(line, "btime ", 6) == 0)
                hw->boot_time = strtoll(line + 6, NULL, 10);
        fclose(f);
    }
    if (gethostname(hw->hostname, sizeof hw->hostname - 1) == 0) {
        char *dot = strchr(hw->hostname, '.');
        if (dot)
            *dot = '\0';
    }
    struct utsname u;
    if (uname(&u) == 0) {
        snprintf(hw->arch, sizeof hw->arch, "%.63s", u.machine);
        snprintf(hw->os, sizeof hw->os, "%.64s %.64s %.64s", u.sysname, u.release, u.version);
    }
}

void nd_hw_apply_conf(nd_hw_t *hw, const flurm_conf_node_t *node)
{
    hw->cpus = node->cpus;
    hw->boards = node->boards;
    hw->sockets = node->sockets;
    hw->cores_per_socket = node->cores_per_socket;
    hw->threads_per_core = node->threads_per_core;
    hw->real_memory_mb = node->real_memory;
    hw->tmp_disk_mb = node->tmp_disk;
    if (node->gres)
        snprintf(hw->gres, sizeof hw->gres, "%s", node->gres);
    if (node->features)
        snprintf(hw->features, sizeof hw->features, "%s", node->features);
}

void nd_hw_load(uint32_t *load100, uint64_t *free_mb)
{
    double l = 0;
    FILE *f = fopen("/proc/loadavg", "re");
    if (f) {
        if (fscanf(f, "%lf", &l) != 1)
            l = 0;
        fclose(f);
    }
    *load100 = (uint32_t)(l * 100 + 0.5);
    *free_mb = meminfo_kb("MemAvailable") / 1024;
}
