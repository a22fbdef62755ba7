-- 014_output_summary.sql - a run's output digest and row count from one
-- scan of its rows.  The runs_digest trigger (schema 005) took the digest,
-- then count(*) in a second scan, when a run finished: for a run of
-- 100,000 lines the two were a third of a second between the run's end
-- and the command's (issue 15).  The digest is unchanged (the same text
-- hashed the same way), so the digests of runs finished before stay
-- valid; chiffon_run_output_digest is now this function's first column.

-- The digest (as chiffon_run_output_digest, schema 005) and the number of
-- output rows of run p_run.
CREATE FUNCTION chiffon_run_output_summary(p_run bigint, OUT digest text,
    OUT nrows bigint)
LANGUAGE sql STABLE AS $$
	SELECT encode(sha256(coalesce(string_agg(c.h, ''::bytea
	    ORDER BY c.k), ''::bytea)), 'hex'), coalesce(sum(c.n), 0)::bigint
	FROM (SELECT (o.seq - 1) / 10000 AS k, sha256(convert_to(
	    string_agg(o.seq || E'\t' || o.stream || E'\t' || o.line ||
	    E'\n', '' ORDER BY o.seq), 'UTF8')) AS h, count(*) AS n
	    FROM run_output o WHERE o.run_id = p_run GROUP BY 1) c
$$;

CREATE OR REPLACE FUNCTION chiffon_run_output_digest(p_run bigint)
RETURNS text LANGUAGE sql STABLE AS $$
	SELECT s.digest FROM chiffon_run_output_summary(p_run) s
$$;

CREATE OR REPLACE FUNCTION chiffon_runs_digest() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	IF NEW.status <> 'running' AND
	    (NEW.status IS DISTINCT FROM OLD.status OR
	    NEW.lines IS DISTINCT FROM OLD.lines) THEN
		BEGIN
			SELECT s.digest, s.nrows INTO NEW.output_sha256,
			    NEW.output_rows
			    FROM chiffon_run_output_summary(NEW.id) s;
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
