-- 001_init.sql - chiffon's whole data model, version 1.
--
-- Applied by chiffon's migration runner (src/migrate.c) inside one
-- transaction; do not add BEGIN/COMMIT here.  Every table and column is
-- described in chiffon-schema(7).  Later migrations extend this file's
-- tables; they never rewrite it (its checksum is recorded).
--
-- Conventions: ids are bigint identity, times are timestamptz, free-form
-- structured data is jsonb, every enumeration is a CHECK constraint.

-- ------------------------------------------------------------------------
-- Requests, plans, approvals, tasks
-- ------------------------------------------------------------------------

CREATE TABLE requests (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	created_at	timestamptz NOT NULL DEFAULT now(),
	actor		text NOT NULL,
	ssh_client	text,
	source		text NOT NULL DEFAULT 'cli'
			CHECK (source IN ('tui', 'cli', 'agent', 'api')),
	text		text NOT NULL,
	intents		jsonb,
	ambiguities	jsonb,
	out_of_scope	jsonb,
	parser_tier	text CHECK (parser_tier IN
			('deterministic', 'local', 'external')),
	cost_usd	numeric(12, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0)
);
CREATE INDEX requests_created_at_idx ON requests (created_at DESC);

CREATE TABLE plans (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_id		bigint NOT NULL,
	version		integer NOT NULL DEFAULT 1 CHECK (version >= 1),
	request_id	bigint NOT NULL REFERENCES requests (id),
	created_at	timestamptz NOT NULL DEFAULT now(),
	created_by	text NOT NULL,
	parser_tier	text NOT NULL DEFAULT 'deterministic'
			CHECK (parser_tier IN
			('deterministic', 'local', 'external')),
	cost_usd	numeric(12, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0),
	summary		text NOT NULL,
	detail		jsonb NOT NULL DEFAULT '{}',
	amendment	text,
	status		text NOT NULL DEFAULT 'pending_approval'
			CHECK (status IN ('pending_approval', 'approved',
			'rejected', 'superseded', 'running', 'succeeded',
			'failed', 'canceled')),
	superseded_by	bigint REFERENCES plans (id),
	UNIQUE (plan_id, version),
	CHECK ((status = 'superseded') = (superseded_by IS NOT NULL))
);
CREATE INDEX plans_request_idx ON plans (request_id);
CREATE INDEX plans_created_at_idx ON plans (created_at DESC);

-- Version 1 of a plan names itself: plan_id defaults to the row's own id.
CREATE FUNCTION chiffon_plans_default_plan_id() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.plan_id IS NULL THEN
		NEW.plan_id := NEW.id;
	END IF;
	RETURN NEW;
END;
$$;
ALTER TABLE plans ALTER COLUMN plan_id DROP NOT NULL;
ALTER TABLE plans ADD CONSTRAINT plans_plan_id_not_null
	CHECK (plan_id IS NOT NULL);
CREATE TRIGGER plans_default_plan_id BEFORE INSERT ON plans
	FOR EACH ROW EXECUTE FUNCTION chiffon_plans_default_plan_id();

-- A superseded version stays superseded.
CREATE FUNCTION chiffon_plans_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF OLD.status IN ('superseded', 'rejected')
	    AND NEW.status IS DISTINCT FROM OLD.status THEN
		RAISE EXCEPTION 'plan % version % is %; it cannot become %',
		    OLD.plan_id, OLD.version, OLD.status, NEW.status
		    USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER plans_guard BEFORE UPDATE ON plans
	FOR EACH ROW EXECUTE FUNCTION chiffon_plans_guard();

-- One row per decision on one plan version; append-only.
CREATE TABLE approvals (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_id		bigint NOT NULL REFERENCES plans (id),
	decision	text NOT NULL DEFAULT 'approved'
			CHECK (decision IN ('approved', 'rejected')),
	approved_by	text NOT NULL,
	ssh_client	text,
	at		timestamptz NOT NULL DEFAULT now(),
	reason		text,
	CHECK (decision <> 'rejected' OR reason IS NOT NULL)
);
CREATE INDEX approvals_plan_idx ON approvals (plan_id);
CREATE INDEX approvals_by_idx ON approvals (approved_by, at DESC);

CREATE FUNCTION chiffon_approvals_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	p	plans%ROWTYPE;
BEGIN
	IF TG_OP <> 'INSERT' THEN
		RAISE EXCEPTION 'approvals are append-only (% refused)', TG_OP
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	SELECT * INTO p FROM plans WHERE id = NEW.plan_id;
	IF p.status = 'superseded' THEN
		RAISE EXCEPTION 'plan % version % is superseded by row %; '
		    'approve the current version instead',
		    p.plan_id, p.version, p.superseded_by
		    USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER approvals_guard BEFORE INSERT OR UPDATE OR DELETE ON approvals
	FOR EACH ROW EXECUTE FUNCTION chiffon_approvals_guard();

CREATE TABLE playbooks (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	path		text NOT NULL UNIQUE,
	service		text NOT NULL,
	description	text,
	aliases		text[] NOT NULL DEFAULT '{}',
	hosts		text,
	tags		text[] NOT NULL DEFAULT '{}',
	vars		jsonb NOT NULL DEFAULT '{}',
	roles		text[] NOT NULL DEFAULT '{}',
	task_names	text[] NOT NULL DEFAULT '{}',
	sha256		text NOT NULL,
	size		bigint,
	mtime		timestamptz NOT NULL,
	discovered_at	timestamptz NOT NULL DEFAULT now(),
	refreshed_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX playbooks_service_idx ON playbooks (service);
CREATE INDEX playbooks_aliases_idx ON playbooks USING gin (aliases);

CREATE TABLE tasks (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	plan_id		bigint NOT NULL REFERENCES plans (id),
	step		integer NOT NULL CHECK (step >= 1),
	action		text NOT NULL,
	service		text,
	playbook	text,
	playbook_id	bigint REFERENCES playbooks (id) ON DELETE SET NULL,
	match_method	text CHECK (match_method IN ('exact', 'alias',
			'mapping', 'lexical', 'embedding', 'llm', 'manual')),
	match_confidence real CHECK (match_confidence BETWEEN 0 AND 1),
	targets		text,
	tags		text[] NOT NULL DEFAULT '{}',
	extra_vars	jsonb NOT NULL DEFAULT '{}',
	check_mode	boolean NOT NULL DEFAULT false,
	depends_on	bigint[] NOT NULL DEFAULT '{}',
	capability	text NOT NULL DEFAULT 'ansible',
	resources	jsonb NOT NULL DEFAULT '{}',
	risk		text NOT NULL DEFAULT 'medium'
			CHECK (risk IN ('low', 'medium', 'high')),
	estimated_s	double precision CHECK (estimated_s >= 0),
	status		text NOT NULL DEFAULT 'pending_approval'
			CHECK (status IN ('pending_approval', 'approved',
			'queued', 'running', 'succeeded', 'failed',
			'canceled', 'timed_out', 'paused', 'rejected',
			'superseded')),
	status_reason	text,
	status_changed_at timestamptz NOT NULL DEFAULT now(),
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	started_at	timestamptz,
	finished_at	timestamptz,
	result		jsonb,
	wall_s		double precision,
	user_s		double precision,
	sys_s		double precision,
	maxrss_kb	bigint,
	gpu_mem_mb	bigint,
	UNIQUE (plan_id, step)
);
CREATE INDEX tasks_status_idx ON tasks (status, status_changed_at);
CREATE INDEX tasks_failures_idx ON tasks (finished_at DESC, id DESC)
	WHERE status IN ('failed', 'timed_out');
CREATE INDEX tasks_service_idx ON tasks (service, created_at DESC, id DESC);
CREATE INDEX tasks_created_at_idx ON tasks (created_at DESC, id DESC);
CREATE INDEX tasks_playbook_idx ON tasks (playbook, finished_at DESC);

-- The task state machine.  Every legal (from, to) pair is a row; anything
-- else is refused by chiffon_tasks_transition().
CREATE TABLE task_transitions (
	from_status	text NOT NULL,
	to_status	text NOT NULL,
	PRIMARY KEY (from_status, to_status)
);
INSERT INTO task_transitions (from_status, to_status) VALUES
	('pending_approval', 'approved'),
	('pending_approval', 'rejected'),
	('pending_approval', 'superseded'),
	('pending_approval', 'paused'),
	('approved', 'queued'),
	('approved', 'superseded'),
	('approved', 'canceled'),
	('approved', 'paused'),
	('queued', 'running'),
	('queued', 'canceled'),
	('queued', 'paused'),
	('running', 'succeeded'),
	('running', 'failed'),
	('running', 'canceled'),
	('running', 'timed_out'),
	('running', 'queued'),
	('running', 'paused'),
	('paused', 'queued'),
	('paused', 'approved'),
	('paused', 'canceled');

CREATE FUNCTION chiffon_task_terminal(s text) RETURNS boolean
LANGUAGE sql IMMUTABLE AS $$
	SELECT s IN ('succeeded', 'failed', 'canceled', 'timed_out',
	    'rejected', 'superseded')
$$;

CREATE FUNCTION chiffon_tasks_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	p	plans%ROWTYPE;
BEGIN
	IF TG_OP = 'INSERT' THEN
		IF NEW.status <> 'pending_approval' THEN
			RAISE EXCEPTION 'task for plan row % inserted as %: '
			    'new tasks must be pending_approval',
			    NEW.plan_id, NEW.status
			    USING ERRCODE = 'check_violation';
		END IF;
		RETURN NEW;
	END IF;
	IF TG_OP = 'DELETE' THEN
		IF OLD.status <> 'pending_approval' THEN
			RAISE EXCEPTION 'task % is %: only pending tasks can '
			    'be deleted', OLD.id, OLD.status
			    USING ERRCODE = 'check_violation';
		END IF;
		RETURN OLD;
	END IF;
	IF chiffon_task_terminal(OLD.status) THEN
		RAISE EXCEPTION 'task % is % (a final state); it cannot be '
		    'changed', OLD.id, OLD.status
		    USING ERRCODE = 'check_violation';
	END IF;
	IF NEW.id <> OLD.id OR NEW.plan_id <> OLD.plan_id THEN
		RAISE EXCEPTION 'task % cannot move to another id or plan',
		    OLD.id USING ERRCODE = 'check_violation';
	END IF;
	IF NEW.status = OLD.status THEN
		RETURN NEW;
	END IF;
	IF NOT EXISTS (SELECT 1 FROM task_transitions
	    WHERE from_status = OLD.status AND to_status = NEW.status) THEN
		RAISE EXCEPTION 'task %: illegal transition % -> %',
		    OLD.id, OLD.status, NEW.status
		    USING ERRCODE = 'check_violation';
	END IF;
	IF NEW.status = 'approved' THEN
		SELECT * INTO p FROM plans WHERE id = NEW.plan_id;
		IF p.status = 'superseded' THEN
			RAISE EXCEPTION 'task %: plan % version % is superseded; '
			    'approve the current version instead',
			    OLD.id, p.plan_id, p.version
			    USING ERRCODE = 'check_violation';
		END IF;
		IF NOT EXISTS (SELECT 1 FROM approvals a
		    WHERE a.plan_id = NEW.plan_id
		    AND a.decision = 'approved') THEN
			RAISE EXCEPTION 'task %: plan % version % has no '
			    'approval row; approve it first',
			    OLD.id, p.plan_id, p.version
			    USING ERRCODE = 'check_violation';
		END IF;
	END IF;
	NEW.status_changed_at := now();
	IF NEW.status = 'running' AND NEW.started_at IS NULL THEN
		NEW.started_at := now();
	END IF;
	IF chiffon_task_terminal(NEW.status) THEN
		NEW.finished_at := coalesce(NEW.finished_at, now());
	END IF;
	PERFORM pg_notify('chiffon_task', NEW.id::text || ' ' || NEW.status);
	RETURN NEW;
END;
$$;
CREATE TRIGGER tasks_transition BEFORE INSERT OR UPDATE OR DELETE ON tasks
	FOR EACH ROW EXECUTE FUNCTION chiffon_tasks_transition();

-- ------------------------------------------------------------------------
-- Dispatch: queue, agents, routing
-- ------------------------------------------------------------------------

CREATE TABLE work_queue (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	task_id		bigint NOT NULL UNIQUE REFERENCES tasks (id)
			ON DELETE CASCADE,
	capability	text NOT NULL,
	priority	integer NOT NULL DEFAULT 0,
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	max_attempts	integer NOT NULL DEFAULT 3 CHECK (max_attempts >= 1),
	enqueued_at	timestamptz NOT NULL DEFAULT now(),
	available_at	timestamptz NOT NULL DEFAULT now(),
	claimed_by	text,
	claimed_at	timestamptz,
	lease_until	timestamptz,
	last_error	text,
	CHECK ((claimed_by IS NULL) = (lease_until IS NULL))
);
CREATE INDEX work_queue_claim_idx ON work_queue
	(capability, priority DESC, available_at, id) WHERE claimed_by IS NULL;
CREATE INDEX work_queue_lease_idx ON work_queue (lease_until)
	WHERE claimed_by IS NOT NULL;

-- Only approved work can be queued; every new entry wakes the workers.
CREATE FUNCTION chiffon_work_queue_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	s	text;
BEGIN
	SELECT status INTO s FROM tasks WHERE id = NEW.task_id;
	IF s IS NULL OR s NOT IN ('approved', 'queued', 'paused') THEN
		RAISE EXCEPTION 'task % is %: only approved tasks can be queued',
		    NEW.task_id, coalesce(s, 'missing')
		    USING ERRCODE = 'check_violation';
	END IF;
	PERFORM pg_notify('chiffon_work', NEW.capability);
	RETURN NEW;
END;
$$;
CREATE TRIGGER work_queue_insert BEFORE INSERT ON work_queue
	FOR EACH ROW EXECUTE FUNCTION chiffon_work_queue_insert();

CREATE TABLE agents (
	name		text PRIMARY KEY,
	host		text NOT NULL,
	capabilities	text[] NOT NULL DEFAULT '{}',
	capacity	integer NOT NULL DEFAULT 1 CHECK (capacity >= 0),
	running		integer NOT NULL DEFAULT 0 CHECK (running >= 0),
	status		text NOT NULL DEFAULT 'online'
			CHECK (status IN ('online', 'draining', 'offline')),
	version		text,
	pid		integer,
	registered_at	timestamptz NOT NULL DEFAULT now(),
	started_at	timestamptz NOT NULL DEFAULT now(),
	last_heartbeat	timestamptz NOT NULL DEFAULT now(),
	resource_metrics jsonb NOT NULL DEFAULT '{}'
);
CREATE INDEX agents_resource_metrics_idx ON agents
	USING gin (resource_metrics);
CREATE INDEX agents_capabilities_idx ON agents USING gin (capabilities);

CREATE TABLE agent_metrics (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	agent		text NOT NULL REFERENCES agents (name) ON DELETE CASCADE,
	at		timestamptz NOT NULL DEFAULT now(),
	metrics		jsonb NOT NULL
);
CREATE INDEX agent_metrics_agent_at_idx ON agent_metrics (agent, at DESC);

CREATE TABLE routing_decisions (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	task_id		bigint NOT NULL REFERENCES tasks (id),
	attempt		integer NOT NULL DEFAULT 1 CHECK (attempt >= 1),
	capability	text NOT NULL,
	chosen_agent	text,
	decision	text NOT NULL DEFAULT 'dispatched'
			CHECK (decision IN ('dispatched', 'paused',
			'requeued', 'failed')),
	reason		text,
	scores		jsonb NOT NULL DEFAULT '[]'
);
CREATE INDEX routing_decisions_task_idx ON routing_decisions (task_id, at);

-- ------------------------------------------------------------------------
-- LLM calls and their cost
-- ------------------------------------------------------------------------

CREATE TABLE llm_calls (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	request_id	bigint REFERENCES requests (id),
	provider	text NOT NULL,
	model		text NOT NULL,
	tier		text NOT NULL CHECK (tier IN ('local', 'external')),
	purpose		text NOT NULL DEFAULT 'parse',
	decision	text NOT NULL,
	reason		text,
	http_status	integer,
	input_tokens	integer NOT NULL DEFAULT 0 CHECK (input_tokens >= 0),
	output_tokens	integer NOT NULL DEFAULT 0 CHECK (output_tokens >= 0),
	cache_read_tokens integer NOT NULL DEFAULT 0
			CHECK (cache_read_tokens >= 0),
	cache_write_tokens integer NOT NULL DEFAULT 0
			CHECK (cache_write_tokens >= 0),
	latency_ms	integer CHECK (latency_ms >= 0),
	cost_usd	numeric(12, 6) NOT NULL DEFAULT 0 CHECK (cost_usd >= 0)
);
CREATE INDEX llm_calls_at_idx ON llm_calls (at DESC);
CREATE INDEX llm_calls_request_idx ON llm_calls (request_id);

-- ------------------------------------------------------------------------
-- Runs: one execution, its output lines and structured events
-- ------------------------------------------------------------------------

CREATE TABLE runs (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	task_id		bigint REFERENCES tasks (id),
	kind		text NOT NULL,
	agent		text,
	attempt		integer CHECK (attempt >= 1),
	status		text NOT NULL DEFAULT 'running'
			CHECK (status IN ('running', 'successful', 'failed',
			'timeout', 'canceled')),
	exit_code	integer,
	started_at	timestamptz NOT NULL DEFAULT clock_timestamp(),
	finished_at	timestamptz,
	duration	interval,
	summary		jsonb,
	wall_s		double precision,
	user_s		double precision,
	sys_s		double precision,
	maxrss_kb	bigint,
	lines		bigint NOT NULL DEFAULT 0,
	events		bigint NOT NULL DEFAULT 0,
	meta		jsonb NOT NULL DEFAULT '{}',
	CHECK ((status = 'running') = (finished_at IS NULL))
);
CREATE INDEX runs_task_idx ON runs (task_id);
CREATE INDEX runs_started_at_idx ON runs (started_at DESC);
CREATE INDEX runs_failures_idx ON runs (started_at DESC)
	WHERE status IN ('failed', 'timeout');

-- A finished run is a record: it cannot change or go away.
CREATE FUNCTION chiffon_runs_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'run %: runs cannot be deleted', OLD.id
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF OLD.status <> 'running' THEN
		RAISE EXCEPTION 'run % is finished (%); it cannot be changed',
		    OLD.id, OLD.status USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER runs_guard BEFORE UPDATE OR DELETE ON runs
	FOR EACH ROW EXECUTE FUNCTION chiffon_runs_guard();

-- Output and events are partitioned by month of the run's start time
-- (run_started_at, a copy of runs.started_at), so a run never straddles
-- two partitions and (run_id, seq) is unique across the whole table.
CREATE TABLE run_output (
	run_id		bigint NOT NULL,
	seq		bigint NOT NULL,
	run_started_at	timestamptz NOT NULL,
	stream		smallint NOT NULL,
	at		timestamptz NOT NULL,
	line		text NOT NULL,
	PRIMARY KEY (run_id, seq, run_started_at)
) PARTITION BY RANGE (run_started_at);
CREATE TABLE run_output_default PARTITION OF run_output DEFAULT;

CREATE TABLE run_events (
	run_id		bigint NOT NULL,
	seq		bigint NOT NULL,
	run_started_at	timestamptz NOT NULL,
	at		timestamptz NOT NULL,
	event		text NOT NULL,
	uuid		uuid,
	host		text,
	task		text,
	data		jsonb NOT NULL,
	PRIMARY KEY (run_id, seq, run_started_at)
) PARTITION BY RANGE (run_started_at);
CREATE TABLE run_events_default PARTITION OF run_events DEFAULT;
CREATE INDEX run_events_run_event_idx ON run_events (run_id, event);

-- Create monthly partitions of run_output and run_events for the month
-- holding "start" and the following months - 1 months (UTC months).  Rows
-- already in the default partition for such a month are moved into it.
-- Idempotent; returns the number of partitions created.
CREATE FUNCTION chiffon_ensure_partitions(start timestamptz, months integer)
RETURNS integer LANGUAGE plpgsql AS $$
DECLARE
	parent	text;
	lo	timestamptz;
	hi	timestamptz;
	part	text;
	created	integer := 0;
	i	integer;
BEGIN
	-- Serialise with other sessions doing the same.
	PERFORM pg_advisory_xact_lock(hashtext('chiffon_ensure_partitions'));
	FOREACH parent IN ARRAY ARRAY['run_output', 'run_events'] LOOP
		FOR i IN 0 .. months - 1 LOOP
			lo := (date_trunc('month', start AT TIME ZONE 'UTC')
			    + make_interval(months => i)) AT TIME ZONE 'UTC';
			hi := (date_trunc('month', start AT TIME ZONE 'UTC')
			    + make_interval(months => i + 1)) AT TIME ZONE 'UTC';
			part := format('%s_p%s', parent,
			    to_char(lo AT TIME ZONE 'UTC', 'YYYY_MM'));
			CONTINUE WHEN to_regclass(part) IS NOT NULL;
			EXECUTE format('CREATE TABLE %I (LIKE %I INCLUDING '
			    'DEFAULTS INCLUDING CONSTRAINTS)', part, parent);
			EXECUTE format('WITH moved AS (DELETE FROM %I WHERE '
			    'run_started_at >= %L AND run_started_at < %L '
			    'RETURNING *) INSERT INTO %I SELECT * FROM moved',
			    parent || '_default', lo, hi, part);
			EXECUTE format('ALTER TABLE %I ATTACH PARTITION %I '
			    'FOR VALUES FROM (%L) TO (%L)',
			    parent, part, lo, hi);
			created := created + 1;
		END LOOP;
	END LOOP;
	RETURN created;
END;
$$;

-- Drop the monthly partitions that end at or before "before" (retention:
-- chiffon db prune).  Rows in the default partition are not touched.
-- Returns the names of the dropped partitions.
CREATE FUNCTION chiffon_drop_partitions(before timestamptz)
RETURNS SETOF text LANGUAGE plpgsql AS $$
DECLARE
	r	record;
	hi	timestamptz;
BEGIN
	FOR r IN
		SELECT c.relname,
		    substring(c.relname from '_p([0-9]{4}_[0-9]{2})$') AS month
		FROM pg_inherits i
		JOIN pg_class c ON c.oid = i.inhrelid
		JOIN pg_class p ON p.oid = i.inhparent
		WHERE p.relname IN ('run_output', 'run_events')
		AND c.relname ~ '_p[0-9]{4}_[0-9]{2}$'
		ORDER BY c.relname
	LOOP
		hi := (to_date(r.month, 'YYYY_MM')::timestamp
		    + interval '1 month') AT TIME ZONE 'UTC';
		IF hi <= before THEN
			EXECUTE format('DROP TABLE %I', r.relname);
			RETURN NEXT r.relname;
		END IF;
	END LOOP;
END;
$$;

SELECT chiffon_ensure_partitions(now(), 2);

-- ------------------------------------------------------------------------
-- Catalog, mappings, suggestions
-- ------------------------------------------------------------------------

CREATE TABLE playbook_mappings (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	phrase		text NOT NULL,
	playbook_id	bigint NOT NULL REFERENCES playbooks (id)
			ON DELETE CASCADE,
	confidence	real NOT NULL CHECK (confidence BETWEEN 0 AND 1),
	use_count	integer NOT NULL DEFAULT 0 CHECK (use_count >= 0),
	created_at	timestamptz NOT NULL DEFAULT now(),
	last_used	timestamptz,
	UNIQUE (phrase, playbook_id)
);

CREATE TABLE playbook_suggestions (
	id		bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT now(),
	task_id		bigint REFERENCES tasks (id),
	run_id		bigint REFERENCES runs (id),
	playbook	text NOT NULL,
	source		text NOT NULL DEFAULT 'ansible-lint'
			CHECK (source IN ('ansible-lint', 'idempotency')),
	category	text NOT NULL CHECK (category IN ('idempotency',
			'error_handling', 'performance', 'best_practices',
			'standards')),
	rule		text NOT NULL,
	severity	text NOT NULL CHECK (severity IN ('info', 'minor',
			'major', 'critical', 'blocker')),
	reason		text NOT NULL,
	file		text,
	line		integer CHECK (line >= 0)
);
CREATE INDEX playbook_suggestions_playbook_idx ON playbook_suggestions
	(playbook, at DESC);
CREATE INDEX playbook_suggestions_task_idx ON playbook_suggestions (task_id);

-- ------------------------------------------------------------------------
-- Audit: the tamper-evident log and the git trail
-- ------------------------------------------------------------------------

CREATE TABLE audit_log (
	id		bigint PRIMARY KEY,
	at		timestamptz NOT NULL DEFAULT clock_timestamp(),
	actor		text NOT NULL,
	kind		text NOT NULL,
	request_id	bigint,
	plan_id		bigint,
	task_id		bigint,
	run_id		bigint,
	service		text,
	data		jsonb NOT NULL DEFAULT '{}',
	prev_hash	text,
	hash		text NOT NULL
);
-- Ids come only from this sequence, and only under the chain lock (see
-- chiffon_audit_log_chain), so id order is chain order without gaps.
CREATE SEQUENCE audit_log_id_seq AS bigint OWNED BY audit_log.id;
CREATE INDEX audit_log_at_idx ON audit_log (at DESC, id DESC);
CREATE INDEX audit_log_service_idx ON audit_log (service, id DESC)
	WHERE service IS NOT NULL;
CREATE INDEX audit_log_task_idx ON audit_log (task_id, id)
	WHERE task_id IS NOT NULL;
CREATE INDEX audit_log_kind_idx ON audit_log (kind, id DESC);

-- The hash of one row: SHA-256 (hex) of a JSON array of its columns in a
-- fixed order, time in UTC with microseconds, ending with prev_hash.
-- `chiffon audit verify` recomputes it for every row.
CREATE FUNCTION chiffon_audit_hash(a audit_log) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT encode(sha256(convert_to(jsonb_build_array(
	    a.id,
	    to_char(a.at AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS.US"Z"'),
	    a.actor, a.kind, a.request_id, a.plan_id, a.task_id, a.run_id,
	    a.service, a.data, a.prev_hash)::text, 'UTF8')), 'hex')
$$;

-- Chain each new row to the previous one.  The advisory lock, held to the
-- end of the inserting transaction, serialises writers; the id is taken
-- only under the lock so id order is chain order (a supplied id is
-- ignored).
CREATE FUNCTION chiffon_audit_log_chain() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('chiffon_audit_log'));
	NEW.id := nextval('audit_log_id_seq');
	SELECT hash INTO NEW.prev_hash FROM audit_log
	    ORDER BY id DESC LIMIT 1;
	NEW.hash := chiffon_audit_hash(NEW);
	RETURN NEW;
END;
$$;
CREATE TRIGGER audit_log_chain BEFORE INSERT ON audit_log
	FOR EACH ROW EXECUTE FUNCTION chiffon_audit_log_chain();

CREATE FUNCTION chiffon_audit_log_refuse() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
	    USING ERRCODE = 'insufficient_privilege';
END;
$$;
CREATE TRIGGER audit_log_append_only BEFORE UPDATE OR DELETE ON audit_log
	FOR EACH ROW EXECUTE FUNCTION chiffon_audit_log_refuse();
CREATE TRIGGER audit_log_no_truncate BEFORE TRUNCATE ON audit_log
	FOR EACH STATEMENT EXECUTE FUNCTION chiffon_audit_log_refuse();

-- One git entry per finished task (.audit/tasks/<id>.json); rows with
-- committed_at NULL are retried at the next start.
CREATE TABLE audit_git (
	task_id		bigint PRIMARY KEY REFERENCES tasks (id),
	repo		text NOT NULL,
	path		text NOT NULL,
	content_sha256	text,
	commit_id	text,
	committed_at	timestamptz,
	attempts	integer NOT NULL DEFAULT 0 CHECK (attempts >= 0),
	last_error	text,
	updated_at	timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX audit_git_pending_idx ON audit_git (task_id)
	WHERE committed_at IS NULL;
