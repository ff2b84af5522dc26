/* bin/flurm/flurm.c — `flurm`: the admin tool for what SLURM's clients cannot say.
 *
 *   flurm decode FILE...   print every field of SLURM frames (u32 prefix included) by name
 *   flurm cluster status|transfer NAME [-f slurm.conf]
 *                          the controllers' Raft cluster over the admin port (cluster.c)
 *   flurm version
 */
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <flurm/codec.h>
#include <flurm/msg.h>

#include "codec/msg_registry.h"
#include "codec/table.h"

#include "cluster.h"

#define AT(obj, off, type) (*(type const *)((const char *)(obj) + (off)))

static void dump(const flurm_table_t *t, const void *obj, int depth);

static void indent(int depth)
{
    for (int i = 0; i < depth; i++)
        fputs("  ", stdout);
}

static void dump_field(const flurm_field_t *f, const void *obj, int depth)
{
    indent(depth);
    printf("%s = ", f->name);
    switch (f->type) {
    case FLURM_FT_U8: printf("%u", AT(obj, f->off, uint8_t)); break;
    case FLURM_FT_U16: printf("%u", AT(obj, f->off, uint16_t)); break;
    case FLURM_FT_U32: printf("%" PRIu32, AT(obj, f->off, uint32_t)); break;
    case FLURM_FT_U64: printf("%" PRIu64, AT(obj, f->off, uint64_t)); break;
    case FLURM_FT_BOOL: printf("%s", AT(obj, f->off, bool) ? "true" : "false"); break;
    case FLURM_FT_TIME: printf("%lld", (long long)AT(obj, f->off, time_t)); break;
    case FLURM_FT_DOUBLE: printf("%g", AT(obj, f->off, double)); break;
    case FLURM_FT_STR: {
        const char *s = AT(obj, f->off, char *);
        if (s)
            printf("\"%s\"", s);
        else
            printf("NULL");
        break;
    }
    case FLURM_FT_STR_ARRAY: {
        char **a = AT(obj, f->off, char **);
        uint32_t n = AT(obj, f->aux, uint32_t);
        printf("[%u]", n);
        for (uint32_t i = 0; a && i < n && i < 8; i++)
            printf(" \"%s\"", a[i] ? a[i] : "(null)");
        if (n > 8)
            printf(" ...");
        break;
    }
    case FLURM_FT_MEM:
    case FLURM_FT_U16_ARRAY:
    case FLURM_FT_U32_ARRAY:
    case FLURM_FT_U64_ARRAY:
    case FLURM_FT_BITMAP:
    case FLURM_FT_DOUBLE_ARRAY:
        printf("%s(%u)", AT(obj, f->off, void *) ? "" : "NULL", AT(obj, f->aux, uint32_t));
        break;
    case FLURM_FT_CONST8:
    case FLURM_FT_CONST16:
    case FLURM_FT_CONST32: printf("(const %" PRIu64 ")", f->arg); break;
    case FLURM_FT_NULLSTR: printf("(null string)"); break;
    case FLURM_FT_STRUCT:
        printf("{\n");
        dump(f->sub, (const char *)obj + f->off, depth + 1);
        indent(depth);
        printf("}");
        break;
    case FLURM_FT_LIST:
    case FLURM_FT_RECORDS: {
        const char *e = AT(obj, f->off, char *);
        uint32_t n = AT(obj, f->aux, uint32_t);
        printf("%s[%u] {\n", e ? "" : "NULL", n);
        for (uint32_t i = 0; e && i < n; i++) {
            indent(depth + 1);
            printf("[%u]\n", i);
            dump(f->sub, e + (size_t)i * f->sub->size, depth + 2);
        }
        indent(depth);
        printf("}");
        break;
    }
    case FLURM_FT_CUSTOM: printf("(custom)"); break;
    }
    putchar('\n');
}

static void dump(const flurm_table_t *t, const void *obj, int depth)
{
    for (size_t i = 0; i < t->nfields; i++)
        dump_field(&t->fields[i], obj, depth);
}

static int decode_file(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (!fp) {
        fprintf(stderr, "flurm: %s: %s\n", path, strerror(errno));
        return 1;
    }
    uint8_t *data = NULL;
    size_t len = 0, cap = 0, n;
    uint8_t chunk[65536];
    while ((n = fread(chunk, 1, sizeof chunk, fp)) > 0) {
        if (len + n > cap) {
            cap = (len + n) * 2;
            uint8_t *p = realloc(data, cap);
            if (!p) {
                free(data);
                fclose(fp);
                return 1;
            }
            data = p;
        }
        memcpy(data + len, chunk, n);
        len += n;
    }
    fclose(fp);
    int rc = 0;
    size_t off = 0;
    while (off + 4 <= len) {
        uint32_t flen = flurm_frame_length(data + off);
        if (!flen || flen > len - off - 4) {
            fprintf(stderr, "flurm: %s: bad frame length at offset %zu\n", path, off);
            rc = 1;
            break;
        }
        flurm_frame_t f;
        int err = flurm_frame_decode(data + off + 4, flen, &f);
        if (err) {
            fprintf(stderr, "flurm: %s: %s\n", path, flurm_strerror(err));
            rc = 1;
            break;
        }
        const char *name = flurm_msg_type_name(f.hdr.msg_type);
        printf("%s: %s (%u) version 0x%04x flags 0x%x body %u bytes\n", path, name ? name : "?",
               f.hdr.msg_type, f.hdr.version, f.hdr.flags, f.hdr.body_length);
        const flurm_table_t *t = flurm_msg_table(f.hdr.msg_type);
        void *msg = NULL;
        if (t && (err = flurm_msg_unpack(f.hdr.msg_type, f.body, f.hdr.body_length, &msg)) == 0 && msg) {
            dump(t, msg, 1);
            flurm_msg_free(f.hdr.msg_type, msg);
        } else if (t) {
            printf("  body does not decode: %s\n", flurm_strerror(err));
            rc = 1;
        }
        off += 4 + flen;
    }
    free(data);
    return rc;
}

int main(int argc, char **argv)
{
    if (argc >= 2 && strcmp(argv[1], "version") == 0) {
        printf("flurm %s\n", flurm_version());
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "decode") == 0) {
        int rc = 0;
        for (int i = 2; i < argc; i++)
            rc |= decode_file(argv[i]);
        return rc;
    }
    if (argc >= 2 && strcmp(argv[1], "cluster") == 0)
        return cluster_main(argc - 1, argv + 1);
    fprintf(stderr, "usage: flurm decode FILE...   print SLURM frames field by field\n"
                    "       flurm cluster status [-f slurm.conf]          the controllers' Raft cluster\n"
                    "       flurm cluster transfer NAME [-f slurm.conf]   hand leadership over to NAME\n"
                    "       flurm version\n");
    return 2;
}
