/* SPDX-License-Identifier: MIT */
/*
 * Entry of the test VM payload (see t/vm/payload.c for what it does and how to read it):
 * the multiboot v1 header, a flat GDT, the stack, and the interrupt stubs. QEMU's
 * multiboot loader enters _start in 32-bit protected mode, paging off, interrupts off,
 * EAX = 0x2BADB002, EBX = the multiboot information; the GDT it leaves must not be
 * relied on, so we load our own before touching a segment register.
 */
#define MB_MAGIC 0x1BADB002
#define MB_FLAGS 0x00000003	/* bit 0: align modules, bit 1: memory info; no a.out kludge: QEMU loads the ELF */

	.section .multiboot, "a"
	.align 4
	.long MB_MAGIC, MB_FLAGS, -(MB_MAGIC + MB_FLAGS)

	.text
	.code32
	.globl _start
_start:
	cli
	cld
	movl $stack_top, %esp
	lgdt gdt_desc
	ljmp $0x08, $1f
1:	movw $0x10, %cx
	movw %cx, %ds
	movw %cx, %es
	movw %cx, %fs
	movw %cx, %gs
	movw %cx, %ss
	pushl %ebx		/* multiboot information */
	pushl %eax		/* multiboot magic */
	call payload_main
2:	cli
	hlt
	jmp 2b

/* IRQ 0 (PIT channel 0), vector 0x20: count the tick, end of interrupt, back to hlt. */
	.globl irq0_entry
irq0_entry:
	pushl %eax
	lock incl payload_ticks
	movb $0x20, %al
	outb %al, $0x20
	popl %eax
	iret

/* The NIC's IRQ (vector 0x20 + its line, set by t/vm/net.c): payload_nic_irq() reads
 * ICR, which lowers the line, and sends the end of interrupt; the frames are taken by
 * the main loop, which this interrupt wakes from hlt. */
	.globl irq_nic_entry
irq_nic_entry:
	pushal
	call payload_nic_irq
	popal
	iret

/* Any other PIC vector (0x21-0x2f; masked but the NIC's, so spurious): acknowledge both PICs. */
	.globl irq_other_entry
irq_other_entry:
	pushl %eax
	movb $0x20, %al
	outb %al, $0xa0
	outb %al, $0x20
	popl %eax
	iret

/* Exceptions 0-31: one 16-byte stub each (exc_stubs + 16 * vector), pushing the vector
 * for payload_fault(), which records it in the state block and stops. */
	.globl exc_stubs
	.align 16
exc_stubs:
	.set vec, 0
	.rept 32
	.align 16
	pushl $vec
	jmp fault_common
	.set vec, vec + 1
	.endr
fault_common:
	call payload_fault	/* does not return */
3:	cli
	hlt
	jmp 3b

	.section .rodata
	.align 8
gdt:
	.quad 0
	.quad 0x00cf9a000000ffff	/* 0x08: code, flat 4 GiB, 32-bit */
	.quad 0x00cf92000000ffff	/* 0x10: data, flat 4 GiB */
gdt_end:
	.align 4
gdt_desc:
	.word gdt_end - gdt - 1
	.long gdt

	.bss
	.align 16
stack:
	.skip 16384
stack_top:

	.section .note.GNU-stack, "", @progbits
