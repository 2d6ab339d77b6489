/* switch_stack.S: call a function on another stack, so that unwinds run
   on the runtime's own stack, not the program's (record.c).

   uint32_t tm_call_on_stack(uint32_t (*fn)(const void *, uint64_t),
                             const void *a, uint64_t b, void *top);

   calls fn(a, b) with the stack pointer at top (16-byte aligned) and
   returns its result.  The frame keeps a frame pointer into the caller's
   stack and its call frame information says so, the way a standard frame
   does: an unwinder that starts inside fn walks back through this frame
   onto the caller's stack, and on up the program's frames.  x86_64 only;
   elsewhere tm_call_on_stack is not defined (record.c). */
#if defined(__x86_64__)
	.section tm_runtime_text, "ax", @progbits
	.globl tm_call_on_stack
	.hidden tm_call_on_stack
	.type tm_call_on_stack, @function
	.p2align 4
tm_call_on_stack:
	.cfi_startproc
	pushq %rbp
	.cfi_def_cfa_offset 16
	.cfi_offset %rbp, -16
	movq %rsp, %rbp
	.cfi_def_cfa_register %rbp
	/* From here to the return, the caller's frame is found through
	   %rbp alone, whatever %rsp holds. */
	movq %rcx, %rsp
	movq %rdi, %rax
	movq %rsi, %rdi
	movq %rdx, %rsi
	call *%rax
	movq %rbp, %rsp
	popq %rbp
	.cfi_def_cfa %rsp, 8
	ret
	.cfi_endproc
	.size tm_call_on_stack, . - tm_call_on_stack
#endif
	.section .note.GNU-stack, "", @progbits
