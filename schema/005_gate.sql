-- 005_gate.sql - the approval gate bound to content.
--
-- approvals.content: what an approval approved, per task: the SHA-256 of
-- the task's inputs (capability, action, playbook path, the playbook
-- file's SHA-256, inventory, limit, tags, skip-tags, extra vars, check
-- mode) as the approving chiffon saw them, and those inputs.  A worker
-- computes the hash again when it claims the task and refuses a task
-- whose hash differs (the task fails with "approval does not match: ..."
-- and a task.refused audit row).  See chiffon-schema(7).

ALTER TABLE approvals ADD COLUMN content jsonb;

-- A queued task refused at its claim never ran: it fails from queued.
INSERT INTO task_transitions (from_status, to_status) VALUES
	('queued', 'failed');

-- ------------------------------------------------------------------------
-- Two roles: the owner runs migrations and owns every object; chiffon
-- runs as a member of chiffon_runtime, which owns nothing, is not a
-- superuser, and reaches the transitions of the gate only through the
-- SECURITY DEFINER functions below.  audit_log, run_output and
-- run_events are append-only for it; approvals and work_queue rows are
-- only made by those functions.  The embedded cluster creates
-- chiffon_runtime as a login role (src/pgembed.c); on a shared server the
-- administrator creates it, or the owner may (CREATEROLE).
-- ------------------------------------------------------------------------

DO $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM pg_roles
	    WHERE rolname = 'chiffon_runtime') THEN
		CREATE ROLE chiffon_runtime NOLOGIN;
	END IF;
EXCEPTION
	WHEN duplicate_object OR unique_violation THEN
		NULL;	-- created meanwhile by a migration of another database
	WHEN insufficient_privilege THEN
		RAISE EXCEPTION 'role chiffon_runtime does not exist and % may '
		    'not create it', current_user
		    USING HINT = 'as a superuser: CREATE ROLE chiffon_runtime '
		    'NOLOGIN; GRANT chiffon_runtime TO <the role chiffon '
		    'connects as>; then run chiffon db migrate again';
END;
$$;

-- True when the current role may do what only the owner's functions do:
-- a superuser, or the owner of relation rel (inside a SECURITY DEFINER
-- function the current role is that owner).  rel is passed as an oid
-- (TG_RELID) so that no name lookup can be redirected by a temporary
-- table.
CREATE FUNCTION chiffon_privileged(rel oid) RETURNS boolean
LANGUAGE sql STABLE AS $$
	SELECT coalesce((SELECT r.rolsuper FROM pg_catalog.pg_roles r
	    WHERE r.rolname = current_user), false)
	    OR pg_catalog.pg_has_role(current_user, (SELECT c.relowner
	    FROM pg_catalog.pg_class c WHERE c.oid = rel), 'USAGE')
$$;

-- The gate's own rules for the runtime role, before tasks_transition's:
-- it never moves a task to approved or running, to queued only back from
-- running (a retry, a release), and never changes what a task runs.
CREATE FUNCTION chiffon_tasks_gate() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF chiffon_privileged(TG_RELID) THEN
		RETURN NEW;
	END IF;
	IF NEW.status IS DISTINCT FROM OLD.status AND
	    (NEW.status IN ('approved', 'running') OR
	    (NEW.status = 'queued' AND OLD.status <> 'running')) THEN
		RAISE EXCEPTION 'task %: role % may not move a task % -> % '
		    'itself; approving, queueing and claiming go through '
		    'chiffon_approve, chiffon_queue_task and chiffon_claim_task',
		    OLD.id, current_user, OLD.status, NEW.status
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF (NEW.plan_id, NEW.step, NEW.action, NEW.service, NEW.playbook,
	    NEW.targets, NEW.tags, NEW.extra_vars, NEW.check_mode,
	    NEW.depends_on, NEW.capability, NEW.resources)
	    IS DISTINCT FROM (OLD.plan_id, OLD.step, OLD.action, OLD.service,
	    OLD.playbook, OLD.targets, OLD.tags, OLD.extra_vars,
	    OLD.check_mode, OLD.depends_on, OLD.capability, OLD.resources) THEN
		RAISE EXCEPTION 'task %: role % may not change what a task runs',
		    OLD.id, current_user USING ERRCODE = 'insufficient_privilege';
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER tasks_gate BEFORE UPDATE ON tasks
	FOR EACH ROW EXECUTE FUNCTION chiffon_tasks_gate();

-- Decide on plans row p_plan (locked by the caller): the approvals row,
-- the plan's and its pending tasks' new status and the audit row
-- (kind plan.<decision>, p_data plus approval, version and row_id), all
-- or nothing.  The approvals row id.
CREATE FUNCTION chiffon_approve(p_plan bigint, p_decision text,
    p_by text, p_ssh_client text, p_reason text, p_content jsonb,
    p_actor text, p_data jsonb) RETURNS bigint
LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
	p	plans%ROWTYPE;
	a	bigint;
	svc	text;
BEGIN
	SELECT * INTO p FROM plans WHERE id = p_plan FOR UPDATE;
	IF NOT FOUND THEN
		RAISE EXCEPTION 'plan row % does not exist', p_plan
		    USING ERRCODE = 'foreign_key_violation';
	END IF;
	IF p_decision = 'approved' AND (p_content IS NULL OR
	    jsonb_typeof(p_content -> 'tasks') <> 'object') THEN
		RAISE EXCEPTION 'plan row %: an approval must record the '
		    'content hashes of its tasks', p_plan
		    USING ERRCODE = 'check_violation';
	END IF;
	INSERT INTO approvals (plan_id, decision, approved_by, ssh_client,
	    reason, content) VALUES (p_plan, p_decision, p_by, p_ssh_client,
	    p_reason, p_content) RETURNING id INTO a;
	UPDATE plans SET status = p_decision WHERE id = p_plan;
	UPDATE tasks SET status = p_decision, status_reason = p_reason
	    WHERE plan_id = p_plan AND status = 'pending_approval';
	SELECT string_agg(DISTINCT service, ',') INTO svc FROM tasks
	    WHERE plan_id = p_plan;
	INSERT INTO audit_log (actor, kind, request_id, plan_id, service, data)
	    VALUES (p_actor, 'plan.' || p_decision, p.request_id, p.plan_id,
	    svc, coalesce(p_data, '{}') || jsonb_build_object('approval', a,
	    'version', p.version, 'row_id', p_plan));
	RETURN a;
END;
$$;

-- Queue task p_task for p_capability: its work_queue row and status
-- queued.  p_again: a paused task coming back (its row may be there; the
-- workers are woken explicitly).  Only a task that an approval of its
-- plan covers (a task added to an approved plan afterwards is not).
CREATE FUNCTION chiffon_queue_task(p_task bigint, p_capability text,
    p_again boolean) RETURNS void
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
	IF NOT EXISTS (SELECT 1 FROM tasks t JOIN approvals a
	    ON a.plan_id = t.plan_id AND a.decision = 'approved'
	    WHERE t.id = p_task) THEN
		RAISE EXCEPTION 'task %: its plan has no approval; it cannot '
		    'be queued', p_task USING ERRCODE = 'check_violation';
	END IF;
	IF NOT EXISTS (SELECT 1 FROM tasks t JOIN approvals a
	    ON a.plan_id = t.plan_id AND a.decision = 'approved'
	    WHERE t.id = p_task AND a.content -> 'tasks' ? t.id::text) THEN
		RAISE EXCEPTION 'task %: no approval of its plan covers it; it '
		    'cannot be queued', p_task
		    USING ERRCODE = 'check_violation';
	END IF;
	IF p_again THEN
		INSERT INTO work_queue (task_id, capability, max_attempts)
		    VALUES (p_task, p_capability, 3)
		    ON CONFLICT (task_id) DO NOTHING;
	ELSE
		INSERT INTO work_queue (task_id, capability, max_attempts)
		    VALUES (p_task, p_capability, 3);
	END IF;
	UPDATE tasks SET status = 'queued', status_reason = NULL
	    WHERE id = p_task;
	IF p_again THEN
		PERFORM pg_notify('chiffon_work', p_capability);
	END IF;
END;
$$;

-- A worker claimed task p_task (its work_queue row is claimed): the
-- task moves queued -> running with its attempt number.  False when it
-- was not queued or its queue row is not claimed.
CREATE FUNCTION chiffon_claim_task(p_task bigint, p_attempts integer)
RETURNS boolean
LANGUAGE plpgsql SECURITY DEFINER AS $$
BEGIN
	UPDATE tasks SET status = 'running',
	    started_at = coalesce(started_at, now()), attempts = p_attempts,
	    status_reason = NULL
	    WHERE id = p_task AND status = 'queued' AND EXISTS (SELECT 1
	    FROM work_queue q WHERE q.task_id = p_task
	    AND q.claimed_by IS NOT NULL);
	RETURN FOUND;
END;
$$;

-- The audit chain draws its ids as the owner, so that the runtime role
-- needs no right on audit_log_id_seq (nextval would leave a gap).
ALTER FUNCTION chiffon_audit_log_chain() SECURITY DEFINER;
-- A month of partitions ahead at every start, whoever starts.
ALTER FUNCTION chiffon_ensure_partitions(timestamptz, integer)
	SECURITY DEFINER;

-- ------------------------------------------------------------------------
-- The output of a run is covered by a digest kept in its row (and in the
-- task's git entry), so rows changed, added or removed later are found by
-- chiffon audit verify.
-- ------------------------------------------------------------------------

ALTER TABLE runs ADD COLUMN output_sha256 text,
	ADD COLUMN output_rows bigint;

-- The digest of a run's output rows: the rows in seq order are cut into
-- chunks of 10000 by seq (1-10000, 10001-20000, ...); each chunk's
-- SHA-256 is taken over its rows, each as "seq<TAB>stream<TAB>line"
-- and a newline; the digest is the hex SHA-256 of the chunks' raw
-- SHA-256s in order.  Chunks keep the memory bounded for long runs.
CREATE FUNCTION chiffon_run_output_digest(p_run bigint) RETURNS text
LANGUAGE sql STABLE AS $$
	SELECT encode(sha256(coalesce(string_agg(c.h, ''::bytea
	    ORDER BY c.k), ''::bytea)), 'hex')
	FROM (SELECT (o.seq - 1) / 10000 AS k, sha256(convert_to(
	    string_agg(o.seq || E'\t' || o.stream || E'\t' || o.line ||
	    E'\n', '' ORDER BY o.seq), 'UTF8')) AS h
	    FROM run_output o WHERE o.run_id = p_run GROUP BY 1) c
$$;

-- Whenever a finished run's status or line count changes (it finished,
-- or a later state says its output is now complete), its digest and row
-- count are taken from the rows stored at that moment.  A digest that
-- cannot be computed leaves them NULL (the run is then not covered)
-- rather than keep the run from finishing.
CREATE FUNCTION chiffon_runs_digest() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status <> 'running' AND
	    (NEW.status IS DISTINCT FROM OLD.status OR
	    NEW.lines IS DISTINCT FROM OLD.lines) THEN
		BEGIN
			NEW.output_sha256 := chiffon_run_output_digest(NEW.id);
			SELECT count(*) INTO NEW.output_rows FROM run_output o
			    WHERE o.run_id = NEW.id;
		EXCEPTION WHEN OTHERS THEN
			RAISE WARNING 'run %: no output digest: %', NEW.id,
			    SQLERRM;
			NEW.output_sha256 := NULL;
			NEW.output_rows := NULL;
		END;
	END IF;
	RETURN NEW;
END;
$$;
CREATE TRIGGER runs_digest BEFORE UPDATE ON runs
	FOR EACH ROW EXECUTE FUNCTION chiffon_runs_digest();

-- Apply the runtime role's rights.  Tables not named here (including
-- those of later migrations, since chiffon calls this after migrating)
-- get SELECT, INSERT, UPDATE and DELETE; the named ones exactly what is
-- listed.  Sequences: USAGE, except the audit chain's.  Functions:
-- EXECUTE only on those listed (SECURITY DEFINER ones are revoked from
-- PUBLIC); every chiffon function gets a fixed search_path.  Idempotent;
-- run by the owner after every migration (src/migrate.c).
CREATE FUNCTION chiffon_grant_runtime() RETURNS void
LANGUAGE plpgsql AS $$
DECLARE
	r	record;
	rights	text;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('chiffon_grant_runtime'));
	EXECUTE format('GRANT USAGE ON SCHEMA %I TO chiffon_runtime',
	    current_schema());
	FOR r IN SELECT c.relname, c.relkind FROM pg_class c
	    WHERE c.relnamespace = current_schema()::regnamespace
	    AND c.relkind IN ('r', 'p', 'S')
	    AND NOT c.relispartition
	LOOP
		IF r.relkind = 'S' THEN
			EXECUTE format('REVOKE ALL ON SEQUENCE %I FROM '
			    'chiffon_runtime', r.relname);
			IF r.relname <> 'audit_log_id_seq' THEN
				EXECUTE format('GRANT USAGE ON SEQUENCE %I TO '
				    'chiffon_runtime', r.relname);
			END IF;
			CONTINUE;
		END IF;
		rights := CASE r.relname
		    WHEN 'schema_migrations' THEN 'SELECT'
		    WHEN 'task_transitions' THEN 'SELECT'
		    WHEN 'approvals' THEN 'SELECT'
		    WHEN 'audit_log' THEN 'SELECT, INSERT'
		    WHEN 'run_output' THEN 'SELECT, INSERT'
		    WHEN 'run_events' THEN 'SELECT, INSERT'
		    WHEN 'work_queue' THEN 'SELECT, UPDATE, DELETE'
		    WHEN 'tasks' THEN 'SELECT, INSERT, UPDATE'
		    WHEN 'runs' THEN 'SELECT, INSERT, UPDATE'
		    ELSE 'SELECT, INSERT, UPDATE, DELETE' END;
		EXECUTE format('REVOKE ALL ON TABLE %I FROM chiffon_runtime',
		    r.relname);
		EXECUTE format('GRANT %s ON TABLE %I TO chiffon_runtime',
		    rights, r.relname);
	END LOOP;
	FOR r IN SELECT p.oid::regprocedure AS f, p.proname
	    FROM pg_proc p WHERE p.pronamespace = current_schema()::regnamespace
	    AND p.proname LIKE 'chiffon\_%' AND p.prosecdef
	LOOP
		EXECUTE format('REVOKE ALL ON FUNCTION %s FROM PUBLIC', r.f);
		IF r.proname IN ('chiffon_approve', 'chiffon_queue_task',
		    'chiffon_claim_task', 'chiffon_ensure_partitions') THEN
			EXECUTE format('GRANT EXECUTE ON FUNCTION %s TO '
			    'chiffon_runtime', r.f);
		END IF;
	END LOOP;
	REVOKE ALL ON FUNCTION chiffon_drop_partitions(timestamptz) FROM PUBLIC;
	REVOKE ALL ON FUNCTION chiffon_grant_runtime() FROM PUBLIC;
	-- No chiffon function resolves a name through a schema the caller
	-- controls (a temporary table cannot stand in for task_transitions).
	FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
	    WHERE p.pronamespace = current_schema()::regnamespace
	    AND p.proname LIKE 'chiffon\_%' AND p.proconfig IS NULL
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = %I, '
		    'pg_temp', r.f, current_schema());
	END LOOP;
END;
$$;

SELECT chiffon_grant_runtime();
