/* symbols.S: symbols whose choice libdwfl makes by its finer rules, linked
   into test_symbol_index so that its own module holds them: weak
   functions inside global ones (several: which of the two comes first in
   the table, where the linker puts them, decides the answer), a global
   and a weak alias, a large and a small local at one address, a local
   inside a local, labels with no size (global, local, after a sized
   function, at the end of a section), and an absolute symbol.  */
	.text
	.globl	tm_sym_outer
	.type	tm_sym_outer, @function
tm_sym_outer:
	.skip	16
	.weak	tm_sym_inner_weak
	.type	tm_sym_inner_weak, @function
tm_sym_inner_weak:
	.skip	16
	.size	tm_sym_inner_weak, 16
	.skip	32
	.size	tm_sym_outer, 64

	.globl	tm_sym_outer_b
	.type	tm_sym_outer_b, @function
tm_sym_outer_b:
	.skip	8
	.weak	tm_sym_inner_weak_b
	.type	tm_sym_inner_weak_b, @function
tm_sym_inner_weak_b:
	.skip	8
	.size	tm_sym_inner_weak_b, 8
	.size	tm_sym_outer_b, 16

	.globl	tm_sym_outer_c
	.type	tm_sym_outer_c, @function
tm_sym_outer_c:
	.skip	8
	.weak	tm_sym_inner_weak_c
	.type	tm_sym_inner_weak_c, @function
tm_sym_inner_weak_c:
	.skip	8
	.size	tm_sym_inner_weak_c, 8
	.size	tm_sym_outer_c, 16

	.globl	tm_sym_outer_d
	.type	tm_sym_outer_d, @function
tm_sym_outer_d:
	.skip	8
	.weak	tm_sym_inner_weak_d
	.type	tm_sym_inner_weak_d, @function
tm_sym_inner_weak_d:
	.skip	8
	.size	tm_sym_inner_weak_d, 8
	.size	tm_sym_outer_d, 16

	.globl	tm_sym_outer_e
	.type	tm_sym_outer_e, @function
tm_sym_outer_e:
	.skip	8
	.weak	tm_sym_inner_weak_e
	.type	tm_sym_inner_weak_e, @function
tm_sym_inner_weak_e:
	.skip	8
	.size	tm_sym_inner_weak_e, 8
	.size	tm_sym_outer_e, 16

	.globl	tm_sym_alias_global
	.type	tm_sym_alias_global, @function
	.weak	tm_sym_alias_weak
	.type	tm_sym_alias_weak, @function
tm_sym_alias_global:
tm_sym_alias_weak:
	.skip	32
	.size	tm_sym_alias_global, 32
	.size	tm_sym_alias_weak, 32

	.type	tm_sym_local_big, @function
	.type	tm_sym_local_small, @function
tm_sym_local_big:
tm_sym_local_small:
	.skip	16
	.type	tm_sym_local_nested, @function
tm_sym_local_nested:
	.skip	8
	.size	tm_sym_local_nested, 8
	.skip	24
	.size	tm_sym_local_big, 48
	.size	tm_sym_local_small, 16

	.globl	tm_sym_label_global
tm_sym_label_global:
	.skip	16
tm_sym_label_local:
	.skip	16
	.type	tm_sym_after_labels, @function
tm_sym_after_labels:
	.skip	16
	.size	tm_sym_after_labels, 16
tm_sym_label_after_sized:
	.skip	16
tm_sym_label_at_end:

	.data
tm_sym_data_label:
	.skip	8
	.globl	tm_sym_absolute
	.set	tm_sym_absolute, 0x1234

	.section .note.GNU-stack,"",@progbits
