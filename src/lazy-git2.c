/*
 * lazy-git2.c - the libgit2 functions chiffon calls, opening libgit2 on
 * the first of them (see lazylib.h).  Only gittrail.c uses libgit2; a
 * function it starts to use is added to the table below.
 */
#include "config.h"

#include <git2.h>

#include "lazylib.h"

static struct lazylib lazy_git2 = {
	.soname = CHIFFON_GIT2_SONAME,
	.needed_for = "the audit trail's git commits",
};

/*
 * X(return type, name, (parameters), (arguments)) for a function with a
 * value, V(name, (parameters), (arguments)) for a void one; the
 * prototypes are libgit2's (git2.h declares them too, so the compiler
 * checks each).
 */
#define LAZY_GIT2_FUNCTIONS(X, V) \
	X(int, git_blob_create_from_buffer, (git_oid *id, \
	    git_repository *repo, const void *buffer, size_t len), (id, \
	    repo, buffer, len)) \
	V(git_blob_free, (git_blob *blob), (blob)) \
	X(int, git_blob_lookup, (git_blob **blob, git_repository *repo, \
	    const git_oid *id), (blob, repo, id)) \
	X(const void *, git_blob_rawcontent, (const git_blob *blob), (blob)) \
	X(git_object_size_t, git_blob_rawsize, (const git_blob *blob), \
	    (blob)) \
	X(int, git_commit_create, (git_oid *id, git_repository *repo, \
	    const char *update_ref, const git_signature *author, \
	    const git_signature *committer, const char *message_encoding, \
	    const char *message, const git_tree *tree, size_t parent_count, \
	    const git_commit *parents[]), (id, repo, update_ref, author, \
	    committer, message_encoding, message, tree, parent_count, \
	    parents)) \
	V(git_commit_free, (git_commit *commit), (commit)) \
	X(const git_oid *, git_commit_id, (const git_commit *commit), \
	    (commit)) \
	X(int, git_commit_lookup, (git_commit **commit, \
	    git_repository *repo, const git_oid *id), (commit, repo, id)) \
	X(const char *, git_commit_message, (const git_commit *commit), \
	    (commit)) \
	X(int, git_commit_tree, (git_tree **tree_out, \
	    const git_commit *commit), (tree_out, commit)) \
	X(const git_error *, git_error_last, (void), ()) \
	X(int, git_index_add_bypath, (git_index *index, const char *path), \
	    (index, path)) \
	V(git_index_free, (git_index *index), (index)) \
	X(int, git_index_read, (git_index *index, int force), (index, \
	    force)) \
	X(int, git_index_remove_bypath, (git_index *index, \
	    const char *path), (index, path)) \
	X(int, git_index_write, (git_index *index), (index)) \
	X(int, git_libgit2_init, (void), ()) \
	X(int, git_libgit2_shutdown, (void), ()) \
	X(int, git_odb_hash, (git_oid *out, const void *data, size_t len, \
	    git_object_t type), (out, data, len, type)) \
	X(int, git_oid_equal, (const git_oid *a, const git_oid *b), (a, b)) \
	X(char *, git_oid_tostr, (char *out, size_t n, const git_oid *id), \
	    (out, n, id)) \
	X(int, git_reference_name_to_id, (git_oid *out, \
	    git_repository *repo, const char *name), (out, repo, name)) \
	V(git_repository_free, (git_repository *repo), (repo)) \
	X(int, git_repository_head_unborn, (git_repository *repo), (repo)) \
	X(int, git_repository_index, (git_index **out, \
	    git_repository *repo), (out, repo)) \
	X(int, git_repository_init, (git_repository **out, const char *path, \
	    unsigned is_bare), (out, path, is_bare)) \
	X(int, git_repository_open_ext, (git_repository **out, \
	    const char *path, unsigned int flags, const char *ceiling_dirs), \
	    (out, path, flags, ceiling_dirs)) \
	X(const char *, git_repository_workdir, \
	    (const git_repository *repo), (repo)) \
	V(git_revwalk_free, (git_revwalk *walk), (walk)) \
	X(int, git_revwalk_new, (git_revwalk **out, git_repository *repo), \
	    (out, repo)) \
	X(int, git_revwalk_next, (git_oid *out, git_revwalk *walk), (out, \
	    walk)) \
	X(int, git_revwalk_push_head, (git_revwalk *walk), (walk)) \
	V(git_signature_free, (git_signature *sig), (sig)) \
	X(int, git_signature_now, (git_signature **out, const char *name, \
	    const char *email), (out, name, email)) \
	X(int, git_tree_create_updated, (git_oid *out, git_repository *repo, \
	    git_tree *baseline, size_t nupdates, \
	    const git_tree_update *updates), (out, repo, baseline, nupdates, \
	    updates)) \
	X(const git_tree_entry *, git_tree_entry_byindex, \
	    (const git_tree *tree, size_t idx), (tree, idx)) \
	X(int, git_tree_entry_bypath, (git_tree_entry **out, \
	    const git_tree *root, const char *path), (out, root, path)) \
	X(git_filemode_t, git_tree_entry_filemode, \
	    (const git_tree_entry *entry), (entry)) \
	V(git_tree_entry_free, (git_tree_entry *entry), (entry)) \
	X(const git_oid *, git_tree_entry_id, (const git_tree_entry *entry), \
	    (entry)) \
	X(const char *, git_tree_entry_name, (const git_tree_entry *entry), \
	    (entry)) \
	X(git_object_t, git_tree_entry_type, (const git_tree_entry *entry), \
	    (entry)) \
	X(size_t, git_tree_entrycount, (const git_tree *tree), (tree)) \
	V(git_tree_free, (git_tree *tree), (tree)) \
	X(int, git_tree_lookup, (git_tree **out, git_repository *repo, \
	    const git_oid *id), (out, repo, id)) \
	V(git_treebuilder_free, (git_treebuilder *bld), (bld)) \
	X(int, git_treebuilder_new, (git_treebuilder **out, \
	    git_repository *repo, const git_tree *source), (out, repo, \
	    source)) \
	X(int, git_treebuilder_write, (git_oid *id, git_treebuilder *bld), \
	    (id, bld))

#define LAZY_GIT2_X(ret, name, params, args)				\
ret									\
name params								\
{									\
	LAZYLIB_CALL(&lazy_git2, ret, name, params, args);		\
}
#define LAZY_GIT2_V(name, params, args)					\
void									\
name params								\
{									\
	LAZYLIB_CALL_VOID(&lazy_git2, name, params, args);	\
}
LAZY_GIT2_FUNCTIONS(LAZY_GIT2_X, LAZY_GIT2_V)
