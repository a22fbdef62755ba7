/*
 * lazylib.c - shared libraries opened on their first call (lazylib.h).
 */
#include "config.h"

#include <dlfcn.h>
#include <stdio.h>
#include <unistd.h>

#include "lazylib.h"

/* What the dynamic linker would have said, then its exit status. */
static void __attribute__((noreturn))
lazylib_fail(const struct lazylib *lib, const char *what)
{
	const char	*why = dlerror();

	fprintf(stderr, "chiffon: cannot load %s from %s, needed for %s: %s "
	    "(reinstall the package that provides %s)\n", what, lib->soname,
	    lib->needed_for, why != NULL ? why : "not found", lib->soname);
	_exit(127);
}

void *
lazylib_sym(struct lazylib *lib, const char *name)
{
	void	*sym;

	if (lib->handle == NULL &&
	    (lib->handle = dlopen(lib->soname, RTLD_NOW | RTLD_LOCAL)) == NULL)
		lazylib_fail(lib, "the library");
	dlerror();
	if ((sym = dlsym(lib->handle, name)) == NULL)
		lazylib_fail(lib, name);
	return sym;
}
