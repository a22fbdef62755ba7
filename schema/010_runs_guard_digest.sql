-- 010_runs_guard_digest.sql - an incomplete run may become complete even
-- though the runs_digest trigger (schema 005, which fires first) sets its
-- output digest in the same update: the guard (schema 004) compares every
-- other column, and only those two besides status and pending_status may
-- change.
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
	    OR to_jsonb(NEW) - 'status' - 'pending_status' - 'output_sha256'
	    - 'output_rows' <> to_jsonb(OLD) - 'status' - 'pending_status'
	    - 'output_sha256' - 'output_rows' THEN
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
