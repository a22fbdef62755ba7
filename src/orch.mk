## src/orch.mk - the orchestrator (see src/local.mk and the README, "The
## orchestrator"): the stages a request goes through, one block per stage
## in pipeline order.  The engine is in the core library (the shell, the
## commands and the tests drive the same calls); the commands are in the
## binary.
##
##   request -> tiers -> plan -> approve -> dispatch -> worker
##     -> capability (a plugin, through host.c and task.c)
##     -> runlog (src/run.mk) -> finish -> audit (src/audit.mk)

# request: the request line stored with its audit event; the
# deterministic parser (intent) and its one table of action words.
src_libchiffon_core_la_SOURCES += \
	src/request.c src/request.h \
	src/intent.c src/intent.h \
	src/actions.c src/actions.h

# tiers: local model, external model, the parser; costs and budgets (the
# providers' wire formats are in src/llm.mk).
src_libchiffon_core_la_SOURCES += src/tiers.c src/tiers.h

# plan: the vocabulary from the catalog, services matched, risk and
# estimate, the plan and its tasks stored pending approval.
src_libchiffon_core_la_SOURCES += \
	src/vocab.c src/vocab.h \
	src/targets.c src/targets.h \
	src/plan-build.c src/plan-show.c src/plan-store.c src/plan.h

# approve: what was approved, bound by a hash of its content.
src_libchiffon_core_la_SOURCES += \
	src/approve.c src/approve.h \
	src/exec.c src/exec.h \
	src/approve-hash.c src/approve-hash.h \
	src/sha256.c src/sha256.h

# dispatch: the work queue (SKIP LOCKED, NOTIFY), routing to agents, the
# finish of a task (state, audit row, git entry).
src_libchiffon_core_la_SOURCES += \
	src/dispatch.c src/dispatch.h \
	src/route.c src/route.h

# worker: claim, lease, run through the host; the agent around it.
src_libchiffon_core_la_SOURCES += \
	src/worker.c src/worker.h \
	src/agent.c src/agent.h

# capability: a task handed to the plugin that registered the name.
src_libchiffon_core_la_SOURCES += src/task.c src/task.h

# The commands that drive the pipeline.
src_chiffon_SOURCES += src/cmd-plan.c src/cmd-approve.c src/cmd-run.c \
	src/cmd-worker.c src/cmd-agent.c src/cmd-agents.c

# plan-build.c, plan-show.c (and tiers.c) round durations and costs.
src_libchiffon_core_la_LIBADD += -lm
