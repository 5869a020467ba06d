/* Links librvf_boot_capi.a into a program with no C library at all
 * (-ffreestanding -nostdlib -static): its own _start and mem* functions,
 * the RVF embedded with .incbin, Linux's exit syscall for the result.
 * Built and run by capi/test.sh:
 *   RVF_PATH      the RVF file to embed (a gzip'd golden kernel)
 *   EXPECT_SHA256 its image's SHA-256, as a C initialiser {0x..,...}
 *   EXPECT_LEN    its image length
 * It runs on its own 256 KiB stack, painted, and prints how much of it the
 * calls used (the archive's stack need; docs/c-api.md).
 * Exit 0: extracted byte-exact (SHA-256 as the Rust API computes it), and a
 * damaged copy refused with a status and a message; else the failed step. */
#include "rvf_boot.h"

#define STR2(x) #x
#define STR(x) STR2(x)

/* The only functions the archive needs from its caller. Plain byte loops
 * (test.sh passes -fno-tree-loop-distribute-patterns so GCC does not turn
 * them back into calls to themselves). */
void *memcpy(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    while (n--) *d++ = *s++;
    return dst;
}
void *memmove(void *dst, const void *src, size_t n) {
    unsigned char *d = dst;
    const unsigned char *s = src;
    if (d < s) {
        while (n--) *d++ = *s++;
    } else {
        while (n--) d[n] = s[n];
    }
    return dst;
}
void *memset(void *dst, int c, size_t n) {
    unsigned char *d = dst;
    while (n--) *d++ = (unsigned char)c;
    return dst;
}
int memcmp(const void *a, const void *b, size_t n) {
    const unsigned char *x = a, *y = b;
    for (; n; n--, x++, y++)
        if (*x != *y) return *x < *y ? -1 : 1;
    return 0;
}
int bcmp(const void *a, const void *b, size_t n) { return memcmp(a, b, n); }

__asm__(".section .rodata\n"
        ".balign 64\n"
        "rvf_start:\n"
        ".incbin \"" STR(RVF_PATH) "\"\n"
        "rvf_end:\n"
        ".previous\n");
extern const uint8_t rvf_start[], rvf_end[];

/* The program's stack (switched to in _start), painted to measure how deep
 * the calls go. */
__asm__(".bss\n"
        ".balign 16\n"
        "fs_stack:\n"
        ".skip 262144\n"
        "fs_stack_top:\n"
        ".previous\n");
extern uint8_t fs_stack[], fs_stack_top[];
#define PAINT 0xA5

static long sys_write(int fd, const void *buf, size_t n) {
    long ret;
    __asm__ volatile("syscall" : "=a"(ret) : "a"(1L), "D"((long)fd), "S"(buf), "d"(n)
                     : "rcx", "r11", "memory");
    return ret;
}

/* Paints the stack below this frame (and a margin) with PAINT. */
static __attribute__((noinline)) void paint_stack(void) {
    volatile uint8_t here = 0;
    uintptr_t end = (uintptr_t)&here - 256;
    for (volatile uint8_t *p = fs_stack; (uintptr_t)p < end; p++) *p = PAINT;
}

/* Bytes of stack ever used: from the top down to the deepest written byte. */
static size_t stack_used(void) {
    const uint8_t *p = fs_stack;
    while (p < fs_stack_top && *p == PAINT) p++;
    return (size_t)(fs_stack_top - p);
}

static void print_num(const char *label, size_t v) {
    char buf[64];
    size_t n = 0;
    while (label[n]) {
        buf[n] = label[n];
        n++;
    }
    char digits[24];
    size_t d = 0;
    do {
        digits[d++] = (char)('0' + v % 10);
        v /= 10;
    } while (v);
    while (d) buf[n++] = digits[--d];
    buf[n++] = '\n';
    sys_write(1, buf, n);
}

static uint8_t out[1 << 20];
static uint8_t state[RVF_BOOT_STATE_SIZE];
static uint8_t damaged[1 << 16];
static struct rvf_boot_kernel kernel;
static const uint8_t expect_sha256[32] = EXPECT_SHA256;

int fs_main(void);
int fs_main(void) {
    paint_stack();
    size_t len = (size_t)(rvf_end - rvf_start);
    uint64_t need = 0;
    if (rvf_boot_image_size(rvf_start, len, &need) != RVF_BOOT_OK) return 10;
    if (need != EXPECT_LEN || need > sizeof out) return 11;
    /* state + 1: any alignment works */
    int st = rvf_boot_extract(rvf_start, len, out, (size_t)need, state + 1,
                              sizeof state - 1, &kernel);
    if (st != RVF_BOOT_E_STATE) return 12;
    st = rvf_boot_extract(rvf_start, len, out, (size_t)need, state, sizeof state, &kernel);
    if (st != RVF_BOOT_OK || kernel.error.status != RVF_BOOT_OK) return 13;
    if (kernel.image != out || kernel.image_len != EXPECT_LEN) return 14;
    if (memcmp(kernel.image_sha256, expect_sha256, 32) != 0) return 15;
    if (kernel.cmdline == 0 || kernel.cmdline < rvf_start ||
        kernel.cmdline + kernel.cmdline_len > rvf_end)
        return 16;
    /* A damaged copy: one byte in the middle flipped. */
    if (len > sizeof damaged) return 17;
    memcpy(damaged, rvf_start, len);
    damaged[len / 2] ^= 0x01;
    st = rvf_boot_extract(damaged, len, out, sizeof out, state, sizeof state, &kernel);
    if (st == RVF_BOOT_OK || kernel.error.status != st || kernel.error.message[0] == 0) return 18;
    char line[128];
    size_t n = rvf_boot_error_message(st, line, sizeof line);
    if (n == 0 || line[0] == 0) return 19;
    size_t used = stack_used();
    print_num("freestanding: stack high-water (bytes, whole program): ", used);
    /* docs/c-api.md promises callers 32 KiB of stack is enough. */
    if (used > 32 * 1024) return 20;
    return 0;
}

/* The entry point: align the stack as the ABI wants at a call, run, exit. */
__asm__(".text\n"
        ".global _start\n"
        "_start:\n"
        "  xor %ebp, %ebp\n"
        "  lea fs_stack_top(%rip), %rsp\n"
        "  call fs_main\n"
        "  mov %eax, %edi\n"
        "  mov $60, %eax\n" /* SYS_exit */
        "  syscall\n"
        "  hlt\n");
