-- 013_run_abandon.sql - an incomplete run whose owner is gone and whose
-- missing rows are nowhere (not in the database, not in a spool file) is
-- closed as 'interrupted' with the lines and events really stored; what
-- never arrived is counted in lines_lost and events_lost, so the record
-- says how much of the output is missing instead of waiting for it
-- forever.  Those columns are NULL for every other run.
ALTER TABLE runs ADD COLUMN lines_lost bigint CHECK (lines_lost >= 0),
	ADD COLUMN events_lost bigint CHECK (events_lost >= 0);

-- The guard of schema 004/010, plus that one move: incomplete ->
-- interrupted with lines/events set to what is stored and the rest
-- counted as lost; nothing else of the row changes.
CREATE OR REPLACE FUNCTION chiffon_runs_guard() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	nlines	bigint;
	nevents	bigint;
	fixed	text[] := ARRAY['status', 'pending_status', 'output_sha256',
	    'output_rows'];
BEGIN
	IF TG_OP = 'DELETE' THEN
		RAISE EXCEPTION 'run %: runs cannot be deleted', OLD.id
		    USING ERRCODE = 'insufficient_privilege';
	END IF;
	IF OLD.status = 'running' THEN
		RETURN NEW;
	END IF;
	SELECT count(*) INTO nlines FROM run_output
	    WHERE run_id = OLD.id AND run_started_at = OLD.started_at;
	SELECT count(*) INTO nevents FROM run_events
	    WHERE run_id = OLD.id AND run_started_at = OLD.started_at;
	IF OLD.status = 'incomplete' AND NEW.status = 'interrupted'
	    AND NEW.pending_status IS NULL AND NEW.lines_lost IS NOT NULL
	    AND NEW.events_lost IS NOT NULL THEN
		IF NEW.lines <> nlines OR NEW.events <> nevents
		    OR NEW.lines + NEW.lines_lost <> OLD.lines
		    OR NEW.events + NEW.events_lost <> OLD.events
		    OR to_jsonb(NEW) - fixed - 'lines' - 'events' - 'lines_lost'
		    - 'events_lost' <> to_jsonb(OLD) - fixed - 'lines'
		    - 'events' - 'lines_lost' - 'events_lost' THEN
			RAISE EXCEPTION 'run %: closing it as interrupted '
			    'must count exactly the % lines and % events '
			    'stored', OLD.id, nlines, nevents
			    USING ERRCODE = 'check_violation';
		END IF;
		RETURN NEW;
	END IF;
	IF OLD.status <> 'incomplete' OR NEW.status <> OLD.pending_status
	    OR NEW.pending_status IS NOT NULL
	    OR to_jsonb(NEW) - fixed <> to_jsonb(OLD) - fixed THEN
		RAISE EXCEPTION 'run % is finished (%); it cannot be changed',
		    OLD.id, OLD.status USING ERRCODE = 'check_violation';
	END IF;
	IF nlines <> OLD.lines OR nevents <> OLD.events THEN
		RAISE EXCEPTION 'run % is incomplete: % of % lines and % of % '
		    'events are stored', OLD.id, nlines, OLD.lines, nevents,
		    OLD.events USING ERRCODE = 'check_violation';
	END IF;
	RETURN NEW;
END;
$$;

-- Close incomplete run as interrupted, counting what is stored and what
-- is lost; the lines lost when it did, else NULL.  The caller knows its
-- owner is gone and no spool of it is left.
CREATE FUNCTION chiffon_run_abandon(run bigint) RETURNS bigint
LANGUAGE sql AS $$
	WITH s AS (
		SELECT (SELECT count(*) FROM run_output o
			WHERE o.run_id = r.id
			AND o.run_started_at = r.started_at) AS nl,
		    (SELECT count(*) FROM run_events e
			WHERE e.run_id = r.id
			AND e.run_started_at = r.started_at) AS ne
		FROM runs r WHERE r.id = run AND r.status = 'incomplete'),
	c AS (
		UPDATE runs r SET status = 'interrupted',
		    pending_status = NULL,
		    lines_lost = greatest(r.lines - s.nl, 0),
		    events_lost = greatest(r.events - s.ne, 0),
		    lines = s.nl, events = s.ne
		FROM s WHERE r.id = run AND r.status = 'incomplete'
		RETURNING r.lines_lost)
	SELECT (SELECT lines_lost FROM c)
$$;
