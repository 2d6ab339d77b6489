// exit.h: tm-core's exit statuses (DESIGN.md, "Contracts").
#ifndef TM_CORE_EXIT_H
#define TM_CORE_EXIT_H

enum {
	EXIT_DONE = 0,
	EXIT_USAGE = 1,	    // bad usage
	EXIT_NO_TABLE = 2,  // the source cannot be read or holds no table
	EXIT_BAD_TABLE = 3, // the table is there but unreadable
};

#endif // TM_CORE_EXIT_H
