-- Key columns compare as bytes ("C" collation), not by the database's locale: equality is the
-- same for every string (the collations are deterministic), but the B-tree inserts and look-ups of
-- every publish and read no longer call the locale's string comparison (strcoll) for each column
-- of each comparison. Nothing orders these columns for display.
ALTER TABLE partitions
    ALTER COLUMN tenant_id TYPE text COLLATE "C",
    ALTER COLUMN topic     TYPE text COLLATE "C";
ALTER TABLE events
    ALTER COLUMN tenant_id TYPE text COLLATE "C",
    ALTER COLUMN topic     TYPE text COLLATE "C",
    ALTER COLUMN id        TYPE text COLLATE "C";
ALTER TABLE dedup
    ALTER COLUMN tenant_id TYPE text COLLATE "C",
    ALTER COLUMN topic     TYPE text COLLATE "C",
    ALTER COLUMN id        TYPE text COLLATE "C";
