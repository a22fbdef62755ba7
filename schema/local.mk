## schema/local.mk - SQL migrations.  They are installed to $(schemadir)
## for reference and compiled into chiffon by schema/sql2c.awk (the rule
## is in src/migrate.mk).  List new files here in ascending order.
schema_sql = \
	schema/001_init.sql \
	schema/002_interrupted.sql \
	schema/003_owner.sql \
	schema/004_nothing_lost.sql \
	schema/005_gate.sql \
	schema/006_real_repos.sql \
	schema/007_agents.sql \
	schema/008_gate_skip_tags.sql \
	schema/010_runs_guard_digest.sql \
	schema/011_lint_once.sql \
	schema/012_task_created_notify.sql \
	schema/013_run_abandon.sql \
	schema/014_output_summary.sql \
	schema/015_writer_digest.sql \
	schema/016_output_chunks.sql
dist_schema_DATA += $(schema_sql)
EXTRA_DIST += schema/sql2c.awk
