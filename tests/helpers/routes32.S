/* SPDX-License-Identifier: MIT */
/* The route matrix's 32-bit part: a static i386 program that writes its
 * marker with write(2) through int $0x80 and exits; given an argument, it
 * then waits in pause(2) until a signal ends it. Assembled with as --32
 * and linked with ld -m elf_i386: no multilib needed. */
	.section .rodata
mark:
	.ascii "YS_ROUTE_MARK_ia32_END"
	.set mlen, . - mark

	.text
	.globl _start
_start:
	movl $4, %eax		/* write */
	movl $1, %ebx
	movl $mark, %ecx
	movl $mlen, %edx
	int $0x80
	cmpl $1, (%esp)		/* argc */
	je 2f
1:	movl $29, %eax		/* pause */
	int $0x80
	jmp 1b
2:	movl $1, %eax		/* exit */
	xorl %ebx, %ebx
	int $0x80
