// seccomp.h: make a system call fail, as a full file system or address
// space would, for the test programs that check the runtime copes.
#ifndef TM_TESTS_SECCOMP_H
#define TM_TESTS_SECCOMP_H

#include <linux/filter.h>
#include <linux/seccomp.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/syscall.h>

#define SECCOMP_MAX_RULES 16

// Install a filter that runs @rules on x86_64's system calls, with the
// call's number loaded, and lets every other call through; @rules end in
// returns.  Exits 77 (skipped) on other machines, 1 if the kernel refuses.
static void refuse_calls(const char *who, const struct sock_filter *rules,
			 size_t count)
{
#if defined(__x86_64__)
	struct sock_filter code[4 + SECCOMP_MAX_RULES] = {
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, arch)),
		BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, 0xc000003e /* x86_64 */, 1,
			 0),
		BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
		BPF_STMT(BPF_LD | BPF_W | BPF_ABS,
			 offsetof(struct seccomp_data, nr)),
	};
	if (count > SECCOMP_MAX_RULES) {
		fprintf(stderr, "%s: too many seccomp rules\n", who);
		exit(1);
	}
	memcpy(code + 4, rules, count * sizeof(*rules));
	struct sock_fprog program = { (unsigned short)(4 + count), code };
	if (prctl(PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0) < 0 ||
	    prctl(PR_SET_SECCOMP, SECCOMP_MODE_FILTER, &program) < 0) {
		perror("seccomp");
		exit(1);
	}
#else
	(void)rules;
	(void)count;
	fprintf(stderr, "%s: only on x86_64\n", who);
	exit(77);
#endif
}

#endif // TM_TESTS_SECCOMP_H
