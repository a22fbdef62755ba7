/*
 * lazylib.h - shared libraries opened on their first call.
 *
 * libcurl (LLM calls) and libgit2 (the audit trail's commits), with all
 * they pull in (nghttp2, ssh2, rtmp, brotli, zstd, mbedtls, pcre2, ...),
 * cost every start about 1.4 MB of resident memory and milliseconds of
 * loading and relocation, for calls an idle shell never makes.  chiffon is
 * linked without them: src/lazy-curl.c and src/lazy-git2.c define the
 * functions chiffon calls, with the libraries' own prototypes (the
 * compiler checks them against the installed headers), and each finds its
 * real function through lazylib_sym on its first call.  The file names
 * (sonames) are the ones configure found the libraries under.
 *
 * A library that cannot be opened then ends the process with a message
 * naming it and what needed it, as the dynamic linker would have refused
 * to start the program before.
 */
#ifndef CHIFFON_LAZYLIB_H
#define CHIFFON_LAZYLIB_H

/* One library: a static of the file that wraps it. */
struct lazylib {
	const char	*soname;	/* "libgit2.so.1.5" (from configure) */
	const char	*needed_for;	/* "the audit trail's git commits" */
	void		*handle;	/* dlopen's, once opened */
};

/*
 * The address of the library's function name, the library opened first
 * if it is not yet.  Never returns NULL: a library or function missing
 * ends the process (exit status 127, the dynamic linker's).
 */
void	*lazylib_sym(struct lazylib *, const char *name);

/*
 * The body of a wrapper of name(params) returning ret: the function is
 * looked up once, into a static pointer.
 */
#define LAZYLIB_CALL(lib, ret, name, params, args) do {			\
	static ret	(*lazylib_fn)params;				\
									\
	if (lazylib_fn == NULL)						\
		lazylib_fn = (ret (*)params)lazylib_sym((lib), #name);	\
	return lazylib_fn args;						\
} while (0)
#define LAZYLIB_CALL_VOID(lib, name, params, args) do {			\
	static void	(*lazylib_fn)params;				\
									\
	if (lazylib_fn == NULL)						\
		lazylib_fn = (void (*)params)lazylib_sym((lib), #name);	\
	lazylib_fn args;						\
} while (0)

#endif
