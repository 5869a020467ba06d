/*
 * rvf-boot test kernel: a tiny, NON-relocatable bzImage (boot protocol 2.15,
 * XLF_KERNEL_64) whose 64-bit entry checks what the boot loader handed it
 * and reports on COM1 (0x3F8).
 *
 * Contract (see README.md):
 *   success: prints one line per e820 entry, then
 *     RVF-TESTKERNEL OK rip=0x1000200 e820=<n> ramdisk=0x<hex>+<dec> ramdisk_fnv1a=<8 hex> rsdp=0x<hex> cmdline=<text>
 *   and writes 0x10 to isa-debug-exit (port 0xf4): QEMU exits (0x10<<1)|1 = 33.
 *   failure: prints "RVF-TESTKERNEL FAIL <reason> 0x<value>" and writes 0x11: exit 35
 *     (<reason> is one dash-joined word, e.g. cs-not-0x10; the value is what was found).
 *   Without isa-debug-exit it halts forever after the line.
 *
 * Layout: file 0x000..0x400 is the real-mode part (boot sector + 1 setup
 * sector, setup_sects = 1) holding the setup header at 0x1F1; the
 * protected-mode part follows at file offset 0x400 and is linked at its
 * pref_address 0x1000000, so the 64-bit entry is 0x1000200.
 */

#define LOAD_ADDR      0x1000000
#define ENTRY64        0x1000200
#define COM1           0x3F8
#define EXIT_PORT      0xF4
#define EXIT_OK        0x10
#define EXIT_FAIL      0x11
#define CMDLINE_SIZE   2047
#define INITRD_MAX     0x7FFFFFFF

/* zero-page offsets */
#define BP_ACPI_RSDP   0x070
#define BP_EXT_RD_IMG  0x0C0
#define BP_EXT_RD_SIZE 0x0C4
#define BP_EXT_CMDLINE 0x0C8
#define BP_E820_COUNT  0x1E8
#define BP_BOOT_FLAG   0x1FE
#define BP_HEADER      0x202
#define BP_VERSION     0x206
#define BP_LOADER      0x210
#define BP_LOADFLAGS   0x211
#define BP_RD_IMG      0x218
#define BP_RD_SIZE     0x21C
#define BP_CMDLINE     0x228
#define BP_PREF        0x258
#define BP_INIT_SIZE   0x260
#define BP_E820_TABLE  0x2D0

/* ------------------------------------------------------------------ */
/* Real-mode part: boot sector + setup header (file 0x000..0x400).     */
/* ------------------------------------------------------------------ */
	.section .setup, "a"
	.code16
	.org 0x1F1
	.byte 1                         /* 0x1F1 setup_sects */
	.word 0                         /* 0x1F2 root_flags */
	.long syssize_paras             /* 0x1F4 syssize (16-byte units) */
	.word 0                         /* 0x1F8 ram_size */
	.word 0xFFFF                    /* 0x1FA vid_mode */
	.word 0                         /* 0x1FC root_dev */
	.word 0xAA55                    /* 0x1FE boot_flag */
	.byte 0xEB                      /* 0x200 jump ... */
	.byte hdr_end - hdr_start       /* 0x201 ... to the header end */
hdr_start:
	.ascii "HdrS"                   /* 0x202 header */
	.word 0x020F                    /* 0x206 version 2.15 */
	.long 0                         /* 0x208 realmode_swtch */
	.word 0                         /* 0x20C start_sys_seg */
	.word kernel_version_str - 0x200 /* 0x20E kernel_version */
	.byte 0                         /* 0x210 type_of_loader */
	.byte 0x01                      /* 0x211 loadflags: LOADED_HIGH */
	.word 0                         /* 0x212 setup_move_size */
	.long LOAD_ADDR                 /* 0x214 code32_start */
	.long 0                         /* 0x218 ramdisk_image */
	.long 0                         /* 0x21C ramdisk_size */
	.long 0                         /* 0x220 bootsect_kludge */
	.word 0                         /* 0x224 heap_end_ptr */
	.byte 0                         /* 0x226 ext_loader_ver */
	.byte 0                         /* 0x227 ext_loader_type */
	.long 0                         /* 0x228 cmd_line_ptr */
	.long INITRD_MAX                /* 0x22C initrd_addr_max */
	.long 0x200000                  /* 0x230 kernel_alignment */
	.byte 0                         /* 0x234 relocatable_kernel: NO */
	.byte 21                        /* 0x235 min_alignment */
	.word 0x0001                    /* 0x236 xloadflags: XLF_KERNEL_64 */
	.long CMDLINE_SIZE              /* 0x238 cmdline_size */
	.long 0                         /* 0x23C hardware_subarch */
	.quad 0                         /* 0x240 hardware_subarch_data */
	.long 0                         /* 0x248 payload_offset */
	.long 0                         /* 0x24C payload_length */
	.quad 0                         /* 0x250 setup_data */
	.quad LOAD_ADDR                 /* 0x258 pref_address */
	.long init_size_bytes           /* 0x260 init_size */
	.long 0                         /* 0x264 handover_offset */
	.long 0                         /* 0x268 kernel_info_offset */
hdr_end:                                /* 0x26C */
kernel_version_str:
	.asciz "rvf-testkernel 1"
	.org 0x400

/* ------------------------------------------------------------------ */
/* Protected-mode part, linked at 0x1000000.                           */
/* ------------------------------------------------------------------ */

/* 32-bit entry (load address + 0): not supported; say so and stop. */
	.section .text.startup32, "ax"
	.code32
	.globl startup_32
startup_32:
	cli
	movl $msg_32bit, %esi
1:	movb (%esi), %al
	testb %al, %al
	jz 3f
	movw $COM1 + 5, %dx
2:	inb %dx, %al
	testb $0x20, %al
	jz 2b
	movb (%esi), %al
	movw $COM1, %dx
	outb %al, %dx
	incl %esi
	jmp 1b
3:	movl $EXIT_FAIL, %eax
	movw $EXIT_PORT, %dx
	outl %eax, %dx
4:	hlt
	jmp 4b

/* 64-bit entry (load address + 0x200). */
	.section .text.entry64, "ax"
	.code64
	.globl startup_64
startup_64:
	/* Capture the state the protocol specifies before touching anything. */
	movl %cs, %r8d
	movl %ds, %r9d
	movl %es, %r10d
	movl %ss, %r11d
	leaq startup_64(%rip), %r13     /* where we actually run */
	movq %rsi, %r15                 /* boot_params */
	leaq stack_top(%rip), %rsp
	pushfq
	popq %r12
	/* Zero .bss (the loader only copies the file's bytes). */
	leaq __bss_start(%rip), %rdi
	leaq __bss_end(%rip), %rcx
	subq %rdi, %rcx
	xorl %eax, %eax
	rep stosb
	movq %r8, saved_cs(%rip)
	movq %r9, saved_ds(%rip)
	movq %r10, saved_es(%rip)
	movq %r11, saved_ss(%rip)
	movq %r12, saved_flags(%rip)
	call serial_init

	/* RIP == pref_address + 0x200 */
	movq $ENTRY64, %rax
	cmpq %rax, %r13
	je 1f
	leaq msg_rip(%rip), %rdi
	movq %r13, %rax
	jmp fail_hex
1:	/* interrupts disabled */
	testq $0x200, saved_flags(%rip)
	jz 1f
	leaq msg_if(%rip), %rdi
	movq saved_flags(%rip), %rax
	jmp fail_hex
1:	/* CS == __BOOT_CS, DS/ES/SS == __BOOT_DS */
	cmpq $0x10, saved_cs(%rip)
	je 1f
	leaq msg_cs(%rip), %rdi
	movq saved_cs(%rip), %rax
	jmp fail_hex
1:	leaq msg_ds(%rip), %rdi
	movq saved_ds(%rip), %rax
	cmpq $0x18, %rax
	jne fail_hex
	leaq msg_es(%rip), %rdi
	movq saved_es(%rip), %rax
	cmpq $0x18, %rax
	jne fail_hex
	leaq msg_ss(%rip), %rdi
	movq saved_ss(%rip), %rax
	cmpq $0x18, %rax
	jne fail_hex

	/* RSI -> zero page: the copied setup header and the loader's fields */
	leaq msg_rsi(%rip), %rdi
	movq %r15, %rax
	testq %r15, %r15
	jz fail_hex
	leaq msg_boot_flag(%rip), %rdi
	movzwq BP_BOOT_FLAG(%r15), %rax
	cmpq $0xAA55, %rax
	jne fail_hex
	leaq msg_hdrs(%rip), %rdi
	movl BP_HEADER(%r15), %eax
	cmpl $0x53726448, %eax
	jne fail_hex
	leaq msg_version(%rip), %rdi
	movzwq BP_VERSION(%r15), %rax
	cmpq $0x020F, %rax
	jne fail_hex
	leaq msg_loader(%rip), %rdi
	movzbq BP_LOADER(%r15), %rax
	cmpq $0xFF, %rax
	jne fail_hex
	leaq msg_loadflags(%rip), %rdi
	movzbq BP_LOADFLAGS(%r15), %rax
	testq $1, %rax
	jz fail_hex
	leaq msg_pref(%rip), %rdi
	movq BP_PREF(%r15), %rax
	cmpq $LOAD_ADDR, %rax
	jne fail_hex
	leaq msg_init_size(%rip), %rdi
	movl BP_INIT_SIZE(%r15), %eax
	cmpl $init_size_bytes, %eax
	jne fail_hex

	/* e820: 1..128 entries; one RAM entry covers the kernel window */
	movzbq BP_E820_COUNT(%r15), %rbx
	leaq msg_e820_count(%rip), %rdi
	movq %rbx, %rax
	testq %rbx, %rbx
	jz fail_hex
	cmpq $128, %rbx
	ja fail_hex
	xorl %r14d, %r14d               /* index */
	xorl %r12d, %r12d               /* found-covering flag */
2:	cmpq %rbx, %r14
	jae 4f
	imulq $20, %r14, %rcx
	leaq BP_E820_TABLE(%r15,%rcx), %rcx
	/* print "RVF-TESTKERNEL e820[i] 0x<base>+0x<size> type=<t>" */
	pushq %rcx
	leaq msg_e820_line(%rip), %rdi
	call puts
	movq %r14, %rax
	call putdec
	leaq msg_e820_mid(%rip), %rdi
	call puts
	movq (%rsp), %rcx
	movq (%rcx), %rax
	call puthex
	movb $'+', %al
	call putc
	movq (%rsp), %rcx
	movq 8(%rcx), %rax
	call puthex
	leaq msg_type(%rip), %rdi
	call puts
	movq (%rsp), %rcx
	movl 16(%rcx), %eax
	call putdec
	call newline
	popq %rcx
	/* covers [LOAD_ADDR, LOAD_ADDR + init_size)? */
	cmpl $1, 16(%rcx)
	jne 3f
	movq (%rcx), %rax               /* base */
	cmpq $LOAD_ADDR, %rax
	ja 3f
	addq 8(%rcx), %rax              /* end */
	jc 3f
	movq $LOAD_ADDR + init_size_bytes, %rdx
	cmpq %rdx, %rax
	jb 3f
	movl $1, %r12d
3:	incq %r14
	jmp 2b
4:	leaq msg_e820_cover(%rip), %rdi
	movq $LOAD_ADDR, %rax
	testq %r12, %r12
	jz fail_hex
	movq %rbx, e820_n(%rip)

	/* cmdline: NUL-terminated within cmdline_size + 1, no control bytes */
	movl BP_CMDLINE(%r15), %eax
	movl BP_EXT_CMDLINE(%r15), %edx
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, cmdline_ptr(%rip)
	testq %rax, %rax
	jz 6f                           /* no cmdline: empty */
	xorl %ecx, %ecx
5:	cmpq $CMDLINE_SIZE, %rcx
	ja 7f
	movzbl (%rax,%rcx), %edx
	testl %edx, %edx
	jz 6f
	cmpl $0x20, %edx
	jb 8f
	cmpl $0x7F, %edx
	je 8f
	incq %rcx
	jmp 5b
7:	leaq msg_cmdline_nul(%rip), %rdi
	jmp fail_hex
8:	leaq msg_cmdline_ctl(%rip), %rdi
	movq %rcx, %rax
	jmp fail_hex
6:
	/* ramdisk: below initrd_addr_max, clear of the kernel window; hash it */
	movl BP_RD_IMG(%r15), %eax
	movl BP_EXT_RD_IMG(%r15), %edx
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, rd_image(%rip)
	movl BP_RD_SIZE(%r15), %eax
	movl BP_EXT_RD_SIZE(%r15), %edx
	shlq $32, %rdx
	orq %rdx, %rax
	movq %rax, rd_size(%rip)
	movl $0x811C9DC5, %ebx          /* FNV-1a 32 offset basis */
	testq %rax, %rax
	jz 9f
	movq rd_image(%rip), %rsi
	leaq msg_rd_zero(%rip), %rdi
	testq %rsi, %rsi
	jz fail_hex
	movq %rsi, %rdx
	addq %rax, %rdx                 /* end */
	leaq msg_rd_max(%rip), %rdi
	movq %rdx, %rax
	jc fail_hex
	movl $INITRD_MAX + 1, %ecx      /* zero-extends to 0x80000000 */
	cmpq %rcx, %rdx
	ja fail_hex
	/* overlap with [LOAD_ADDR, LOAD_ADDR + init_size) */
	cmpq $LOAD_ADDR, %rdx
	jbe 10f
	cmpq $LOAD_ADDR + init_size_bytes, %rsi
	jae 10f
	leaq msg_rd_overlap(%rip), %rdi
	movq %rsi, %rax
	jmp fail_hex
10:	movq rd_size(%rip), %rcx
11:	movzbl (%rsi), %eax
	xorl %eax, %ebx
	imull $0x01000193, %ebx, %ebx   /* FNV prime */
	incq %rsi
	decq %rcx
	jnz 11b
9:	movq %rbx, rd_fnv(%rip)

	/* ACPI RSDP: if given, it must carry "RSD PTR " */
	movq BP_ACPI_RSDP(%r15), %rax
	testq %rax, %rax
	jz 12f
	movq (%rax), %rdx
	movabsq $0x2052545020445352, %rcx  /* "RSD PTR " */
	cmpq %rcx, %rdx
	leaq msg_rsdp(%rip), %rdi
	jne fail_hex
12:
	/* Report. */
	leaq msg_ok(%rip), %rdi
	call puts
	movq %r13, %rax
	call puthex
	leaq msg_ok_e820(%rip), %rdi
	call puts
	movq e820_n(%rip), %rax
	call putdec
	leaq msg_ok_rd(%rip), %rdi
	call puts
	movq rd_image(%rip), %rax
	call puthex
	movb $'+', %al
	call putc
	movq rd_size(%rip), %rax
	call putdec
	leaq msg_ok_fnv(%rip), %rdi
	call puts
	movq rd_fnv(%rip), %rax
	call puthex8
	leaq msg_ok_rsdp(%rip), %rdi
	call puts
	movq BP_ACPI_RSDP(%r15), %rax
	call puthex
	leaq msg_ok_cmdline(%rip), %rdi
	call puts
	movq cmdline_ptr(%rip), %rdi
	testq %rdi, %rdi
	jz 13f
	call puts
13:	call newline
	movl $EXIT_OK, %eax
	jmp exit

/* Print "RVF-TESTKERNEL FAIL <msg at rdi> 0x<rax>" and exit with EXIT_FAIL. */
fail_hex:
	pushq %rax
	pushq %rdi
	leaq msg_fail(%rip), %rdi
	call puts
	popq %rdi
	call puts
	movb $' ', %al
	call putc
	popq %rax
	call puthex
	call newline
	movl $EXIT_FAIL, %eax
exit:
	movw $EXIT_PORT, %dx
	outl %eax, %dx
1:	cli
	hlt
	jmp 1b

/* --- serial helpers (clobber rax, rcx, rdx, rdi) --- */
serial_init:
	movw $COM1 + 1, %dx
	xorl %eax, %eax
	outb %al, %dx                   /* IER = 0 */
	movw $COM1 + 3, %dx
	movb $0x80, %al
	outb %al, %dx                   /* DLAB */
	movw $COM1, %dx
	movb $1, %al
	outb %al, %dx                   /* divisor 1: 115200 */
	movw $COM1 + 1, %dx
	xorl %eax, %eax
	outb %al, %dx
	movw $COM1 + 3, %dx
	movb $0x03, %al
	outb %al, %dx                   /* 8N1 */
	movw $COM1 + 2, %dx
	movb $0xC7, %al
	outb %al, %dx                   /* FIFO */
	ret

/* putc: al */
putc:
	pushq %rax
	movw $COM1 + 5, %dx
1:	inb %dx, %al
	testb $0x20, %al
	jz 1b
	popq %rax
	movw $COM1, %dx
	outb %al, %dx
	ret

newline:
	movb $'\n', %al
	jmp putc

/* puts: NUL-terminated string at rdi */
puts:
1:	movb (%rdi), %al
	testb %al, %al
	jz 2f
	call putc
	incq %rdi
	jmp 1b
2:	ret

/* puthex: "0x" + rax in hex without leading zeros */
puthex:
	pushq %rbx
	movq %rax, %rbx
	movb $'0', %al
	call putc
	movb $'x', %al
	call putc
	movl $60, %ecx
1:	movq %rbx, %rax                 /* skip leading zero digits */
	shrq %cl, %rax
	testb $0xF, %al
	jnz 2f
	testl %ecx, %ecx
	jz 2f
	subl $4, %ecx
	jmp 1b
2:	movq %rbx, %rax
	shrq %cl, %rax
	andl $0xF, %eax
	pushq %rcx
	call hexdigit
	popq %rcx
	testl %ecx, %ecx
	jz 3f
	subl $4, %ecx
	jmp 2b
3:	popq %rbx
	ret

/* puthex8: eax as exactly 8 hex digits */
puthex8:
	pushq %rbx
	movl %eax, %ebx
	movl $28, %ecx
1:	movl %ebx, %eax
	shrl %cl, %eax
	andl $0xF, %eax
	pushq %rcx
	call hexdigit
	popq %rcx
	testl %ecx, %ecx
	jz 2f
	subl $4, %ecx
	jmp 1b
2:	popq %rbx
	ret

/* hexdigit: print al (0..15) as a lowercase hex digit */
hexdigit:
	cmpb $10, %al
	jb 1f
	addb $'a' - 10 - '0', %al
1:	addb $'0', %al
	jmp putc

/* putdec: rax in decimal */
putdec:
	pushq %rbx
	pushq %rsi
	movq %rsp, %rsi
	subq $32, %rsp
	movq %rsi, %rbx                 /* write digits backwards below rsi */
	movl $10, %ecx
1:	xorl %edx, %edx
	divq %rcx
	addb $'0', %dl
	decq %rbx
	movb %dl, (%rbx)
	testq %rax, %rax
	jnz 1b
2:	movb (%rbx), %al
	call putc
	incq %rbx
	cmpq %rsi, %rbx
	jb 2b
	addq $32, %rsp
	popq %rsi
	popq %rbx
	ret

	.section .rodata, "a"
msg_32bit:       .asciz "RVF-TESTKERNEL FAIL entered at the 32-bit entry (load address + 0); only the 64-bit entry is supported\n"
msg_fail:        .asciz "RVF-TESTKERNEL FAIL "
msg_rip:         .asciz "rip-not-0x1000200"
msg_if:          .asciz "interrupts-enabled-rflags"
msg_cs:          .asciz "cs-not-0x10"
msg_ds:          .asciz "ds-not-0x18"
msg_es:          .asciz "es-not-0x18"
msg_ss:          .asciz "ss-not-0x18"
msg_rsi:         .asciz "rsi-is-zero"
msg_boot_flag:   .asciz "zero-page-boot_flag"
msg_hdrs:        .asciz "zero-page-header-not-HdrS"
msg_version:     .asciz "zero-page-version"
msg_loader:      .asciz "type_of_loader-not-0xff"
msg_loadflags:   .asciz "loadflags-LOADED_HIGH-clear"
msg_pref:        .asciz "zero-page-pref_address"
msg_init_size:   .asciz "zero-page-init_size"
msg_e820_count:  .asciz "e820_entries-not-1..128"
msg_e820_cover:  .asciz "no-e820-RAM-entry-covers-kernel-window-at"
msg_cmdline_nul: .asciz "cmdline-not-NUL-terminated-within-cmdline_size"
msg_cmdline_ctl: .asciz "cmdline-control-byte-at"
msg_rd_zero:     .asciz "ramdisk_size-nonzero-but-ramdisk_image"
msg_rd_max:      .asciz "ramdisk-ends-above-initrd_addr_max-end"
msg_rd_overlap:  .asciz "ramdisk-overlaps-kernel-window-at"
msg_rsdp:        .asciz "acpi_rsdp_addr-not-RSD_PTR"
msg_e820_line:   .asciz "RVF-TESTKERNEL e820["
msg_e820_mid:    .asciz "] "
msg_type:        .asciz " type="
msg_ok:          .asciz "RVF-TESTKERNEL OK rip="
msg_ok_e820:     .asciz " e820="
msg_ok_rd:       .asciz " ramdisk="
msg_ok_fnv:      .asciz " ramdisk_fnv1a="
msg_ok_rsdp:     .asciz " rsdp="
msg_ok_cmdline:  .asciz " cmdline="

	.section .bss, "aw", @nobits
	.balign 16
saved_cs:    .quad 0
saved_ds:    .quad 0
saved_es:    .quad 0
saved_ss:    .quad 0
saved_flags: .quad 0
e820_n:      .quad 0
cmdline_ptr: .quad 0
rd_image:    .quad 0
rd_size:     .quad 0
rd_fnv:      .quad 0
	.balign 16
stack:       .skip 8192
stack_top:
