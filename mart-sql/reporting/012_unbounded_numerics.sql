-- The mart stores the source's amounts, distances and multipliers as unbounded `numeric`, not with
-- the source's precision and scale: a source column widened later (`final_fare numeric(12,2) →
-- numeric(16,2)`, or `distance_km numeric(8,3) → numeric(12,4)`) then still fits, exactly, with no
-- mart migration and no replay. With bounded columns a widened value overflowed (SQLSTATE 22003)
-- or was rounded, and the mart differed from the source.
--
-- Views over these columns block ALTER ... TYPE: the ones that read them are saved (definition,
-- comment, readers), dropped, and re-created from what was saved, so 002_views.sql stays their one
-- definition.
DO $$
DECLARE
  dependent CONSTANT text[] := ARRAY['mart.driver_leaderboard', 'mart.recent_bookings'];
  saved jsonb := '[]';
  v text;
  r jsonb;
BEGIN
  FOREACH v IN ARRAY dependent LOOP
    saved := saved || jsonb_build_object(
      'name', v,
      'definition', pg_get_viewdef(v::regclass),
      'comment', obj_description(v::regclass, 'pg_class'),
      'reader', has_table_privilege('reporting_reader', v, 'SELECT'),
      'worker', has_table_privilege('ride_cdc_worker', v, 'SELECT'));
    EXECUTE format('DROP VIEW %s', v);
  END LOOP;

  ALTER TABLE mart.fact_booking
    ALTER COLUMN estimated_fare   TYPE numeric,
    ALTER COLUMN final_fare       TYPE numeric,
    ALTER COLUMN distance_km      TYPE numeric,
    ALTER COLUMN surge_multiplier TYPE numeric,
    ALTER COLUMN paid_amount      TYPE numeric,
    ALTER COLUMN platform_fee     TYPE numeric,
    ALTER COLUMN driver_earnings  TYPE numeric;
  ALTER TABLE mart.payment_state
    ALTER COLUMN amount          TYPE numeric,
    ALTER COLUMN platform_fee    TYPE numeric,
    ALTER COLUMN driver_earnings TYPE numeric;

  FOR r IN SELECT * FROM jsonb_array_elements(saved) LOOP
    EXECUTE format('CREATE VIEW %s AS %s', r->>'name', r->>'definition');
    IF r->>'comment' IS NOT NULL THEN
      EXECUTE format('COMMENT ON VIEW %s IS %L', r->>'name', r->>'comment');
    END IF;
    IF (r->>'reader')::boolean THEN
      EXECUTE format('GRANT SELECT ON %s TO reporting_reader', r->>'name');
    END IF;
    IF (r->>'worker')::boolean THEN
      EXECUTE format('GRANT SELECT ON %s TO ride_cdc_worker', r->>'name');
    END IF;
  END LOOP;
END $$;
