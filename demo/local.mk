# demo/local.mk: the bundled program that leaks and grows memory.
