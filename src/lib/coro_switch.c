/* The context switch of the coroutines (coro.c): hand-written, so that it
 * stays in user space (swapcontext saves and restores the signal mask with
 * a system call each time).
 *
 * x86-64 System V: the callee-saved registers rbp, rbx, r12-r15 are pushed
 * on the current stack, with the control words of the SSE unit (MXCSR)
 * and of the x87 FPU, which the ABI also makes callee-saved; the stack
 * pointer is stored in *save; the other stack's pointer is loaded and the
 * same is popped from it; `ret` returns into the other context. A fresh
 * stack is laid out (ibx__co_stack_init) as if it had been switched away
 * from inside a trampoline that calls entry(co) with r12 = co, r13 =
 * entry. */
#include "coro_int.h"

#include <stdint.h>
#include <string.h>

#if defined(__x86_64__)

__asm__(
    ".text\n"
    ".globl ibx__co_switch\n"
    ".hidden ibx__co_switch\n"
    ".type ibx__co_switch,@function\n"
    ".p2align 4\n"
    "ibx__co_switch:\n"
    "    pushq %rbp\n"
    "    pushq %rbx\n"
    "    pushq %r12\n"
    "    pushq %r13\n"
    "    pushq %r14\n"
    "    pushq %r15\n"
    "    subq $8, %rsp\n"
    "    stmxcsr (%rsp)\n"
    "    fnstcw 4(%rsp)\n"
    "    movq %rsp, (%rdi)\n"
    "    movq %rsi, %rsp\n"
    "    ldmxcsr (%rsp)\n"
    "    fldcw 4(%rsp)\n"
    "    addq $8, %rsp\n"
    "    popq %r15\n"
    "    popq %r14\n"
    "    popq %r13\n"
    "    popq %r12\n"
    "    popq %rbx\n"
    "    popq %rbp\n"
    "    ret\n"
    ".size ibx__co_switch, .-ibx__co_switch\n"
    "\n"
    ".type ibx__co_boot,@function\n"
    ".p2align 4\n"
    "ibx__co_boot:\n"
    "    movq %r12, %rdi\n"
    "    callq *%r13\n"
    "    ud2\n"
    ".size ibx__co_boot, .-ibx__co_boot\n");

void ibx__co_boot(void);

void *ibx__co_stack_init(char *top, void (*entry)(ibx_co *), ibx_co *co)
{
    /* top is 16-byte aligned. Going down: two padding words, so that the
     * trampoline runs with rsp at top - 16 (aligned, as the ABI wants
     * before a call); the trampoline's address for `ret`; rbp, rbx, r12,
     * r13, r14, r15; the control words. */
    uint64_t *s = (uint64_t *)(void *)(((uintptr_t)top) & ~(uintptr_t)15);
    uint64_t frame[10] = {0};
    uint32_t mxcsr = 0x1F80;    /* every exception masked, round to nearest */
    uint16_t fpucw = 0x037F;    /* the same for the x87 unit */
    memcpy(&frame[0], &mxcsr, sizeof mxcsr);
    memcpy((char *)&frame[0] + 4, &fpucw, sizeof fpucw);
    frame[1] = 0;                          /* r15 */
    frame[2] = 0;                          /* r14 */
    frame[3] = (uint64_t)(uintptr_t)entry; /* r13 */
    frame[4] = (uint64_t)(uintptr_t)co;    /* r12 */
    frame[5] = 0;                          /* rbx */
    frame[6] = 0;                          /* rbp: ends frame-pointer walks */
    frame[7] = (uint64_t)(uintptr_t)ibx__co_boot;
    frame[8] = 0;
    frame[9] = 0;
    memcpy(s - 10, frame, sizeof frame);
    return s - 10;
}

#else

void ibx__co_switch(void **save, void *to)
{
    (void)save;
    (void)to;
}

void *ibx__co_stack_init(char *top, void (*entry)(ibx_co *), ibx_co *co)
{
    (void)top;
    (void)entry;
    (void)co;
    return NULL;   /* ibx_co_new says -ENOSYS */
}

#endif
