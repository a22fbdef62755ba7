-- 016_output_chunks.sql - a run's output stored in chunks of up to 1,000
-- consecutive lines per row (issue 15).  One row per line cost the
-- database a heap tuple and an index entry per line: 100,000 lines took
-- 0.6-0.8 s to store, longer than the whole run may take beyond plain
-- ansible-playbook (1.03x); the same lines as 200 rows took 0.12 s.
--
-- run_output_chunks holds the rows: the first line's seq, the number of
-- lines n, and the lines' streams, times and text as three arrays of n
-- elements (element i is line seq + i - 1).  run_output is now a view of
-- its lines with the columns the table had, so what read lines reads
-- them as before; chiffon_run_lines pages them by the chunks' index.
-- The lines already stored are moved into chunks here; nothing changes
-- in them (the output digests of schema 5/14 stay valid).

ALTER TABLE run_output RENAME TO run_output_v1;

CREATE TABLE run_output_chunks (
	run_id		bigint NOT NULL,
	seq		bigint NOT NULL CHECK (seq >= 1),
	run_started_at	timestamptz NOT NULL,
	n		integer NOT NULL CHECK (n BETWEEN 1 AND 1000),
	stream		smallint[] NOT NULL,
	at		timestamptz[] NOT NULL,
	line		text[] NOT NULL,
	CHECK (cardinality(stream) = n AND cardinality(at) = n
	    AND cardinality(line) = n),
	PRIMARY KEY (run_id, seq, run_started_at)
) PARTITION BY RANGE (run_started_at);
CREATE TABLE run_output_chunks_default PARTITION OF run_output_chunks
	DEFAULT;

CREATE VIEW run_output AS
	SELECT c.run_id, c.seq + l.i - 1 AS seq, c.run_started_at, l.stream,
	    l.at, l.line
	FROM run_output_chunks c
	CROSS JOIN LATERAL unnest(c.stream, c.at, c.line) WITH ORDINALITY
	    AS l(stream, at, line, i);

-- Store the lines of src (a table with run_output's columns) that are not
-- stored yet, in chunks of consecutive lines; a line twice in src is
-- stored once.  Used here for the lines of schema 1's table and by
-- runlog.c for a spool, which may hold lines whose commit was not
-- acknowledged.  The number of lines stored.
CREATE FUNCTION chiffon_output_store(src regclass) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
	stored	bigint;
BEGIN
	EXECUTE format($q$
	    WITH ins AS (INSERT INTO run_output_chunks (run_id, seq, run_started_at, n,
		stream, at, line)
	    SELECT run_id, min(seq), run_started_at, count(*)::integer,
		array_agg(stream ORDER BY seq), array_agg(at ORDER BY seq),
		array_agg(line ORDER BY seq)
	    FROM (SELECT s.*, (row_number() OVER (PARTITION BY s.run_id,
		    s.run_started_at, s.island ORDER BY s.seq) - 1) / 1000
		    AS part
		FROM (SELECT o.*, o.seq - row_number() OVER (PARTITION BY
			o.run_id, o.run_started_at ORDER BY o.seq) AS island
		    FROM (SELECT DISTINCT ON (run_id, run_started_at, seq) *
			FROM %s ORDER BY run_id, run_started_at, seq) o
		    WHERE NOT EXISTS (SELECT 1 FROM run_output_chunks c
			WHERE c.run_id = o.run_id
			AND c.run_started_at = o.run_started_at
			AND c.seq <= o.seq AND c.seq > o.seq - 1000
			AND c.seq + c.n > o.seq)) s) t
	    GROUP BY run_id, run_started_at, island, part RETURNING n)
	    SELECT coalesce(sum(n), 0) FROM ins$q$, src) INTO stored;
	RETURN stored;
END;
$$;

-- Lines of run p_run (p_started: its run_started_at, NULL to look it
-- up), by the chunks' index: forward (p_back false), the first p_limit
-- lines after seq p_from; backward, the last p_limit before it, newest
-- first.  Only lines at most p_upto (NULL: any) and, unless p_texts is
-- NULL, containing one of its strings.  A forward range of at most
-- 20,000 seqs is one query (a step of the host filter's count); else the
-- chunks are read one at a time until p_limit lines are found.
CREATE FUNCTION chiffon_run_lines(p_run bigint, p_started timestamptz,
    p_from bigint,
    p_upto bigint, p_limit integer, p_texts text[], p_back boolean,
    OUT seq bigint, OUT stream smallint, OUT at timestamptz, OUT line text)
RETURNS SETOF record LANGUAGE plpgsql STABLE AS $$
DECLARE
	started	timestamptz := p_started;
	c	record;
	want	integer := p_limit;
	got	integer;
	upto	bigint := coalesce(p_upto, 9223372036854775807);
BEGIN
	IF started IS NULL THEN
		SELECT r.started_at INTO started FROM runs r
		    WHERE r.id = p_run;
	END IF;
	IF started IS NULL OR want <= 0 THEN
		RETURN;
	END IF;
	IF NOT p_back AND upto - p_from <= 20000 THEN
		RETURN QUERY SELECT k.seq + u.i - 1, u.s, u.a, u.l
		    FROM run_output_chunks k CROSS JOIN LATERAL
			unnest(k.stream, k.at, k.line) WITH ORDINALITY
			AS u(s, a, l, i)
		    WHERE k.run_id = p_run AND k.run_started_at = started
		    AND k.seq > p_from - 1000 AND k.seq <= upto
		    AND k.seq + u.i - 1 > p_from AND k.seq + u.i - 1 <= upto
		    AND (p_texts IS NULL OR EXISTS (SELECT 1
			FROM unnest(p_texts) t(x) WHERE strpos(u.l, t.x) > 0))
		    ORDER BY 1 LIMIT want;
	ELSIF NOT p_back THEN
		FOR c IN SELECT k.seq, k.n, k.stream, k.at, k.line
		    FROM run_output_chunks k WHERE k.run_id = p_run
		    AND k.run_started_at = started AND k.seq > p_from - 1000
		    AND k.seq <= upto ORDER BY k.seq
		LOOP
			CONTINUE WHEN c.seq + c.n - 1 <= p_from;
			RETURN QUERY SELECT c.seq + u.i - 1, u.s, u.a, u.l
			    FROM unnest(c.stream, c.at, c.line)
				WITH ORDINALITY AS u(s, a, l, i)
			    WHERE c.seq + u.i - 1 > p_from
			    AND c.seq + u.i - 1 <= upto
			    AND (p_texts IS NULL OR EXISTS (SELECT 1
				FROM unnest(p_texts) t(x)
				WHERE strpos(u.l, t.x) > 0))
			    ORDER BY u.i LIMIT want;
			GET DIAGNOSTICS got = ROW_COUNT;
			want := want - got;
			EXIT WHEN want <= 0;
		END LOOP;
	ELSE
		FOR c IN SELECT k.seq, k.n, k.stream, k.at, k.line
		    FROM run_output_chunks k WHERE k.run_id = p_run
		    AND k.run_started_at = started AND k.seq < p_from
		    AND k.seq <= upto ORDER BY k.seq DESC
		LOOP
			RETURN QUERY SELECT c.seq + u.i - 1, u.s, u.a, u.l
			    FROM unnest(c.stream, c.at, c.line)
				WITH ORDINALITY AS u(s, a, l, i)
			    WHERE c.seq + u.i - 1 < p_from
			    AND c.seq + u.i - 1 <= upto
			    AND (p_texts IS NULL OR EXISTS (SELECT 1
				FROM unnest(p_texts) t(x)
				WHERE strpos(u.l, t.x) > 0))
			    ORDER BY u.i DESC LIMIT want;
			GET DIAGNOSTICS got = ROW_COUNT;
			want := want - got;
			EXIT WHEN want <= 0;
		END LOOP;
	END IF;
END;
$$;

-- The number of lines of run p_run stored (started: its run_started_at).
CREATE FUNCTION chiffon_run_lines_stored(p_run bigint, p_started timestamptz)
RETURNS bigint LANGUAGE sql STABLE AS $$
	SELECT coalesce(sum(c.n), 0)::bigint FROM run_output_chunks c
	WHERE c.run_id = p_run AND c.run_started_at = p_started
$$;

SELECT chiffon_output_store('run_output_v1');
DROP TABLE run_output_v1;

-- Lines are added, never changed: the view takes INSERT (one line a
-- chunk; chiffon itself copies whole chunks) and nothing else.
CREATE FUNCTION chiffon_run_output_insert() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
	INSERT INTO run_output_chunks (run_id, seq, run_started_at, n,
	    stream, at, line)
	VALUES (NEW.run_id, NEW.seq, NEW.run_started_at, 1,
	    ARRAY[NEW.stream], ARRAY[NEW.at], ARRAY[NEW.line]);
	RETURN NEW;
END;
$$;
CREATE TRIGGER run_output_insert INSTEAD OF INSERT ON run_output
	FOR EACH ROW EXECUTE FUNCTION chiffon_run_output_insert();

-- The runs_digest trigger of schema 15 counts the stored lines from the
-- chunks' n, not from the view's lines.
CREATE OR REPLACE FUNCTION chiffon_runs_digest() RETURNS trigger
LANGUAGE plpgsql AS $$
DECLARE
	n	bigint;
BEGIN
	IF NEW.status = 'running' OR (NEW.status IS NOT DISTINCT FROM
	    OLD.status AND NEW.lines IS NOT DISTINCT FROM OLD.lines) THEN
		RETURN NEW;
	END IF;
	IF OLD.status = 'running' AND NEW.output_sha256 IS NOT NULL THEN
		n := chiffon_run_lines_stored(NEW.id, NEW.started_at);
		IF n = NEW.lines THEN
			NEW.output_rows := n;
			RETURN NEW;
		END IF;
	END IF;
	BEGIN
		SELECT s.digest, s.nrows INTO NEW.output_sha256,
		    NEW.output_rows
		    FROM chiffon_run_output_summary(NEW.id) s;
	EXCEPTION WHEN OTHERS THEN
		RAISE WARNING 'run %: no output digest: %', NEW.id, SQLERRM;
		NEW.output_sha256 := NULL;
		NEW.output_rows := NULL;
	END;
	RETURN NEW;
END;
$$;

-- Partitions (schema 1) are now run_output_chunks's and run_events's;
-- the view has none.  Bodies as in schema 1 otherwise.
CREATE OR REPLACE FUNCTION chiffon_ensure_partitions(start timestamptz,
    months integer)
RETURNS integer LANGUAGE plpgsql SECURITY DEFINER AS $$
DECLARE
	parent	text;
	lo	timestamptz;
	hi	timestamptz;
	part	text;
	created	integer := 0;
	i	integer;
BEGIN
	PERFORM pg_advisory_xact_lock(hashtext('chiffon_ensure_partitions'));
	FOREACH parent IN ARRAY ARRAY['run_output_chunks', 'run_events'] LOOP
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

-- Whether chiffon_ensure_partitions(start, months) has nothing to do
-- (a start that finds the schema current and this true needs no owner).
CREATE FUNCTION chiffon_partitions_ready(start timestamptz, months integer)
RETURNS boolean LANGUAGE sql STABLE AS $$
	SELECT bool_and(to_regclass(format('%s_p%s', p.parent,
	    to_char(date_trunc('month', start AT TIME ZONE 'UTC')
	    + make_interval(months => i), 'YYYY_MM'))) IS NOT NULL)
	FROM unnest(ARRAY['run_output_chunks', 'run_events']) p(parent),
	    generate_series(0, months - 1) i
$$;

CREATE OR REPLACE FUNCTION chiffon_drop_partitions(before timestamptz)
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
		WHERE p.relname IN ('run_output_chunks', 'run_events')
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

-- The runtime role's rights (schema 5), now also on views: run_output
-- and run_output_chunks are append-only like the table was.
CREATE OR REPLACE FUNCTION chiffon_grant_runtime() RETURNS void
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
	    AND c.relkind IN ('r', 'p', 'v', 'S')
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
		    WHEN 'run_output_chunks' THEN 'SELECT, INSERT'
		    WHEN 'run_events' THEN 'SELECT, INSERT'
		    WHEN 'work_queue' THEN 'SELECT, UPDATE, DELETE'
		    WHEN 'tasks' THEN 'SELECT, INSERT, UPDATE'
		    WHEN 'runs' THEN 'SELECT, INSERT, UPDATE'
		    ELSE CASE WHEN r.relkind = 'v' THEN 'SELECT'
			ELSE 'SELECT, INSERT, UPDATE, DELETE' END END;
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
	FOR r IN SELECT p.oid::regprocedure AS f FROM pg_proc p
	    WHERE p.pronamespace = current_schema()::regnamespace
	    AND p.proname LIKE 'chiffon\_%' AND p.proconfig IS NULL
	LOOP
		EXECUTE format('ALTER FUNCTION %s SET search_path = %I, '
		    'pg_temp', r.f, current_schema());
	END LOOP;
END;
$$;
