/* Hostile arguments through rvf_boot.h: NULL pointers, lengths that wrap,
 * short and misaligned buffers, overlapping buffers, invalid policies. Each
 * gets its status, never a crash, and nothing outside the caller's buffers
 * is touched (buffers are exact heap blocks: AddressSanitizer checks).
 *
 *   hostile FILE.rvf    a golden file with a gzip'd kernel */
#include "rvf_boot.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int failures;
#define CHECK(cond)                                                             \
    do {                                                                        \
        if (!(cond)) {                                                          \
            fprintf(stderr, "hostile.c:%d: check failed: %s\n", __LINE__, #cond); \
            failures++;                                                         \
        }                                                                       \
    } while (0)

static uint8_t *read_file(const char *path, size_t *len) {
    FILE *f = fopen(path, "rb");
    if (!f) return NULL;
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    uint8_t *b = malloc((size_t)n);
    if (b && fread(b, 1, (size_t)n, f) != (size_t)n) {
        free(b);
        b = NULL;
    }
    fclose(f);
    *len = (size_t)n;
    return b;
}

int main(int argc, char **argv) {
    if (argc != 2) return 2;
    size_t len;
    uint8_t *rvf = read_file(argv[1], &len);
    if (!rvf) return 2;
    uint64_t size = 0;
    CHECK(rvf_boot_image_size(rvf, len, &size) == RVF_BOOT_OK);
    CHECK(size > 0 && size < (1u << 24));
    size_t need = (size_t)size;
    uint8_t *out = malloc(need);
    uint8_t *state = malloc(RVF_BOOT_STATE_SIZE);
    struct rvf_boot_kernel k;
    static struct rvf_boot_kernel zero;

    /* NULLs. */
    CHECK(rvf_boot_image_size(NULL, len, &size) == RVF_BOOT_E_NULL && size == 0);
    CHECK(rvf_boot_image_size(rvf, len, NULL) == RVF_BOOT_E_NULL);
    CHECK(rvf_boot_extract(rvf, len, out, need, state, RVF_BOOT_STATE_SIZE, NULL) == RVF_BOOT_E_NULL);
    CHECK(rvf_boot_extract(NULL, len, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_NULL);
    CHECK(k.error.status == RVF_BOOT_E_NULL && strcmp(k.error.message, "argument rvf is NULL") == 0);
    CHECK(rvf_boot_extract(rvf, len, NULL, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_NULL);
    CHECK(rvf_boot_extract(rvf, len, out, need, NULL, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_NULL);
    /* Short buffers: the library's own refusal for out, a status for the state. */
    CHECK(rvf_boot_extract(rvf, len, NULL, 0, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_MEMORY);
    CHECK(rvf_boot_extract(rvf, len, out, need - 1, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_MEMORY);
    CHECK(strncmp(k.error.message, "output buffer too small", 23) == 0);
    uint8_t *small_state = malloc(RVF_BOOT_STATE_SIZE - 1);
    CHECK(rvf_boot_extract(rvf, len, out, need, small_state, RVF_BOOT_STATE_SIZE - 1, &k) == RVF_BOOT_E_STATE);
    free(small_state);
    CHECK(rvf_boot_extract(rvf, len - 1, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_STRUCTURE);
    CHECK(memcmp(&k, &zero, offsetof(struct rvf_boot_kernel, error)) == 0);
    CHECK(k.error.message[0] != 0 && strchr(k.error.message, '\n') == NULL);
    /* Lengths that wrap or exceed PTRDIFF_MAX: refused before any access. */
    CHECK(rvf_boot_image_size(rvf, SIZE_MAX, &size) == RVF_BOOT_E_RANGE);
    CHECK(rvf_boot_image_size(rvf, (size_t)PTRDIFF_MAX + 1, &size) == RVF_BOOT_E_RANGE);
    CHECK(rvf_boot_extract(rvf, len, out, SIZE_MAX - 8, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_RANGE);
    CHECK(rvf_boot_extract(rvf, len, out, need, state, SIZE_MAX, &k) == RVF_BOOT_E_RANGE);
    CHECK(rvf_boot_extract((const uint8_t *)UINTPTR_MAX, 2, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_RANGE);
    /* A misaligned kernel struct: a status, nothing written. */
    unsigned char *kb = calloc(1, sizeof(struct rvf_boot_kernel) + 16);
    CHECK(rvf_boot_extract(rvf, len, out, need, state, RVF_BOOT_STATE_SIZE,
                           (struct rvf_boot_kernel *)(void *)(kb + 4)) == RVF_BOOT_E_RANGE);
    for (size_t i = 0; i < sizeof(struct rvf_boot_kernel) + 16; i++) CHECK(kb[i] == 0);
    free(kb);
    /* Overlaps: out over the RVF; the kernel struct over the RVF (not written). */
    uint8_t *both = malloc(len + need);
    memcpy(both, rvf, len);
    CHECK(rvf_boot_extract(both, len, both + len - 1, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_OVERLAP);
    CHECK(memcmp(both, rvf, len) == 0);
    CHECK(rvf_boot_extract(both, len, both + len, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_OK);
    CHECK(k.image == both + len && k.format == RVF_BOOT_FORMAT_GZIP);
    CHECK(rvf_boot_extract(rvf, len, out, need, out, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_OVERLAP);
    free(both);
    /* Policies. */
    struct rvf_boot_policy p;
    memset(&p, 0, sizeof p);
    CHECK(rvf_boot_extract_with_policy(rvf, len, &p, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_OK);
    p.flags = 0x80;
    CHECK(rvf_boot_extract_with_policy(rvf, len, &p, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_POLICY);
    p.flags = RVF_BOOT_POLICY_MIN_EPOCH;
    CHECK(rvf_boot_extract_with_policy(rvf, len, &p, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_POLICY);
    p.flags = 0;
    p.trusted_keys_count = 1;
    CHECK(rvf_boot_extract_with_policy(rvf, len, &p, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_NULL);
    uint8_t key[32] = {1};
    p.trusted_keys = key;
    p.trusted_keys_count = SIZE_MAX / 16;
    CHECK(rvf_boot_extract_with_policy(rvf, len, &p, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_RANGE);
    p.trusted_keys_count = 1;
    CHECK(rvf_boot_extract_with_policy(rvf, len, &p, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_E_AUTHENTICATION);
    CHECK(strncmp(k.error.message, "not authenticated: ", 19) == 0);
    struct rvf_boot_error e;
    CHECK(rvf_boot_image_size_with_policy(rvf, 3, NULL, &size, &e) == RVF_BOOT_E_STRUCTURE);
    CHECK(e.status == RVF_BOOT_E_STRUCTURE && strncmp(e.message, "not an RVF file", 15) == 0);
    /* Messages: snprintf-like. */
    size_t n = rvf_boot_error_message(RVF_BOOT_E_INTEGRITY, NULL, 0);
    char buf[8];
    memset(buf, 'x', sizeof buf);
    CHECK(rvf_boot_error_message(RVF_BOOT_E_INTEGRITY, buf, sizeof buf) == n && n > sizeof buf);
    CHECK(buf[7] == 0 && strlen(buf) == 7);
    CHECK(rvf_boot_error_message(12345, buf, sizeof buf) == strlen("unknown rvf-boot status 12345"));
    CHECK(rvf_boot_error_message(RVF_BOOT_OK, buf, SIZE_MAX) == 7);
    /* And a clean run after all that. */
    CHECK(rvf_boot_extract(rvf, len, out, need, state, RVF_BOOT_STATE_SIZE, &k) == RVF_BOOT_OK);
    CHECK(k.image == out && k.image_len == need && k.cmdline > rvf && k.cmdline + k.cmdline_len <= rvf + len);
    free(state);
    free(out);
    free(rvf);
    printf("hostile: %s\n", failures ? "FAILED" : "all checks passed");
    return failures ? 1 : 0;
}
