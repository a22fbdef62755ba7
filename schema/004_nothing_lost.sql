-- 004_nothing_lost.sql - output that is not completely stored, the owner
-- of a run, and fencing tokens for claims.
--
-- A run whose output lines or events could not all be stored when it
-- ended (the database refused them: disk full, server away) is finished
-- but 'incomplete': the status it ended with waits in pending_status, and
-- its rows wait in memory or in the spool under the data dir (see
-- chiffon(1), DURABLE OUTPUT).  Once every row is stored the run moves
-- incomplete -> pending_status; that is the only change a finished run
-- allows, and the guard checks that the stored rows really are all there.
-- A task whose run is incomplete is 'incomplete' too (not final) and
-- moves to its pending_status the same way.
--
-- runs.owner_host / owner_pid / owner_start name the process recording a
-- run (owner_start: its start time in clock ticks since boot, so a reused
-- pid is not mistaken for it); a run left 'running' by a process that no
-- longer exists is closed as 'interrupted' at the next start.
--
-- work_queue.claim_token is a fencing token: every claim takes a new value
-- from chiffon_claim_token_seq, and the holder's renewals, finish and
-- release name it, so a worker whose claim was taken over cannot write.

ALTER TABLE runs DROP CONSTRAINT runs_status_check;
ALTER TABLE runs ADD CONSTRAINT runs_status_check
	CHECK (status IN ('running', 'successful', 'failed', 'timeout',
	'canceled', 'interrupted', 'incomplete'));
ALTER TABLE runs ADD COLUMN pending_status text
	CHECK (pending_status IN ('successful', 'failed', 'timeout',
	'canceled', 'interrupted'));
ALTER TABLE runs ADD CONSTRAINT runs_pending_check
	CHECK ((status = 'incomplete') = (pending_status IS NOT NULL));
ALTER TABLE runs ADD COLUMN owner_host text;
ALTER TABLE runs ADD COLUMN owner_pid integer;
ALTER TABLE runs ADD COLUMN owner_start bigint;
ALTER TABLE runs ADD COLUMN claim_token bigint;
CREATE INDEX runs_open_idx ON runs (owner_host)
	WHERE status IN ('running', 'incomplete');

-- A finished run is a record; an incomplete one may only become complete.
CREATE OR REPLACE FUNCTION chiffon_runs_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	nlines	bigint;
	nevents	bigint;
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'run %: runs cannot be deleted', OLD.id
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF OLD.status = 'running' THEN
		RETURN NEW;
	END IF;
	IF OLD.status <> 'incomplete' OR NEW.status <> OLD.pending_status
	    OR NEW.pending_status IS NOT NULL
	    OR to_jsonb(NEW) - 'status' - 'pending_status' <>
	    to_jsonb(OLD) - 'status' - 'pending_status' THEN
		RAISE EXCEPTION 'run % is finished (%); it cannot be changed',
		    OLD.id, OLD.status USING ERRCODE = 'check_violation';
	END IF;
	SELECT count(*) INTO nlines FROM run_output
	    WHERE run_id = OLD.id AND run_started_at = OLD.started_at;
	SELECT count(*) INTO nevents FROM run_events
	    WHERE run_id = OLD.id AND run_started_at = OLD.started_at;
	IF nlines <> OLD.lines OR nevents <> OLD.events THEN
		RAISE EXCEPTION 'run % is incomplete: % of % lines and % of % '
		    'events are stored', OLD.id, nlines, OLD.lines, nevents,
		    OLD.events USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;

ALTER TABLE tasks DROP CONSTRAINT tasks_status_check;
ALTER TABLE tasks ADD CONSTRAINT tasks_status_check
	CHECK (status IN ('pending_approval', 'approved', 'queued',
	'running', 'succeeded', 'failed', 'canceled', 'timed_out', 'paused',
	'rejected', 'superseded', 'interrupted', 'incomplete'));
ALTER TABLE tasks ADD COLUMN pending_status text
	CHECK (pending_status IN ('succeeded', 'failed', 'canceled',
	'timed_out', 'interrupted'));

INSERT INTO task_transitions (from_status, to_status) VALUES
	('running', 'incomplete'),
	('incomplete', 'succeeded'),
	('incomplete', 'failed'),
	('incomplete', 'canceled'),
	('incomplete', 'timed_out'),
	('incomplete', 'interrupted');

CREATE SEQUENCE chiffon_claim_token_seq;
ALTER TABLE work_queue ADD COLUMN claim_token bigint;

-- Close a run left running by a process that is gone (or whose claim was
-- taken over) as interrupted, counting the rows it really stored.
CREATE FUNCTION chiffon_run_interrupt(run bigint) RETURNS boolean
LANGUAGE sql AS $$
	WITH c AS (
		UPDATE runs r SET status = 'interrupted',
		    finished_at = clock_timestamp(),
		    duration = clock_timestamp() - r.started_at,
		    lines = (SELECT count(*) FROM run_output o
			WHERE o.run_id = r.id
			AND o.run_started_at = r.started_at),
		    events = (SELECT count(*) FROM run_events e
			WHERE e.run_id = r.id
			AND e.run_started_at = r.started_at)
		WHERE r.id = run AND r.status = 'running'
		RETURNING 1)
	SELECT EXISTS (SELECT 1 FROM c)
$$;
