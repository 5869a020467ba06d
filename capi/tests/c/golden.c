/* The C test of the C ABI: every case capi/test.sh wrote (golden files,
 * damaged copies, policy variants) through rvf_boot.h, one line per case in
 * the format of capi/tests/support/cases.rs; test.sh compares the lines
 * with what the Rust API gives (expected.txt) and the SHA-256 of each image
 * this program writes (NNNN.img) with the line's. Every buffer is a heap
 * block of exactly its length, so AddressSanitizer sees any byte read or
 * written outside it.
 *
 *   golden DIR      reads DIR/cases.txt, writes DIR/NNNN.img, prints lines */
#include "rvf_boot.h"

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void die(const char *what, const char *arg) {
    fprintf(stderr, "golden: %s %s: %s\n", what, arg, strerror(errno));
    exit(2);
}

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) die("open", path);
    if (fseek(f, 0, SEEK_END) != 0) die("seek", path);
    long n = ftell(f);
    if (n < 0 || fseek(f, 0, SEEK_SET) != 0) die("size", path);
    /* Exactly n bytes (1 for an empty file, never read): ASan guards the end. */
    uint8_t *b = malloc(n ? (size_t)n : 1);
    if (!b) die("malloc", path);
    if (n && fread(b, 1, (size_t)n, f) != (size_t)n) die("read", path);
    fclose(f);
    *len = (size_t)n;
    return b;
}

static int unhex(const char *s, uint8_t *out, size_t n) {
    for (size_t i = 0; i < n; i++) {
        unsigned v;
        if (sscanf(s + 2 * i, "%2x", &v) != 1) return -1;
        out[i] = (uint8_t)v;
    }
    return 0;
}

static void print_hex(const uint8_t *b, size_t n) {
    if (n == 0) {
        fputs("-", stdout);
        return;
    }
    for (size_t i = 0; i < n; i++) printf("%02x", b[i]);
}

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: golden DIR\n");
        return 2;
    }
    const char *dir = argv[1];
    char path[4096];
    snprintf(path, sizeof path, "%s/cases.txt", dir);
    FILE *list = fopen(path, "r");
    if (!list) die("open", path);
    char name[512], file[64], pol[2048];
    /* The state at an odd address: any alignment works. */
    uint8_t *state_block = malloc(RVF_BOOT_STATE_SIZE + 1);
    if (!state_block) die("malloc", "state");
    uint8_t *state = state_block + 1;
    unsigned count = 0;
    while (fscanf(list, "%511s %63s %2047s", name, file, pol) == 3) {
        snprintf(path, sizeof path, "%s/%s", dir, file);
        size_t len;
        uint8_t *rvf = read_file(path, &len);

        struct rvf_boot_policy policy;
        memset(&policy, 0, sizeof policy);
        uint8_t keys[32 * 8], kpin[32], cpin[32];
        int with_policy = strcmp(pol, "-") != 0;
        if (with_policy) {
            char keyhex[sizeof pol], khex[80], chex[80];
            unsigned flags, epoch;
            if (sscanf(pol, "%u:%u:%[^:]:%79[^:]:%79s", &flags, &epoch, keyhex, khex, chex) != 5) {
                fprintf(stderr, "golden: bad policy %s\n", pol);
                return 2;
            }
            policy.flags = flags;
            policy.min_epoch = epoch;
            if (strcmp(keyhex, "-") != 0) {
                size_t n = strlen(keyhex) / 64;
                if (n > 8 || unhex(keyhex, keys, 32 * n)) return 2;
                policy.trusted_keys = keys;
                policy.trusted_keys_count = n;
            }
            if (strcmp(khex, "-") != 0) {
                if (unhex(khex, kpin, 32)) return 2;
                policy.kernel_sha256 = kpin;
            }
            if (strcmp(chex, "-") != 0) {
                if (unhex(chex, cpin, 32)) return 2;
                policy.cmdline_sha256 = cpin;
            }
        }

        uint64_t size = UINT64_MAX;
        struct rvf_boot_error err;
        int size_status = with_policy
            ? rvf_boot_image_size_with_policy(rvf, len, &policy, &size, &err)
            : rvf_boot_image_size(rvf, len, &size);
        if (with_policy && err.status != size_status) {
            fprintf(stderr, "golden: %s: error.status %d, returned %d\n", name, err.status, size_status);
            return 1;
        }
        uint8_t *out = NULL;
        size_t out_len = 0;
        if (size_status == RVF_BOOT_OK && size > 0) {
            if (size > SIZE_MAX || !(out = malloc((size_t)size))) die("malloc", name);
            out_len = (size_t)size;
        }
        struct rvf_boot_kernel k;
        memset(&k, 0xA5, sizeof k);
        int status = with_policy
            ? rvf_boot_extract_with_policy(rvf, len, &policy, out, out_len, state,
                                           RVF_BOOT_STATE_SIZE, &k)
            : rvf_boot_extract(rvf, len, out, out_len, state, RVF_BOOT_STATE_SIZE, &k);
        if (k.error.status != status) {
            fprintf(stderr, "golden: %s: kernel.error.status %d, returned %d\n", name, k.error.status, status);
            return 1;
        }
        /* The class sentence exists for every status returned. */
        char sentence[256];
        size_t sl = rvf_boot_error_message(status, sentence, sizeof sentence);
        if (sl == 0 || sl >= sizeof sentence || strncmp(sentence, "unknown", 7) == 0) {
            fprintf(stderr, "golden: %s: no sentence for status %d\n", name, status);
            return 1;
        }

        const char *format = "-";
        char at[64] = "-";
        if (status == RVF_BOOT_OK) {
            uintptr_t img = (uintptr_t)k.image, base = (uintptr_t)rvf;
            if (k.image == out && out != NULL) {
                snprintf(at, sizeof at, "out");
            } else if (img >= base && img - base <= len && k.image_len <= len - (img - base)) {
                snprintf(at, sizeof at, "rvf+%zu", (size_t)(img - base));
            } else {
                snprintf(at, sizeof at, "elsewhere(%#lx)", (unsigned long)img);
            }
            format = k.format == RVF_BOOT_FORMAT_GZIP ? "gzip" : "raw";
            /* The image bytes, for test.sh's own sha256sum. */
            char img_path[4200];
            snprintf(img_path, sizeof img_path, "%s/%.*s.img", dir, (int)(strlen(file) - 4), file);
            FILE *o = fopen(img_path, "wb");
            if (!o) die("open", img_path);
            if (k.image_len && fwrite(k.image, 1, (size_t)k.image_len, o) != k.image_len)
                die("write", img_path);
            fclose(o);
        } else if (k.image != NULL || k.cmdline != NULL || k.image_len != 0) {
            fprintf(stderr, "golden: %s: failed, but the kernel struct has an image\n", name);
            return 1;
        }
        printf("%s size_status=%d size=%llu status=%d sha256=", name, size_status,
               (unsigned long long)size, status);
        if (status == RVF_BOOT_OK)
            print_hex(k.image_sha256, 32);
        else
            fputs("-", stdout);
        printf(" len=%llu at=%s format=%s offset=%llu cmdline=", (unsigned long long)k.image_len,
               at, format, (unsigned long long)k.kernel_offset);
        print_hex(k.cmdline, k.cmdline_len);
        printf(" msg=%s\n", k.error.message);
        free(out);
        free(rvf);
        count++;
    }
    fclose(list);
    free(state_block);
    fprintf(stderr, "golden: %u cases through the C ABI\n", count);
    return count ? 0 : 1;
}
