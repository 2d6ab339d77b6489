// varframes.c: two stacks whose return-address slots all hold the same
// values, which the stack cache must tell apart.
//
// allocate_below() has a frame whose size varies (alloca).  Called through
// via_long() it reserves 512 bytes; through via_short(), 256, and
// via_short() reserves the difference itself, so malloc runs at the same
// stack address both ways, with the same return address.  via_short()
// leaves its reserve uninitialized: where via_long()'s return address was
// stored, a stale copy of it is still there.  Every return-address slot
// the cache checks then holds what it held before, but the true caller is
// via_short(); only allocate_below's frame pointer tells them apart.
//
// That frame pointer is saved by whatever function below first reuses the
// register: the malloc hook itself when allocate_below calls malloc, or,
// the second time round, clobbering_malloc, which saves it among the
// registers it pushes, as code built without frame pointers does.
//
// Sizes: through malloc, 101 via_long and 202 via_short; through
// clobbering_malloc, 303 and 606 (run-variable-frames.sh).
#include <alloca.h>
#include <stdio.h>
#include <stdlib.h>

#define NOINLINE __attribute__((noinline))
#define KEEP(p) __asm__ volatile("" ::"r"(p) : "memory")

static void *volatile bottom; // the lowest byte of allocate_below's frame
static void *volatile kept[12];

#ifdef __x86_64__
// malloc(size), from a frame that pushes r15, r14, rbp and rbx, then uses
// rbp for something else.  Its CFI lets the unwinder walk through it.
void *clobbering_malloc(size_t size);
__asm__(".text\n"
	".globl clobbering_malloc\n"
	".type clobbering_malloc, @function\n"
	"clobbering_malloc:\n"
	".cfi_startproc\n"
	"push %r15\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %r15, 0\n"
	"push %r14\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %r14, 0\n"
	"push %rbp\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %rbp, 0\n"
	"push %rbx\n"
	".cfi_adjust_cfa_offset 8\n"
	".cfi_rel_offset %rbx, 0\n"
	"sub $8, %rsp\n"
	".cfi_adjust_cfa_offset 8\n"
	"xor %ebp, %ebp\n"
	"call malloc@PLT\n"
	"add $8, %rsp\n"
	".cfi_adjust_cfa_offset -8\n"
	"pop %rbx\n"
	".cfi_adjust_cfa_offset -8\n"
	"pop %rbp\n"
	".cfi_adjust_cfa_offset -8\n"
	"pop %r14\n"
	".cfi_adjust_cfa_offset -8\n"
	"pop %r15\n"
	".cfi_adjust_cfa_offset -8\n"
	"ret\n"
	".cfi_endproc\n"
	".size clobbering_malloc, .-clobbering_malloc\n");
#endif

// What allocate_below calls.
static void *(*volatile allocate)(size_t) = malloc;

NOINLINE void *allocate_below(size_t reserve, size_t size)
{
	char *buf = alloca(reserve);
	KEEP(buf);
	bottom = buf;
	void *p = size ? allocate(size) : NULL;
	KEEP(buf);
	return p;
}

// The same shape as via_short (called with extra 0), so that their fixed
// parts match.
NOINLINE void *via_long(size_t extra, size_t size)
{
	char *stale = alloca(extra);
	KEEP(stale);
	void *p = allocate_below(512, size);
	KEEP(stale);
	return p;
}

NOINLINE void *via_short(size_t extra, size_t size)
{
	char *stale = alloca(extra);
	KEEP(stale);
	void *p = allocate_below(256, size);
	KEEP(stale);
	return p;
}

// One call site for both, so that the frames above are the same.
NOINLINE void *call(void *(*via)(size_t, size_t), size_t extra, size_t size)
{
	void *p = via(extra, size);
	KEEP(p);
	return p;
}

int main(void)
{
	static void *(*volatile via[6])(size_t, size_t) = {
		via_long, via_long, via_long, via_short, via_short, via_short
	};
	static volatile size_t extra[6];
	static const size_t size[6] = { 101, 101, 101, 202, 202, 202 };

	// How much via_short must reserve: the frame layout is the compiler's.
	call(via_long, 0, 0);
	void *want = bottom;
	size_t reserve = 0;
	for (; reserve <= 2048; reserve += 16) {
		call(via_short, reserve, 0);
		if (bottom == want)
			break;
	}
	if (reserve > 2048) {
		puts("varframes: no reserve gives the same stack address");
		return 77;
	}
	for (int i = 3; i < 6; i++)
		extra[i] = reserve;
	for (int i = 0; i < 6; i++)
		kept[i] = call(via[i], extra[i], size[i]);
#ifdef __x86_64__
	allocate = clobbering_malloc;
	for (int i = 0; i < 6; i++)
		kept[6 + i] = call(via[i], extra[i], size[i] * 3);
#endif
	puts("varframes done");
	return 0;
}
