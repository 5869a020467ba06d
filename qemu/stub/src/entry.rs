//! PVH entry: the ELF note QEMU looks for, the 32-bit entry point, and the
//! switch to 64-bit long mode before any Rust code runs.
//!
//! QEMU (`-kernel` with an ELF carrying `XEN_ELFNOTE_PHYS32_ENTRY`) enters
//! `pvh_start` in 32-bit protected mode, paging off, flat segments, with
//! `%ebx` = physical address of the `hvm_start_info`. This code:
//!
//! 1. disables interrupts, zeroes `.bss` (QEMU does not),
//! 2. builds page tables identity-mapping 0..4 GiB with 2 MiB pages,
//! 3. enables SSE (CR0.EM/TS clear, CR0.MP, CR4.OSFXSR|OSXMMEXCPT): the
//!    prebuilt `core` uses xmm registers,
//! 4. sets CR4.PAE, EFER.LME, CR0.PG and far-jumps through a GDT whose
//!    selectors 0x10/0x18 are flat 64-bit code/data (Linux's
//!    `__BOOT_CS`/`__BOOT_DS`, which the 64-bit boot protocol requires when
//!    the kernel is entered),
//! 5. loads the stack and calls `stub_main(start_info)`.
//!
//! Only the boot CPU runs here. A second CPU, when QEMU has one, enters long
//! mode through its own start-up code in `ap.rs` (the same CR0/CR4/EFER
//! settings and these page tables) and is reset with INIT before the jump;
//! Linux starts every other CPU itself.

use core::arch::global_asm;

global_asm!(
    r#"
    /* The PVH entry note: namesz 4 ("Xen"), descsz 8 (QEMU reads a 64-bit
       value for ELF64), type 18 = XEN_ELFNOTE_PHYS32_ENTRY. */
    .pushsection .note.pvh, "a", @note
    .balign 4
    .long 4
    .long 8
    .long 18
    .asciz "Xen"
    .balign 4
    .quad pvh_start
    .balign 4
    .popsection

    .pushsection .bss.stub_stack, "aw", @nobits
    .balign 4096
stub_stack_bottom:
    .skip 0x80000
    .globl stub_stack_top
stub_stack_top:
    .popsection

    .pushsection .bss.stub_pagetables, "aw", @nobits
    .balign 4096
stub_pml4:
    .skip 4096
stub_pdpt:
    .skip 4096
stub_pd:
    .skip 4 * 4096
    .popsection

    .pushsection .rodata.stub_gdt, "a"
    .balign 16
    .globl stub_gdt
stub_gdt:
    .quad 0
    .quad 0x00cf9b000000ffff    /* 0x08: 32-bit code, flat (the APs' start-up, ap.rs) */
    .quad 0x00af9b000000ffff    /* 0x10: 64-bit code, DPL 0, present, accessed */
    .quad 0x00cf93000000ffff    /* 0x18: flat data, read/write, accessed */
stub_gdt_end:
    .balign 4
stub_gdt_ptr:
    .word stub_gdt_end - stub_gdt - 1
    .quad stub_gdt
    .popsection

    .pushsection .text.pvh_start, "ax"
    .code32
    .globl pvh_start
pvh_start:
    cli
    cld
    movl %ebx, %ebp                 /* hvm_start_info: %ebp survives to long mode */

    /* Zero .bss (stacks and page tables included; both ends are 4 KiB
       aligned by link.ld, so dword stores cover it exactly). */
    movl $__bss_start, %edi
    movl $__bss_end, %ecx
    subl %edi, %ecx
    shrl $2, %ecx
    xorl %eax, %eax
    rep stosl

    /* PML4[0] -> PDPT; PDPT[0..4] -> 4 page directories; 2048 2 MiB pages. */
    movl $stub_pdpt + 0x3, stub_pml4
    movl $stub_pdpt, %edi
    movl $stub_pd + 0x3, %eax
    movl $4, %ecx
1:  movl %eax, (%edi)
    addl $4096, %eax
    addl $8, %edi
    decl %ecx
    jnz 1b
    movl $stub_pd, %edi
    movl $0x83, %eax                /* present | writable | 2 MiB page */
    movl $2048, %ecx
2:  movl %eax, (%edi)
    addl $0x200000, %eax
    addl $8, %edi
    decl %ecx
    jnz 2b
    movl $stub_pml4, %eax
    movl %eax, %cr3
    movl $4f, %ebx
    jmp stub_enable_long_mode
4:  lgdt stub_gdt_ptr
    ljmp $0x10, $stub_long_mode

    /* Paging and long mode on the page tables in CR3, for every CPU (the
       boot CPU here, the APs in ap.rs); no stack: returns with jmp *%ebx,
       clobbers %eax, %ecx, %edx. */
    .globl stub_enable_long_mode
stub_enable_long_mode:
    /* CR4: PAE | OSFXSR | OSXMMEXCPT. */
    movl %cr4, %eax
    orl $0x620, %eax
    movl %eax, %cr4

    /* EFER.LME */
    movl $0xC0000080, %ecx
    rdmsr
    orl $0x100, %eax
    wrmsr

    /* CR0: clear EM (bit 2) and TS (bit 3); set PE, MP, NE, PG. */
    movl %cr0, %eax
    andl $0xFFFFFFF3, %eax
    orl $0x80000023, %eax
    movl %eax, %cr0
    jmp *%ebx

    .code64
stub_long_mode:
    movl $0x18, %eax
    movl %eax, %ds
    movl %eax, %es
    movl %eax, %ss
    movl %eax, %fs
    movl %eax, %gs
    movabsq $stub_stack_top, %rsp
    fninit                          /* %rsp is 16-byte aligned before the call, as the ABI wants */
    movl %ebp, %edi                 /* zero-extends: first argument = start_info address */
    call stub_main
3:  cli
    hlt
    jmp 3b
    .popsection
"#,
    options(att_syntax)
);
